/**
 * Mastership: one epoch of being master. It brings slaves to its log (longest common prefix from their
 * SYNC, TRUNCATE of the rest, entries from the retained tail or a snapshot before it), starts serving once
 * replicas/2 slaves hold everything it held when elected (ActiveMQ's "wait for a slave to catch up" in
 * MasterLevelDBStore.doStart), appends client writes and completes them when the sync mode's condition holds.
 *
 * It never removes an entry from its own log: a master's log only grows during its epoch, which is what
 * lets a slave treat every entry of the master's epoch as matching (see TRUNCATE).
 */
import { commonPrefix } from './history.js';
import { APPEND_ENTRIES_MAX } from './limits.js';
import type { NodeContext } from './context.js';
import { heardSince, heldThrough, newProgress, type Progress } from './progress.js';
import type { LogPosition, NodeId, PeerMessage, WriteId } from './types.js';

/** A write appended but not yet complete. */
interface PendingWrite {
  readonly id: WriteId;
  readonly index: number;
}

/** The master side of the protocol for one epoch; see the file comment. */
export class Mastership {
  readonly epoch: number;
  /** The last index when elected: slaves must hold it before the master serves. */
  readonly floor: number;
  readonly promotedAt: number;
  serving = false;
  private readonly ctx: NodeContext;
  private readonly progress = new Map<NodeId, Progress>();
  private pending: PendingWrite[] = [];
  private lastBeat: number;
  private lastCompleted = 0;
  private nextSnapshotId = 1;

  constructor(ctx: NodeContext, epoch: number) {
    this.ctx = ctx;
    this.epoch = epoch;
    this.floor = ctx.log.lastIndex;
    this.promotedAt = ctx.now;
    this.lastBeat = ctx.now;
  }

  /** Slaves this master is replicating to, for status pages and tests. */
  slaves(): readonly Progress[] {
    return [...this.progress.values()];
  }

  /** Appends a client write; false when not serving (the shell never opened its ports, or closed them). */
  write(id: WriteId, payload: unknown): boolean {
    if (!this.serving) return false;
    const { log, config } = this.ctx;
    const entry = { epoch: this.epoch, index: log.lastIndex + 1, payload };
    this.ctx.appendEntry(entry, config.sync.masterDisk);
    this.pending.push({ id, index: entry.index });
    // Pipeline to slaves that are in step; the others get it with their next APPEND or heartbeat.
    for (const p of this.progress.values()) if (p.state === 'replicate' && p.next === entry.index) this.sendAppend(p);
    return true;
  }

  /**
   * Handles a message from a peer. Returns a reason to fence when the message shows a newer epoch exists.
   */
  onPeer(from: NodeId, message: PeerMessage): string | null {
    if (message.epoch > this.epoch) {
      return `${from} knows epoch ${message.epoch}, newer than this master's ${this.epoch}`;
    }
    switch (message.type) {
      case 'LOGIN':
        this.onLogin(from, message.securityToken, message.epoch);
        return null;
      case 'SYNC':
        if (message.epoch === this.epoch) this.onSync(from, message.last, message.history, message.durableIndex);
        return null;
      case 'ACK':
        if (message.epoch === this.epoch) this.onAck(from, message.index, message.durable);
        return null;
      case 'REJECT':
        return null;
      case 'APPEND':
      case 'TRUNCATE':
      case 'SNAPSHOT_START':
      case 'SNAPSHOT_CHUNK':
      case 'SNAPSHOT_END':
        // An older master still talking: tell it which epoch it is living in, so it fences at once.
        this.ctx.out.message(from, { type: 'REJECT', epoch: this.epoch, reason: `${this.ctx.config.id} is master of epoch ${this.epoch}` });
        return null;
    }
  }

  /** The peer's connection opened or closed (NodeEvent 'peer-link'): its next LOGIN and SYNC say where it is. */
  forget(peer: NodeId): void {
    this.progress.delete(peer);
  }

