/**
 * Checker: the invariants, checked after every step of a simulated run.
 * (a) No completed write is lost or reordered: in a mode that promises it (remote_* and quorum_*), every
 *     master of a later epoch holds each completed write at its index, from the moment it is elected
 *     (masters never drop entries, so that is where it must already be); and a master completes its writes
 *     in log order.
 * (b) Committed prefixes agree: the entry a node counts as committed at an index is the entry every other
 *     node counts as committed there.
 * (c) At most one master per epoch, and only it completes writes for that epoch.
 * (d) Epochs are monotonic per node, across restarts.
 * The first violation is kept, with the tick it happened at.
 */
import type { NodeId, ReplicatedEntry } from '../core/types.js';
import type { SyncRule } from '../core/sync-mode.js';

/** What the checker sees of a node after a step. */
export interface NodeSnapshot {
  readonly id: NodeId;
  readonly epoch: number;
  readonly commitIndex: number;
  /** The node's whole log as written (compacted entries included). */
  readonly entries: readonly ReplicatedEntry[];
  /** Lowest index rewritten (truncated, replaced) since the last check; Infinity when none. */
  readonly rewrittenFrom: number;
}

interface WriteRecord {
  readonly id: string;
  readonly node: NodeId;
  readonly epoch: number;
  readonly index: number;
}

function same(a: ReplicatedEntry | undefined, b: ReplicatedEntry | undefined): boolean {
  return a !== undefined && b !== undefined && a.epoch === b.epoch && a.index === b.index && a.payload === b.payload;
}

function show(e: ReplicatedEntry | undefined): string {
  return e === undefined ? 'nothing' : `${String(e.payload)}@(${e.epoch},${e.index})`;
}

/** Checks a run's invariants; see the file comment. */
export class Checker {
  violation: string | null = null;
  /** Whether completed writes are promised to survive in this run's sync mode. */
  readonly durableWrites: boolean;
  private now = 0;
  private readonly issued = new Map<string, WriteRecord>();
  private readonly completed: WriteRecord[] = [];
  private readonly promotions = new Map<number, { node: NodeId; entries: readonly ReplicatedEntry[] }>();
  private readonly completerOfEpoch = new Map<number, NodeId>();
  private readonly lastCompletedIndex = new Map<number, number>();
  private readonly committed: ReplicatedEntry[] = [];
  private readonly verified = new Map<NodeId, number>();
  private readonly epochOf = new Map<NodeId, number>();
  completedCount = 0;

  constructor(rule: SyncRule) {
    this.durableWrites = rule.remote;
  }

  /** The current tick, for messages. */
  at(now: number): void {
    this.now = now;
  }

  private fail(message: string): void {
    if (this.violation === null) this.violation = `tick ${this.now}: ${message}`;
  }

  /** A master accepted a write at (epoch, index). */
  onWrite(node: NodeId, id: string, epoch: number, index: number): void {
    this.issued.set(id, { id, node, epoch, index });
  }

  /** A master completed a write (its receipt would go out now). */
  onComplete(node: NodeId, id: string): void {
    const w = this.issued.get(id);
    if (w === undefined) return this.fail(`${node} completed ${id}, which was never accepted`);
    if (w.node !== node) return this.fail(`${node} completed ${id}, accepted by ${w.node}`);
    this.completedCount++;
    const completer = this.completerOfEpoch.get(w.epoch);
    if (completer !== undefined && completer !== node) {
      return this.fail(`(c) ${node} and ${completer} both completed writes for epoch ${w.epoch}`);
    }
    this.completerOfEpoch.set(w.epoch, node);
    const before = this.lastCompletedIndex.get(w.epoch) ?? 0;
    if (w.index <= before) return this.fail(`(a) ${id} at index ${w.index} completed after index ${before}: reordered`);
    this.lastCompletedIndex.set(w.epoch, w.index);
    this.completed.push(w);
    if (!this.durableWrites) return;
    for (const [epoch, p] of this.promotions) {
      if (epoch > w.epoch) this.checkHeld(w, epoch, p.node, p.entries);
    }
  }

  /** A node became master of `epoch` holding `entries`. */
  onPromotion(node: NodeId, epoch: number, entries: readonly ReplicatedEntry[]): void {
    const earlier = this.promotions.get(epoch);
    if (earlier !== undefined) return this.fail(`(c) ${node} and ${earlier.node} were both elected master of epoch ${epoch}`);
    this.promotions.set(epoch, { node, entries });
    if (!this.durableWrites) return;
    for (const w of this.completed) if (w.epoch < epoch) this.checkHeld(w, epoch, node, entries);
  }

  private checkHeld(w: WriteRecord, epoch: number, node: NodeId, entries: readonly ReplicatedEntry[]): void {
    const e = entries[w.index - 1];
    if (e === undefined || e.epoch !== w.epoch || e.payload !== w.id) {
      this.fail(
        `(a) completed write ${w.id}@(${w.epoch},${w.index}) is lost: ${node}, master of epoch ${epoch}, ` +
          `holds ${show(e)} there`,
      );
    }
  }

  /** After every step: (b) and (d) for every running node. */
  afterStep(nodes: readonly NodeSnapshot[]): void {
    for (const n of nodes) {
      const before = this.epochOf.get(n.id) ?? 0;
      if (n.epoch < before) this.fail(`(d) ${n.id}'s epoch went from ${before} down to ${n.epoch}`);
      this.epochOf.set(n.id, n.epoch);
      let from = Math.min(this.verified.get(n.id) ?? 0, n.rewrittenFrom - 1);
      if (n.commitIndex > n.entries.length) {
        this.fail(`${n.id} counts index ${n.commitIndex} committed but holds only ${n.entries.length} entries`);
        continue;
      }
      for (let i = from + 1; i <= n.commitIndex; i++) {
        const mine = n.entries[i - 1];
        const agreed = this.committed[i - 1];
        if (agreed === undefined) {
          if (i - 1 === this.committed.length) this.committed.push(mine!);
          continue;
        }
        if (!same(mine, agreed)) {
          this.fail(`(b) ${n.id} commits ${show(mine)} at index ${i} where ${show(agreed)} was committed`);
          break;
        }
      }
      from = Math.max(from, n.commitIndex);
      this.verified.set(n.id, from);
    }
  }

  /** A node restarted: its commit knowledge starts over (its epoch must not). */
  onRestart(node: NodeId): void {
    this.verified.set(node, 0);
  }
}
