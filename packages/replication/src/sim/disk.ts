/**
 * SimDisk: one node's store as two images, what the process has written (the OS page cache) and what is
 * fsynced, with the writes in between kept in order.
 *
 * Faults it injects: a kill (SIGKILL) loses the process but not the page cache, so the node restarts from
 * what it wrote; a power loss also drops every write since the last fsync (as a whole suffix: the store's
 * batches land in order), so the node restarts from what it fsynced and learns that it lost writes.
 *
 * Why the core survives these: it asks for an fsync wherever its sync mode promises durability (the master's
 * entries in *_disk modes, a slave's before a durable ACK, the hard state always) and counts only what the
 * shell confirmed; a node that lost acknowledged-but-unsynced writes restarts `recovering` and takes no
 * part in elections until it has caught up (see HardState.recovering).
 *
 * The image keeps compacted entries too (a real store keeps only their effect on the state): the simulated
 * shell needs them to produce snapshots, and the checker to compare whole logs.
 */
import assert from 'node:assert/strict';
import type { RestoredNode } from '../core/node.js';
import type { EpochStart, HardState, LogPosition, Persist, PersistOp, ReplicatedEntry } from '../core/types.js';
import { ZERO_POSITION } from '../core/types.js';

/** What one image of the disk holds. */
export interface DiskImage {
  hard: HardState;
  /** Every entry, compacted or not: entries[i] has index i + 1. */
  entries: ReplicatedEntry[];
  base: LogPosition;
  baseHistory: readonly EpochStart[];
}

/** How a machine stops. */
export type CrashKind = 'kill' | 'power';

/** Entries per snapshot chunk. */
export const SNAPSHOT_CHUNK_ENTRIES = 4;

function emptyImage(): DiskImage {
  return { hard: { epoch: 0, promised: 0, recovering: false }, entries: [], base: ZERO_POSITION, baseHistory: [] };
}

function applyOp(img: DiskImage, op: PersistOp): void {
  switch (op.kind) {
    case 'hard-state':
      img.hard = op.state;
      return;
    case 'append':
      for (const e of op.entries) {
        assert.equal(e.index, img.entries.length + 1, 'disk: appends must be dense');
        img.entries.push(e);
      }
      return;
    case 'truncate':
      assert(op.after >= img.base.index, 'disk: truncation into the compacted base');
      if (op.after < img.entries.length) img.entries.length = op.after;
      return;
    case 'install': {
      const entries = (op.snapshot.chunks as ReplicatedEntry[][]).flat();
      assert.equal(entries.length, op.snapshot.through.index, 'disk: snapshot must cover its whole prefix');
      img.entries = entries;
      img.base = op.snapshot.through;
      img.baseHistory = op.snapshot.history;
      return;
    }
    case 'reset':
      img.entries = [];
      img.base = ZERO_POSITION;
      img.baseHistory = [];
      return;
    case 'compact':
      assert(op.through.index <= img.entries.length, 'disk: compaction past the end');
      img.base = op.through;
      img.baseHistory = op.history;
      return;
  }
}

/** One node's disk; see the file comment. */
export class SimDisk {
  private written: DiskImage = emptyImage();
  private durable: DiskImage = emptyImage();
  private unsynced: PersistOp[] = [];
  /** Lowest index whose entry was removed or replaced since the last `takeRewrite()` (Infinity: none). */
  private rewrittenFrom = Infinity;
  fsyncs = 0;

  /** Writes a Ready's ops, then fsyncs if it says so. */
  write(persist: Persist): void {
    for (const op of persist.ops) {
      if (op.kind === 'truncate') this.rewrittenFrom = Math.min(this.rewrittenFrom, op.after + 1);
      if (op.kind === 'install' || op.kind === 'reset') this.rewrittenFrom = 1;
      applyOp(this.written, op);
      this.unsynced.push(op);
    }
    if (persist.sync) this.fsync();
  }

  fsync(): void {
    this.fsyncs++;
    for (const op of this.unsynced) applyOp(this.durable, op);
    this.unsynced = [];
  }

  /**
   * The machine stops. Returns whether acknowledged data may have been lost (appended or installed
   * entries that were never fsynced).
   */
  crash(kind: CrashKind): boolean {
    if (kind === 'kill') return false;
    const lost = this.unsynced.some((op) => op.kind === 'append' || op.kind === 'install');
    this.written = { ...this.durable, entries: this.durable.entries.slice() };
    this.unsynced = [];
    this.rewrittenFrom = 1;
    return lost;
  }

  /** Whether a power loss now would lose entries. */
  get hasUnsyncedEntries(): boolean {
    return this.unsynced.some((op) => op.kind === 'append' || op.kind === 'install');
  }

  /** What a restarted process reads back. */
  restore(lostWrites: boolean): RestoredNode {
    const w = this.written;
    return {
      hard: w.hard,
      log: { base: w.base, baseHistory: w.baseHistory, entries: w.entries.slice(w.base.index) },
      lostWrites,
    };
  }

  /** The node's whole log as written (for the checker; do not mutate). */
  get entries(): readonly ReplicatedEntry[] {
    return this.written.entries;
  }

  get hard(): HardState {
    return this.written.hard;
  }

  /** Position of the last written entry. */
  get last(): LogPosition {
    const e = this.written.entries[this.written.entries.length - 1];
    return e === undefined ? ZERO_POSITION : { epoch: e.epoch, index: e.index };
  }

  /** The state as of now, cut into chunks, for a snapshot (a LevelDB snapshot iterator in the real shell). */
  readSnapshot(): { through: LogPosition; chunks: ReplicatedEntry[][] } {
    const entries = this.written.entries;
    const chunks: ReplicatedEntry[][] = [];
    for (let i = 0; i < entries.length; i += SNAPSHOT_CHUNK_ENTRIES) chunks.push(entries.slice(i, i + SNAPSHOT_CHUNK_ENTRIES));
    return { through: this.last, chunks };
  }

  /** Lowest index rewritten since the last call, then forgets it. */
  takeRewrite(): number {
    const r = this.rewrittenFrom;
    this.rewrittenFrom = Infinity;
    return r;
  }
}
