/**
 * Epoch histories: for each epoch with entries in a log, the index where its run starts (KIP-101's
 * leader-epoch cache). They rest on Raft's Log Matching property, which the protocol maintains: if two logs
 * hold an entry with the same (epoch, index), they are identical up to that index. Two consequences make
 * histories sufficient to compare logs:
 * - an epoch's run starts at the same index in every log that holds it (the master of that epoch appended
 *   its first entry right after a prefix every holder shares);
 * - the indexes where two logs agree form a prefix.
 */
import type { EpochStart } from './types.js';

/** Last index of run i of a history whose log ends at `last`. */
function runEnd(history: readonly EpochStart[], i: number, last: number): number {
  const next = history[i + 1];
  return next === undefined ? last : next.start - 1;
}

/** The epoch of the entry at `index` (0 for index 0), or undefined past `last`. */
export function epochAt(history: readonly EpochStart[], last: number, index: number): number | undefined {
  if (index === 0) return 0;
  if (index < 0 || index > last) return undefined;
  // Histories are short (one run per election that wrote); scan from the newest, where lookups cluster.
  for (let i = history.length - 1; i >= 0; i--) {
    const run = history[i]!;
    if (run.start <= index) return run.epoch;
  }
  return undefined;
}

/**
 * The longest common prefix of two logs, given their histories and last indexes. `bLast` may be Infinity
 * for a master's log seen by a slave: the master's own epoch run only ever grows, so every entry of that
 * epoch the slave holds is one the master holds.
 */
export function commonPrefix(
  a: readonly EpochStart[],
  aLast: number,
  b: readonly EpochStart[],
  bLast: number,
): number {
  let agreed = 0;
  for (let i = 0; i < a.length && i < b.length; i++) {
    const ra = a[i]!;
    const rb = b[i]!;
    // Different epochs, or the same epoch starting elsewhere (impossible by Log Matching, but then the
    // runs are not the same entries): the logs diverge at this run's start.
    if (ra.epoch !== rb.epoch || ra.start !== rb.start) break;
    const endA = runEnd(a, i, aLast);
    const endB = runEnd(b, i, bLast);
    agreed = Math.min(endA, endB);
    // One log moves on to another epoch (or ends) where the other continues this one: diverged.
    if (endA !== endB) break;
  }
  return agreed;
}

/** The history extended by an entry of `epoch` at `index` (a new run when the epoch changes). */
export function extendHistory(history: EpochStart[], epoch: number, index: number): void {
  const lastRun = history[history.length - 1];
  if (lastRun === undefined || lastRun.epoch !== epoch) history.push({ epoch, start: index });
}

/** The history cut after index `after`: runs that start later are dropped. */
export function truncateHistory(history: EpochStart[], after: number): void {
  while (history.length > 0 && history[history.length - 1]!.start > after) history.pop();
}

/** A copy of the history of the prefix through `through`. */
export function historyThrough(history: readonly EpochStart[], through: number): EpochStart[] {
  return history.filter((run) => run.start <= through);
}
