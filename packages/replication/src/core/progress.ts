/**
 * What a master knows of each slave (etcd raft's Progress, reduced): how far its log is known to match,
 * how much of that it has fsynced, where to send next and when it was last heard from; plus the counting
 * that turns those into "held by the master and k slaves".
 */
import type { NodeId } from './types.js';

/** Where a slave stands with its master. */
export type ProgressState =
  /** Logged in; the master waits for its SYNC to learn where their logs diverge. */
  | 'probe'
  /** Too far behind the retained tail: a snapshot is being read or sent. */
  | 'snapshot'
  /** Receiving entries. */
  | 'replicate';

/** One slave's progress. */
export interface Progress {
  readonly peer: NodeId;
  state: ProgressState;
  /** The slave's log is known to equal the master's through this index. */
  match: number;
  /** …and to be fsynced through this index. */
  durable: number;
  /** The next index to send. */
  next: number;
  /** Tick of the last message from this slave. */
  lastHeard: number;
  /** The snapshot in flight (state 'snapshot'): its id, and the tick it was requested or sent. */
  snapshotId: number;
  snapshotAt: number;
  /** Index the snapshot covers, once read. */
  snapshotThrough: number;
}

/** A fresh progress for a slave that just logged in. */
export function newProgress(peer: NodeId, now: number): Progress {
  return { peer, state: 'probe', match: 0, durable: 0, next: 1, lastHeard: now, snapshotId: 0, snapshotAt: now, snapshotThrough: 0 };
}

/**
 * The highest index held by the master (through `local`) and at least `slaves` slaves (each through
 * `durable` or `match`, as `slaveDisk` says). With `slaves` = 0 it is just `local`; -1 when fewer than
 * `slaves` slaves have reported their position at all.
 */
export function heldThrough(
  local: number,
  progress: Iterable<Progress>,
  slaves: number,
  slaveDisk: boolean,
): number {
  if (slaves === 0) return local;
  const held: number[] = [];
  // A slave still probing has not told us where its log stands: it holds nothing we know of.
  for (const p of progress) if (p.state !== 'probe') held.push(slaveDisk ? p.durable : p.match);
  if (held.length < slaves) return -1;
  held.sort((a, b) => b - a);
  return Math.min(local, held[slaves - 1]!);
}

/** Slaves heard from at or after tick `since`. */
export function heardSince(progress: Iterable<Progress>, since: number): number {
  let n = 0;
  for (const p of progress) if (p.lastHeard >= since) n++;
  return n;
}
