/**
 * The vocabulary of the replication core: log positions and entries, the sync modes, what the coordinator
 * (ZooKeeper) tells a node and what a node asks of it, the messages peers exchange, the events a node
 * steps on and the Ready it hands back. Plain data only: everything here crosses the pure core's boundary,
 * so the IO shell (and the simulation, which is a shell too) can log, encode and replay it.
 */

/** A broker's name within its replication group (ActiveMQ's `brokerName` + node id). */
export type NodeId = string;
/** The shell's handle for one client write (e.g. the SEND whose receipt waits on it). */
export type WriteId = string;

/**
 * Where a log ends, or where one entry sits: the epoch of the master that created the entry and its dense
 * index. Positions order by epoch first, then index: unlike ActiveMQ's raw byte offsets, a long log from an
 * old epoch never outranks a shorter log that holds a newer master's writes.
 */
export interface LogPosition {
  readonly epoch: number;
  readonly index: number;
}

/** The position of an empty log: no epoch, no entry. */
export const ZERO_POSITION: LogPosition = Object.freeze({ epoch: 0, index: 0 });

/** Orders positions by (epoch, index); negative when a < b. */
export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.index - b.index;
}

/** Renders a position as `(epoch,index)`, the form status lines and scenario scripts use. */
export function formatPosition(p: LogPosition): string {
  return `(${p.epoch},${p.index})`;
}

/**
 * One replicated state change. `payload` is opaque to the core (the broker's store LogEntry in the real
 * shell, a write id in the simulation); only the master of `epoch` ever creates an entry of that epoch.
 */
export interface ReplicatedEntry {
  readonly epoch: number;
  readonly index: number;
  readonly payload: unknown;
}

/**
 * First index of one epoch's run of entries in a log. A log's epoch history (one of these per epoch that
 * has entries, ascending) is enough to find where two logs diverge without shipping the entries: the
 * leader-epoch idea of Kafka's KIP-101, kept across compaction so it also covers snapshotted prefixes.
 */
export interface EpochStart {
  readonly epoch: number;
  readonly start: number;
}

/**
 * Where a write must be before it completes, with ActiveMQ's names and meanings ([ActiveMQ replicatedLevelDB:
 * sync]); see sync-mode.ts for the rule each one stands for.
 */
export type SyncMode = 'local_mem' | 'local_disk' | 'remote_mem' | 'remote_disk' | 'quorum_mem' | 'quorum_disk';

