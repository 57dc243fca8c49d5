/**
 * ReplicaLog: the core's in-memory picture of its durable log, a compacted base (a snapshot position whose
 * state the shell holds) followed by a bounded tail of entries, and the epoch history of both. It mirrors
 * what the shell has written: every change here is also emitted as a PersistOp by the node.
 */
import assert from 'node:assert/strict';
import { epochAt, extendHistory, historyThrough, truncateHistory } from './history.js';
import type { EpochStart, LogPosition, ReplicatedEntry } from './types.js';
import { ZERO_POSITION } from './types.js';

/** What a node restarts from: its compacted base with that prefix's history, then the tail of entries. */
export interface LogImage {
  readonly base: LogPosition;
  readonly baseHistory: readonly EpochStart[];
  /** Entries with index base.index+1, base.index+2, … */
  readonly entries: readonly ReplicatedEntry[];
}

/** A log with a compacted base and a tail; see the file comment. */
export class ReplicaLog {
  private baseValue: LogPosition;
  private readonly tail: ReplicatedEntry[];
  private readonly epochs: EpochStart[];

  constructor(image: LogImage = { base: ZERO_POSITION, baseHistory: [], entries: [] }) {
    this.baseValue = image.base;
    this.epochs = image.baseHistory.map((r) => ({ ...r }));
    this.tail = [];
    for (const entry of image.entries) this.append(entry);
  }

  /** Position of the last compacted entry (ZERO_POSITION when nothing is compacted). */
  get base(): LogPosition {
    return this.baseValue;
  }

  /** Index of the oldest entry still held as an entry. */
  get firstIndex(): number {
    return this.baseValue.index + 1;
  }

  get lastIndex(): number {
    return this.baseValue.index + this.tail.length;
  }

  /** Position of the last entry (the base when the tail is empty). */
  get last(): LogPosition {
    const entry = this.tail[this.tail.length - 1];
    return entry === undefined ? this.baseValue : { epoch: entry.epoch, index: entry.index };
  }

  /** Entries held as entries (not compacted). */
  get tailLength(): number {
    return this.tail.length;
  }

  /** The epoch history, covering the base and the tail. */
  get history(): readonly EpochStart[] {
    return this.epochs;
  }

  /** Epoch of the entry at `index`, compacted or not; 0 for index 0, undefined past the end. */
  epochAt(index: number): number | undefined {
    return epochAt(this.epochs, this.lastIndex, index);
  }

  /** The entry at `index`, or undefined when compacted or past the end. */
  entry(index: number): ReplicatedEntry | undefined {
    return this.tail[index - this.firstIndex];
  }

  /** Up to `max` entries from `from` (which must not be compacted). */
  slice(from: number, max: number): ReplicatedEntry[] {
    assert(from >= this.firstIndex, `slice(${from}) reaches into the compacted base ${this.baseValue.index}`);
    const start = from - this.firstIndex;
    return this.tail.slice(start, start + max);
  }

  /** History of the prefix through `index`. */
  historyThrough(index: number): EpochStart[] {
    return historyThrough(this.epochs, index);
  }

  /** Appends one entry; indexes are dense and epochs never go down within a log. */
  append(entry: ReplicatedEntry): void {
    const last = this.last;
    assert.equal(entry.index, last.index + 1, `log index must be dense: ${entry.index} after ${last.index}`);
    assert(entry.epoch >= last.epoch, `entry epoch ${entry.epoch} after epoch ${last.epoch}`);
    this.tail.push(entry);
    extendHistory(this.epochs, entry.epoch, entry.index);
  }

  /** Drops every entry after `after`, which must not be inside the compacted base. */
  truncateAfter(after: number): void {
    assert(after >= this.baseValue.index, `truncate after ${after} reaches into the base ${this.baseValue.index}`);
    if (after >= this.lastIndex) return;
    this.tail.length = after - this.baseValue.index;
    truncateHistory(this.epochs, after);
  }

  /** Folds entries through `through` into the base; returns the new base, or null when nothing changed. */
  compact(through: number): LogPosition | null {
    if (through <= this.baseValue.index) return null;
    assert(through <= this.lastIndex, `compact through ${through} past the end ${this.lastIndex}`);
    const entry = this.entry(through)!;
    this.tail.splice(0, through - this.baseValue.index);
    this.baseValue = { epoch: entry.epoch, index: entry.index };
    return this.baseValue;
  }

  /** Replaces everything with a snapshot's base: no entries after it. */
  install(through: LogPosition, history: readonly EpochStart[]): void {
    this.baseValue = through;
    this.tail.length = 0;
    this.epochs.length = 0;
    for (const run of history) this.epochs.push({ ...run });
    assert.equal(this.epochAt(through.index), through.epoch, 'snapshot history must end in its own epoch');
  }

  /** Empties the log: position (0,0). */
  reset(): void {
    this.install(ZERO_POSITION, []);
  }
}