  private onLogin(from: NodeId, token: string, epoch: number): void {
    if (token !== this.ctx.config.securityToken) {
      this.progress.delete(from);
      // [ActiveMQ replicatedLevelDB: securityToken] the master's answer on a mismatch.
      this.ctx.out.message(from, { type: 'REJECT', epoch: this.epoch, reason: 'Invalid security_token' });
      return;
    }
    // A LOGIN repeated (lost SYNC, duplicate) keeps what is known; the SYNC that follows re-probes anyway.
    if (epoch === this.epoch && !this.progress.has(from)) this.progress.set(from, newProgress(from, this.ctx.now));
  }

  private onSync(from: NodeId, last: LogPosition, history: readonly { epoch: number; start: number }[], durable: number): void {
    const p = this.progress.get(from);
    if (p === undefined) return; // not logged in: its LOGIN was lost; it sends both again
    const { log } = this.ctx;
    const k = commonPrefix(log.history, log.lastIndex, history, last.index);
    p.lastHeard = this.ctx.now;
    // A snapshot for this slave is being read, sent or installed: a SYNC meanwhile is the slave growing
    // impatient (it hears nothing while a large snapshot is read or installed), not news. Starting over
    // would never finish a snapshot that takes longer than the slave's patience; a lost one is retried
    // after snapshotRetryTicks.
    if (p.state === 'snapshot' && k < log.base.index && this.ctx.now - p.snapshotAt < this.ctx.config.ticks.snapshotRetryTicks) return;
    // A SYNC may be old (reordered); taking its word lowers what we count, which is always safe.
    p.match = k;
    p.durable = Math.min(k, durable);
    if (k < last.index) {
      this.ctx.out.message(from, { type: 'TRUNCATE', epoch: this.epoch, history: [...log.history], last: log.lastIndex });
    }
    this.startReplicating(p, k);
  }

  private startReplicating(p: Progress, matched: number): void {
    if (matched < this.ctx.log.base.index) {
      this.beginSnapshot(p);
      return;
    }
    p.state = 'replicate';
    p.next = matched + 1;
    this.sendAppend(p);
  }

  private beginSnapshot(p: Progress): void {
    p.state = 'snapshot';
    p.snapshotId = this.nextSnapshotId++;
    p.snapshotAt = this.ctx.now;
    p.snapshotThrough = 0;
    this.ctx.out.read({ id: p.snapshotId, peer: p.peer });
  }

  /** The shell's state as of `through`, for the slave whose snapshot read had this id. */
  onSnapshotRead(id: number, through: LogPosition, chunks: readonly unknown[]): void {
    const p = [...this.progress.values()].find((q) => q.state === 'snapshot' && q.snapshotId === id);
    if (p === undefined) return; // the slave moved on (re-synced, or was dropped)
    const { log, out } = this.ctx;
    if (through.index < log.base.index || log.epochAt(through.index) !== through.epoch) return; // not our log
    p.snapshotThrough = through.index;
    p.snapshotAt = this.ctx.now;
    const history = log.historyThrough(through.index);
    out.message(p.peer, { type: 'SNAPSHOT_START', epoch: this.epoch, id, through, history, chunks: chunks.length });
    const n = chunks.length;
    chunks.forEach((data, seq) => out.message(p.peer, { type: 'SNAPSHOT_CHUNK', epoch: this.epoch, id, seq, chunks: n, data }));
    out.message(p.peer, { type: 'SNAPSHOT_END', epoch: this.epoch, id });
  }

  private onAck(from: NodeId, index: number, durable: boolean): void {
    const p = this.progress.get(from);
    // An ACK while probing predates the SYNC we wait for (or the slave's restart): not evidence of anything.
    if (p === undefined || p.state === 'probe') return;
    if (index > this.ctx.log.lastIndex) return; // cannot match what we never had
    p.lastHeard = this.ctx.now;
    p.match = Math.max(p.match, index);
    if (durable) p.durable = Math.max(p.durable, index);
    if (p.state === 'snapshot') {
      if (p.snapshotThrough === 0 || index < p.snapshotThrough) return;
      p.state = 'replicate';
      p.next = p.match + 1;
      this.sendAppend(p);
      return;
    }
    if (p.next <= p.match) p.next = p.match + 1;
    if (p.next <= this.ctx.log.lastIndex) this.sendAppend(p);
  }

