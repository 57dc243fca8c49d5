/**
 * The core's bounds, in ticks (the shell calls `tick()` every TICK_MS; the core never reads a clock) and in
 * entries. Each has its reason; all can be overridden per node (ReplicaConfig.ticks), which the simulation
 * uses to vary timing by seed.
 */
import assert from 'node:assert/strict';

/** What the shell's tick interval is meant to be; the core only counts ticks. */
export const TICK_MS = 100;

/** The bounds a node counts against; see each default for its reason. */
export interface TickLimits {
  /** A master sends every slave an APPEND (new entries, a resend, or an empty heartbeat) this often. */
  readonly heartbeatTicks: number;
  /**
   * A master in a remote/quorum mode that has heard from fewer than replicas/2 slaves within this many
   * ticks fences itself: it could not complete a write anyway, and a partition may be electing another.
   */
  readonly quorumTicks: number;
  /** A slave that has heard nothing from its master for this long sends LOGIN and SYNC again. */
  readonly syncRetryTicks: number;
  /** A master resends a snapshot not acknowledged within this many ticks (a chunk may have been lost). */
  readonly snapshotRetryTicks: number;
}

/** Two ticks (200 ms): frequent enough that a lost APPEND costs little, rare enough to batch. */
export const HEARTBEAT_TICKS = 2;
/**
 * Ten ticks (1 s), half the default 2 s zkSessionTimeout: a master cut off from its slaves stops
 * acknowledging before ZooKeeper would expire its session and others elect.
 */
export const QUORUM_TICKS = 10;
/** Four ticks: two heartbeats missed. */
export const SYNC_RETRY_TICKS = 4;
/** Eight ticks: long enough for a snapshot of the tail size to arrive, short enough to retry a lost one. */
export const SNAPSHOT_RETRY_TICKS = 8;

assert(HEARTBEAT_TICKS < SYNC_RETRY_TICKS, 'a slave must not give up on a master between two heartbeats');
assert(SYNC_RETRY_TICKS < QUORUM_TICKS, 'a slave must retry before its master fences for want of it');

/** The defaults as one object. */
export const DEFAULT_TICKS: TickLimits = Object.freeze({
  heartbeatTicks: HEARTBEAT_TICKS,
  quorumTicks: QUORUM_TICKS,
  syncRetryTicks: SYNC_RETRY_TICKS,
  snapshotRetryTicks: SNAPSHOT_RETRY_TICKS,
});

/** Entries per APPEND: bounds one message; a slave far behind gets several. */
export const APPEND_ENTRIES_MAX = 64;

/**
 * Log entries kept for slaves to catch up from, the default of ReplicaConfig.logTailEntries (the store's
 * LOG_TAIL_ENTRIES_MAX: 100k entries, 2–5 s of traffic). A slave further behind gets a snapshot.
 */
export const LOG_TAIL_ENTRIES_DEFAULT = 100_000;
