/**
 * Outbox: what a node has decided since its last Ready, kept in decision order and handed over whole by
 * `drain()`. Adjacent appends are merged so that a burst of writes is one op (and one group commit).
 */
import type {
  CoordinatorRequest,
  Envelope,
  FailedWrite,
  NodeId,
  PeerMessage,
  PersistOp,
  Ready,
  ReplicatedEntry,
  RoleChange,
  SnapshotRead,
  WriteId,
} from './types.js';

/** Buffers one Ready; see the file comment. */
export class Outbox {
  private ops: PersistOp[] = [];
  private pendingAppend: ReplicatedEntry[] | null = null;
  private syncNeeded = false;
  private send: Envelope[] = [];
  private coordinator: CoordinatorRequest[] = [];
  private reads: SnapshotRead[] = [];
  private complete: WriteId[] = [];
  private fail: FailedWrite[] = [];
  private role: RoleChange | null = null;

  /** Anything to hand over. */
  get isEmpty(): boolean {
    return (
      this.ops.length === 0 &&
      !this.syncNeeded &&
      this.send.length === 0 &&
      this.coordinator.length === 0 &&
      this.reads.length === 0 &&
      this.complete.length === 0 &&
      this.fail.length === 0 &&
      this.role === null
    );
  }

  persist(op: PersistOp, sync: boolean): void {
    this.pendingAppend = null;
    this.ops.push(op);
    this.syncNeeded ||= sync;
  }

  append(entry: ReplicatedEntry, sync: boolean): void {
    if (this.pendingAppend === null) {
      this.pendingAppend = [];
      this.ops.push({ kind: 'append', entries: this.pendingAppend });
    }
    this.pendingAppend.push(entry);
    this.syncNeeded ||= sync;
  }

  /** Ask for an fsync of everything written so far, with no new op (a durable ACK of entries held unsynced). */
  sync(): void {
    this.syncNeeded = true;
  }

  message(to: NodeId, message: PeerMessage): void {
    this.send.push({ to, message });
  }

  request(request: CoordinatorRequest): void {
    this.coordinator.push(request);
  }

  read(read: SnapshotRead): void {
    this.reads.push(read);
  }

  completed(id: WriteId): void {
    this.complete.push(id);
  }

  failed(write: FailedWrite): void {
    this.fail.push(write);
  }

  /** The latest role decided wins: the shell acts on where the node ends up. */
  setRole(role: RoleChange): void {
    this.role = role;
  }

  drain(): Ready {
    const ready: Ready = {
      persist: { ops: this.ops, sync: this.syncNeeded },
      send: this.send,
      coordinator: this.coordinator,
      snapshotReads: this.reads,
      complete: this.complete,
      fail: this.fail,
      role: this.role,
    };
    this.ops = [];
    this.pendingAppend = null;
    this.syncNeeded = false;
    this.send = [];
    this.coordinator = [];
    this.reads = [];
    this.complete = [];
    this.fail = [];
    this.role = null;
    return ready;
  }
}
