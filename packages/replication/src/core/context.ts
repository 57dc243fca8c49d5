/**
 * NodeContext: the state a node's roles share (its log, hard state, tick count, commit and persistence
 * indexes, outbox) and the only place they change. Every change to the log or the hard state is paired
 * here with the PersistOp that makes the shell do the same, so the core's picture and the disk cannot drift.
 */
import assert from 'node:assert/strict';
import type { ElectionFlaws } from './election.js';
import type { TickLimits } from './limits.js';
import { ReplicaLog, type LogImage } from './log.js';
import { Outbox } from './outbox.js';
import type { SyncRule } from './sync-mode.js';
import type { HardState, LogPosition, NodeId, Ready, ReplicatedEntry, SnapshotInstall } from './types.js';

/** Test-only weakenings of the protocol, to prove that the simulation's checker catches each one. */
export interface NodeFlaws extends ElectionFlaws {
  /** Keep following (and accepting entries from) the old master after reporting a position. */
  readonly acceptAppendsAfterReport?: boolean;
}

/** A node's settings after validation (see config.ts). */
export interface ResolvedConfig {
  readonly id: NodeId;
  readonly address: string;
  readonly weight: number;
  readonly replicas: number;
  /** replicas/2+1 */
  readonly quorum: number;
  /** replicas/2: slaves a quorum needs besides the master. */
  readonly slaveQuorum: number;
  readonly sync: SyncRule;
  readonly securityToken: string;
  readonly logTailEntries: number;
  readonly ticks: TickLimits;
  readonly flaws: NodeFlaws;
}

/** Shared state of one node; see the file comment. */
export class NodeContext {
  readonly config: ResolvedConfig;
  readonly log: ReplicaLog;
  readonly out = new Outbox();
  /** Ticks since this process started. */
  now = 0;
  /** Highest index known to be held by a quorum in this node's current log (Raft's commitIndex). */
  commit = 0;
  /** The log as written by the shell (all Readies advanced so far): last index, and fsynced through. */
  writtenIndex: number;
  durableIndex = 0;
  private hardValue: HardState;

  constructor(config: ResolvedConfig, hard: HardState, image: LogImage) {
    this.config = config;
    this.hardValue = hard;
    this.log = new ReplicaLog(image);
    this.writtenIndex = this.log.lastIndex;
    // Conservative on both counts. What a restarted process finds on disk may not have been fsynced (a
    // killed process leaves the page cache behind), so nothing counts as durable until its first fsync.
    // And the base may come from a snapshot of a master's whole state, beyond what was committed, so
    // nothing counts as committed until a master says so.
  }

  get hard(): HardState {
    return this.hardValue;
  }

  /** Changes the hard state; it is persisted and fsynced before anything of the same Ready is acted on. */
  setHard(patch: Partial<HardState>): void {
    const next = { ...this.hardValue, ...patch };
    assert(next.epoch >= this.hardValue.epoch, `epoch must not go down: ${this.hardValue.epoch} → ${next.epoch}`);
    assert(next.promised >= this.hardValue.promised, 'a promise is never taken back');
    const h = this.hardValue;
    if (next.epoch === h.epoch && next.promised === h.promised && next.recovering === h.recovering) return;
    this.hardValue = next;
    this.out.persist({ kind: 'hard-state', state: next }, true);
  }

  /** Raises the known epoch; true when it went up. */
  learnEpoch(epoch: number): boolean {
    if (epoch <= this.hardValue.epoch) return false;
    this.setHard({ epoch });
    return true;
  }

  appendEntry(entry: ReplicatedEntry, sync: boolean): void {
    this.log.append(entry);
    this.out.append(entry, sync);
  }

  truncateAfter(after: number, sync: boolean): void {
    if (after >= this.log.lastIndex) return;
    assert(after >= this.commit || this.config.flaws.acceptAppendsAfterReport || this.config.flaws.electByIndexOnly,
      `truncating after ${after} would drop committed entries (commit ${this.commit})`);
    this.log.truncateAfter(after);
    this.out.persist({ kind: 'truncate', after }, sync);
  }

  install(snapshot: SnapshotInstall, sync: boolean): void {
    this.log.install(snapshot.through, snapshot.history);
    this.commit = Math.min(this.commit, snapshot.through.index);
    this.out.persist({ kind: 'install', snapshot }, sync);
  }

  /** Forgets the whole log: used when even the compacted base disagrees with the master. */
  reset(sync: boolean): void {
    this.log.reset();
    this.commit = 0;
    this.out.persist({ kind: 'reset' }, sync);
    // An emptied node no longer holds what it may have acknowledged: like one that lost writes, it takes no
    // part in elections until it has caught up with a master. Otherwise two emptied members could elect
    // one of themselves and lose the whole log.
    this.setHard({ recovering: true });
  }

  /** Folds committed entries beyond the retained tail into the base (ActiveMQ keeps a bounded log too). */
  compactIfDue(): void {
    const through = Math.min(this.commit, this.writtenIndex, this.log.lastIndex - this.config.logTailEntries);
    // In steps of a sixteenth of the tail: dropping the oldest entry on every commit would move the whole
    // tail each time (an array's front), quadratic in the tail under load. Keeping a few more is harmless.
    const step = Math.max(1, Math.floor(this.config.logTailEntries / 16));
    if (through - this.log.base.index < step) return;
    const base = this.log.compact(through)!;
    this.out.persist({ kind: 'compact', through: base, history: this.log.historyThrough(through) }, false);
  }

  /** Accounts for a Ready the shell has acted on: what is now written, and fsynced. */
  advance(ready: Ready): void {
    let written = this.writtenIndex;
    let durable = this.durableIndex;
    for (const op of ready.persist.ops) {
      switch (op.kind) {
        case 'append':
          written = op.entries[op.entries.length - 1]!.index;
          break;
        case 'truncate':
          written = Math.min(written, op.after);
          durable = Math.min(durable, op.after);
          break;
        case 'install':
          written = op.snapshot.through.index;
          durable = 0;
          break;
        case 'reset':
          written = 0;
          durable = 0;
          break;
        case 'hard-state':
        case 'compact':
          break;
      }
    }
    this.writtenIndex = written;
    this.durableIndex = ready.persist.sync ? written : Math.min(durable, written);
  }

  /** The node's log position. */
  get last(): LogPosition {
    return this.log.last;
  }
}