  private sendAppend(p: Progress): void {
    const { log, out } = this.ctx;
    if (p.next <= log.base.index) {
      this.beginSnapshot(p);
      return;
    }
    const prevIndex = p.next - 1;
    const entries = log.slice(p.next, APPEND_ENTRIES_MAX);
    out.message(p.peer, {
      type: 'APPEND',
      epoch: this.epoch,
      prevIndex,
      prevEpoch: log.epochAt(prevIndex)!,
      entries,
      commitIndex: this.ctx.commit,
      floor: Math.max(this.floor, this.ctx.commit),
    });
    p.next += entries.length;
  }

  /** Heartbeats, resends and the quorum check; returns a reason to fence, or null. */
  tick(): string | null {
    const { now, config } = this.ctx;
    if (now - this.lastBeat >= config.ticks.heartbeatTicks) {
      this.lastBeat = now;
      for (const p of this.progress.values()) {
        if (p.state === 'replicate') {
          // Go back to the first unacknowledged entry: whatever was lost since is sent again.
          p.next = p.match + 1;
          this.sendAppend(p);
        } else if (p.state === 'snapshot' && now - p.snapshotAt >= config.ticks.snapshotRetryTicks) {
          this.beginSnapshot(p);
        }
      }
    }
    const window = config.ticks.quorumTicks;
    if (config.sync.remote && config.slaveQuorum > 0 && now - this.promotedAt >= window) {
      const heard = heardSince(this.progress.values(), now - window);
      if (heard < config.slaveQuorum) {
        return `lost quorum: heard from ${heard} of the ${config.slaveQuorum} slaves needed within ${window} ticks`;
      }
    }
    return null;
  }

  /**
   * Recomputes what holds now: serving (the catch-up gate), completed writes and the commit index.
   * Returns true when the master just started serving.
   */
  update(): boolean {
    const { config, log } = this.ctx;
    const rule = config.sync;
    const local = rule.masterDisk ? this.ctx.durableIndex : this.ctx.writtenIndex;
    let started = false;
    if (!this.serving) {
      const needed = rule.remote ? config.slaveQuorum : 0;
      if (heldThrough(Number.MAX_SAFE_INTEGER, this.progress.values(), needed, rule.slaveDisk) >= this.floor) {
        this.serving = true;
        started = true;
      }
    }
    const done = heldThrough(local, this.progress.values(), rule.remote ? config.slaveQuorum : 0, rule.slaveDisk);
    if (this.pending.length > 0 && this.pending[0]!.index <= done) {
      let n = 0;
      while (n < this.pending.length && this.pending[n]!.index <= done) {
        const w = this.pending[n++]!;
        // Completions leave in log order: a later write never overtakes an earlier one.
        if (w.index <= this.lastCompleted) throw new Error(`write ${w.id} completes out of order`);
        this.lastCompleted = w.index;
        this.ctx.out.completed(w.id);
      }
      this.pending = this.pending.slice(n);
    }
    // Raft §5.4.2: only an entry of the master's own epoch is committed by counting holders; earlier ones
    // are committed with it. (A master's older entries may be on a quorum and still be overwritten.)
    const held = heldThrough(local, this.progress.values(), config.slaveQuorum, rule.slaveDisk);
    if (held > this.ctx.commit && log.epochAt(held) === this.epoch) this.ctx.commit = held;
    return started;
  }

  /** Writes that will never complete: the master is fenced. */
  abandon(): WriteId[] {
    const ids = this.pending.map((w) => w.id);
    this.pending = [];
    return ids;
  }
}