/** The durable part of a node's state besides its log, written (and always fsynced) before it is acted on. */
export interface HardState {
  /** Highest epoch this node has seen (elected record, peer message or its own mastership); never decreases. */
  readonly epoch: number;
  /**
   * Highest epoch whose election this node has reported its position for. It rejects every entry,
   * truncation or snapshot from a master of this epoch or older: see ReplicaNode's class comment.
   */
  readonly promised: number;
  /**
   * The node lost writes it had acknowledged (it restarted after a power loss dropped un-fsynced data).
   * Until it has caught up with a master it takes no part in elections: its position would understate what
   * it once confirmed.
   */
  readonly recovering: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Coordinator (ZooKeeper) view and requests

/** One registered member of the group: the data of an ephemeral-sequential znode under `zkPath`. */
export interface MemberRecord extends MemberData {
  /** The sequence number ZooKeeper gave the znode: a later registration of the same id has a larger one. */
  readonly seq: number;
}

/** What a node publishes about itself in its member znode. */
export interface MemberData {
  readonly id: NodeId;
  /** Where slaves dial this node's replication port (`hostname` + `bind` port). */
  readonly address: string;
  /** Tie-break between equal positions; higher wins (ActiveMQ's `weight`, default 1). */
  readonly weight: number;
  /** The node's log position, reported for the election of `forEpoch`; null while it follows or serves. */
  readonly position: LogPosition | null;
  /** The elected epoch the node knew when it reported `position`; only reports for the current one count. */
  readonly forEpoch: number;
  /** See HardState.recovering: such a member is connected but cannot be elected nor counted for a quorum. */
  readonly recovering: boolean;
  /**
   * The member reports while the elected record still names it: it is a master that was fenced, or one
   * that crashed and came back before its old session expired. The others are preferred when they alone
   * are a quorum (see election.ts), so that a deposed master rejoins as a slave.
   */
  readonly yielding?: boolean;
}

/** The elected record: the current epoch and its master, with the znode version a CAS is checked against. */
export interface ElectedRecord {
  readonly epoch: number;
  readonly masterId: NodeId | null;
  readonly version: number;
}

/** ZooKeeper session state as the node last heard it. An expired session's ephemeral znodes are gone. */
export type SessionState = 'connected' | 'expired';

/** Everything ZooKeeper tells one node, delivered whole on every watch (a shell reads, then re-watches). */
export interface CoordinatorView {
  readonly session: SessionState;
  readonly members: readonly MemberRecord[];
  readonly elected: ElectedRecord;
}

/** A request to the coordinator. The shell performs them in order, after the Ready's persist and send. */
export type CoordinatorRequest =
  /** Open a new session and create this node's ephemeral-sequential member znode with `data`. */
  | { readonly kind: 'register'; readonly data: MemberData }
  /** Set the data of this node's member znode (of its current session). */
  | { readonly kind: 'publish'; readonly data: MemberData }
  /**
   * Set the elected record to (epoch, masterId) only if its version is still `expectedVersion`; the outcome
   * comes back as a `cas-result` event.
   */
  | {
    readonly kind: 'cas-elected';
    readonly epoch: number;
    readonly masterId: NodeId;
    readonly expectedVersion: number;
  };

// ---------------------------------------------------------------------------------------------------------
// Peer messages (slave → master: LOGIN, SYNC, ACK; master → slave: APPEND, TRUNCATE, SNAPSHOT_*; either: REJECT)

/** A slave presents the group's shared secret before anything else ([ActiveMQ replicatedLevelDB: securityToken]). */
export interface LoginMessage {
  readonly type: 'LOGIN';
  readonly epoch: number;
  readonly securityToken: string;
}

/** A slave's position and epoch history, so the master can find their longest common prefix. */
export interface SyncMessage {
  readonly type: 'SYNC';
  /** The epoch of the master it is addressed to. */
  readonly epoch: number;
  readonly last: LogPosition;
  readonly history: readonly EpochStart[];
  /** The slave's last fsynced index: what the master may count as durably held without a new ACK. */
  readonly durableIndex: number;
}

/** Entries after (prevIndex, prevEpoch), which the slave must already hold (Raft's AppendEntries check). */
export interface AppendMessage {
  readonly type: 'APPEND';
  readonly epoch: number;
  readonly prevIndex: number;
  readonly prevEpoch: number;
  readonly entries: readonly ReplicatedEntry[];
  readonly commitIndex: number;
  /**
   * Every entry that may have completed anywhere lies at or below this index (the master's last index when
   * elected, or its commit index if higher). A recovering slave that holds it may take part in elections again.
   */
  readonly floor: number;
}

/** A slave's confirmation that its log matches the master's up to `index` (fsynced when `durable`). */
export interface AckMessage {
  readonly type: 'ACK';
  readonly epoch: number;
  readonly index: number;
  readonly durable: boolean;
}

/**
 * The master's epoch history: the slave drops whatever follows the longest prefix it shares with the
 * master's log. Idempotent and safe to reorder: it never removes an entry the master holds.
 */
export interface TruncateMessage {
  readonly type: 'TRUNCATE';
  readonly epoch: number;
  readonly history: readonly EpochStart[];
  /** The master's last index when sent; its own epoch's run is open-ended (it only grows). */
  readonly last: number;
}

/** Opens a snapshot transfer: the master's state up to `through`, in `chunks` pieces. */
export interface SnapshotStartMessage {
  readonly type: 'SNAPSHOT_START';
  readonly epoch: number;
  readonly id: number;
  readonly through: LogPosition;
  readonly history: readonly EpochStart[];
  readonly chunks: number;
}

/** One piece of a snapshot; `data` is opaque to the core (a batch of live keys in the real shell). */
export interface SnapshotChunkMessage {
  readonly type: 'SNAPSHOT_CHUNK';
  readonly epoch: number;
  readonly id: number;
  readonly seq: number;
  /** How many chunks the snapshot has (a chunk may overtake its SNAPSHOT_START). */
  readonly chunks: number;
  readonly data: unknown;
}

/** Closes a snapshot transfer; the slave installs it once it holds every chunk. */
export interface SnapshotEndMessage {
  readonly type: 'SNAPSHOT_END';
  readonly epoch: number;
  readonly id: number;
}

/** A refusal, with the refuser's highest known epoch so that a deposed master learns it at once. */
export interface RejectMessage {
  readonly type: 'REJECT';
  readonly epoch: number;
  readonly reason: string;
}

export type PeerMessage =
  | LoginMessage
  | SyncMessage
  | AppendMessage
  | AckMessage
  | TruncateMessage
  | SnapshotStartMessage
  | SnapshotChunkMessage
  | SnapshotEndMessage
  | RejectMessage;

/** A message for one peer. */
export interface Envelope {
  readonly to: NodeId;
  readonly message: PeerMessage;
}

// ---------------------------------------------------------------------------------------------------------
// Events in, Ready out

/** What a node steps on (ticks come through `tick()`). */
export type NodeEvent =
  | { readonly kind: 'coordinator'; readonly view: CoordinatorView }
  | { readonly kind: 'cas-result'; readonly ok: boolean }
  | { readonly kind: 'peer'; readonly from: NodeId; readonly message: PeerMessage }
  | { readonly kind: 'write'; readonly id: WriteId; readonly payload: unknown }
  /**
   * A peer's connection to this node opened (the shell's transport saw it log in) or closed: whatever was
   * in flight on the old one is gone, and the peer may have restarted. A master forgets what it knew of it
   * (no snapshot is read for a slave that is gone) and starts over from the LOGIN and SYNC that follow.
   */
  | { readonly kind: 'peer-link'; readonly peer: NodeId }
  /** The shell's answer to a `snapshotReads` request: its state as of `through`, cut into chunks. */
  | {
    readonly kind: 'snapshot-read';
    readonly id: number;
    readonly through: LogPosition;
    readonly chunks: readonly unknown[];
  };

/** A snapshot to install in place of the whole log: state through `through`, no entries after it. */
export interface SnapshotInstall {
  readonly through: LogPosition;
  readonly history: readonly EpochStart[];
  readonly chunks: readonly unknown[];
}

/** One change to durable state, applied in order. */
export type PersistOp =
  | { readonly kind: 'hard-state'; readonly state: HardState }
  | { readonly kind: 'append'; readonly entries: readonly ReplicatedEntry[] }
  /** Delete every entry with index > after. */
  | { readonly kind: 'truncate'; readonly after: number }
  | { readonly kind: 'install'; readonly snapshot: SnapshotInstall }
  /** Delete the whole log and state: the node starts again from nothing and gets a snapshot. */
  | { readonly kind: 'reset' }
  /**
   * Entries through `through` are folded into the state and need no longer be kept as log entries; the
   * history through that point is kept so that the prefix can still be compared after a restart.
   */
  | { readonly kind: 'compact'; readonly through: LogPosition; readonly history: readonly EpochStart[] };

/** What the shell writes for one Ready. */
export interface Persist {
  readonly ops: readonly PersistOp[];
  /** fsync after writing `ops` (and before anything else in the Ready). */
  readonly sync: boolean;
}

/** A role the shell must act on: `master` opens client ports, `slave` keeps them closed, `fenced` closes all. */
export interface RoleChange {
  readonly role: 'master' | 'slave' | 'fenced';
  readonly epoch: number;
  /** The master followed (for `slave`), this node (for `master`), or null. */
  readonly masterId: NodeId | null;
  readonly reason: string;
}

/** A write that will never complete, with the stable code the shell reports it under (errors.ts). */
export interface FailedWrite {
  readonly id: WriteId;
  readonly code: 'REPL_FENCED' | 'REPL_NOT_MASTER';
}

/** The shell reads its state as of now and answers with a `snapshot-read` event carrying the same id. */
export interface SnapshotRead {
  readonly id: number;
  readonly peer: NodeId;
}

/**
 * What the shell must do with one batch, in this order (etcd raft's doc.go: persist before send):
 * 1. persist (fsync when asked); 2. send; 3. coordinator requests; 4. snapshot reads;
 * 5. complete (receipts) and fail writes; 6. act on the role. Then call `advance(ready)`.
 */
export interface Ready {
  readonly persist: Persist;
  readonly send: readonly Envelope[];
  readonly coordinator: readonly CoordinatorRequest[];
  readonly snapshotReads: readonly SnapshotRead[];
  readonly complete: readonly WriteId[];
  readonly fail: readonly FailedWrite[];
  readonly role: RoleChange | null;
}
