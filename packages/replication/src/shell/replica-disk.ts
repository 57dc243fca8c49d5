/**
 * ReplicaDisk: how one group member keeps its replication state in its broker's LevelStore, and how the
 * core's PersistOps become LevelDB writes. It is the "state machine" half of the textbook split (Raft §5.3):
 *
 * - The **raw log**: entries the core holds but that are not yet applied, one key per index, with the hard
 *   state, in a LevelStore of its own (`<dataDir>/replication-log`, aux space only). An entry is the payload
 *   of one broker `append` call (a LogEntry[]: a SEND with its producer window, a COMMIT, an ACK). Its own
 *   store, so that the small writes the protocol waits for never queue behind the state's large ones.
 * - The **applied state**: the broker's ordinary key spaces in the member's LevelStore (messages, live
 *   index, durable subscriptions, producer windows), holding the effect of every entry through the *applied
 *   position*, which is written in the same LevelDB batch as the entries it covers. Raw entries at or below
 *   it are deleted afterwards and ignored until then, so a crash leaves each entry applied exactly once.
 * - A **generation** number, bumped by every snapshot install or reset and kept with the applied position,
 *   is part of each raw entry's key: raw entries of an older generation (left by a crash mid-install) are
 *   never mistaken for the entries that follow the new state.
 *
 * Entries are applied only once committed (held by a quorum, which the core guarantees is never truncated),
 * so the applied state of a member never has to be undone. The one exception is a master in a local_* mode,
 * which applies what it completed without waiting for slaves (that is the mode's promise, and its documented
 * loss window); should a later master not share that suffix, the core sees the applied base disagree and has
 * this member start again from a snapshot (PersistOp `reset`).
 *
 * Aux key layout (keys below are without the aux space's 0x06 prefix):
 * | store | key                          | value (msgpackr)                                           |
 * |-------|------------------------------|------------------------------------------------------------|
 * | state | 'a'                          | Applied {epoch, index, history, generation}                 |
 * | log   | 'h'                          | HardState {epoch, promised, recovering}                     |
 * | log   | 'b'                          | the boot id of the machine that last wrote here             |
 * | log   | 'e' + u32 gen + u64 index    | RawEntry {epoch, payload}: a held, not yet applied entry    |
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Packr } from 'msgpackr';
import type { AuxOp, LevelStore, LogEntry, RecoveredState } from '@mini-amq/store';
import { extendHistory } from '../core/history.js';
import type { RestoredNode } from '../core/node.js';
import type { EpochStart, HardState, LogPosition, PersistOp, ReplicatedEntry, SnapshotInstall } from '../core/types.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

/**
 * A broker write as the core carries it: its LogEntry[] packed once, by the master. The same bytes then go
 * into the master's raw entry, onto the wire to each slave and into each slave's raw entry without being
 * packed again; each member unpacks them once, to apply them (the master not even that: see remember).
 */
export function packPayload(entries: readonly LogEntry[]): Buffer {
  return packr.pack(entries);
}

function unpackPayload(payload: unknown): LogEntry[] {
  if (Array.isArray(payload)) return payload as LogEntry[];
  assert(payload instanceof Uint8Array, 'a replicated entry carries packed log entries');
  return packr.unpack(payload) as LogEntry[];
}

const KEY_HARD = Buffer.from('h');
const KEY_APPLIED = Buffer.from('a');
const KEY_BOOT = Buffer.from('b');
const PREFIX_ENTRY = 0x65; // 'e'

/**
 * Entries applied per store append: one atomic call (entries, their raw deletes, the new applied position).
 * Bounds one LevelDB batch; a slave catching up applies a long run in several calls.
 */
export const APPLY_ENTRIES_PER_CALL_MAX = 512;

/** The applied position with the epoch history of the prefix it ends (enough to compare after a restart). */
interface Applied {
  readonly epoch: number;
  readonly index: number;
  readonly history: readonly EpochStart[];
  /** See the file comment; absent (0) before the first install. */
  readonly generation?: number;
}

const NO_APPLIED: Applied = Object.freeze({ epoch: 0, index: 0, history: [] });
const ENTRY_KEY_BYTES = 13;

function entryKey(generation: number, index: number): Buffer {
  const key = Buffer.allocUnsafe(ENTRY_KEY_BYTES);
  key[0] = PREFIX_ENTRY;
  key.writeUInt32BE(generation, 1);
  key.writeUInt32BE(Math.floor(index / 2 ** 32), 5);
  key.writeUInt32BE(index >>> 0, 9);
  return key;
}

function entryIndexOf(key: Buffer): number {
  return key.readUInt32BE(5) * 2 ** 32 + key.readUInt32BE(9);
}

/** Where a member keeps its raw log, inside its data directory (LevelDB ignores what it did not name). */
export const REPLICATION_LOG_DIRECTORY = 'replication-log';

/** This machine's boot id (Linux), or null where there is none: then no power loss can be told. */
function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** What a member restarts from, besides the node image: for the shell's own bookkeeping. */
export interface DiskRestore {
  readonly node: RestoredNode;
}

/** One member's replication state on its LevelStore; see the file comment. */
export class ReplicaDisk {
  private readonly store: LevelStore;
  private readonly log: LevelStore;
  /** fsync the state's batches: in a disk mode a raw entry is deleted only once its effect is durable. */
  private readonly syncState: boolean;
  private applied: Applied = NO_APPLIED;
  private appliedHistory: EpochStart[] = [];
  /** Raw entries held, by index; the applier takes them from here. */
  private readonly raw = new Map<number, ReplicatedEntry>();
  private rawLast = 0;
  /** This master's own writes, still as objects: applying them needs no unpacking. */
  private readonly unpacked = new Map<number, readonly LogEntry[]>();
  /** The apply under way: an install must not replace the state beneath it. */
  private applyRunning: Promise<number> | null = null;
  private installing = false;
  /** Whether the boot id on disk still has to be updated (see restore). */
  private bootIdPending: string | null = null;

  constructor(store: LevelStore, log: LevelStore, syncState: boolean) {
    this.store = store;
    this.log = log;
    this.syncState = syncState;
  }

  private get generation(): number {
    return this.applied.generation ?? 0;
  }

  /** Closes both stores. */
  async close(): Promise<void> {
    await Promise.all([this.store.close(), this.log.close()]);
  }

  /** The LevelStore under the state (the broker's, when this member is master). */
  get levelStore(): LevelStore {
    return this.store;
  }

  get appliedPosition(): LogPosition {
    return { epoch: this.applied.epoch, index: this.applied.index };
  }

  /** Index of the last entry held (raw or applied). */
  get lastIndex(): number {
    return Math.max(this.rawLast, this.applied.index);
  }

  /**
   * Reads what the member restarts from. `recovered` is what the store's open() returned: an install cut
   * short by a crash leaves an empty state, so the member starts from an empty log (and gets a snapshot).
   * `lostWrites` is true when the machine rebooted since the store was last written and the sync mode leaves
   * some acknowledged writes unsynced: the node then recovers before it may be elected.
   */
  async restore(recovered: RecoveredState, unsyncedWrites: boolean): Promise<DiskRestore> {
    let applied: Applied = NO_APPLIED;
    for (const [key, value] of await this.store.readAux(KEY_APPLIED)) if (key.equals(KEY_APPLIED)) applied = packr.unpack(value) as Applied;
    let hard: HardState = { epoch: 0, promised: 0, recovering: false };
    let boot: string | null = null;
    const entries: Array<ReplicatedEntry & { readonly key: Buffer }> = [];
    const cleanup: AuxOp[] = [];
    for (const [key, value] of await this.log.readAux()) {
      if (key.equals(KEY_HARD)) hard = packr.unpack(value) as HardState;
      else if (key.equals(KEY_BOOT)) boot = packr.unpack(value) as string;
      else if (key[0] === PREFIX_ENTRY && key.length === ENTRY_KEY_BYTES) {
        const { epoch, payload } = packr.unpack(value) as { epoch: number; payload: unknown };
        entries.push({ epoch, index: entryIndexOf(key), payload, key });
      } else {
        cleanup.push({ type: 'del', key });
      }
    }
    if (recovered.interruptedInstall === true) {
      // The state is empty now: nothing is applied, and the raw entries (of the generation the install was
      // replacing) would follow nothing.
      applied = { ...NO_APPLIED, generation: (applied.generation ?? 0) + 1 };
      await this.store.append([], { aux: [{ type: 'put', key: KEY_APPLIED, value: packr.pack(applied) }], sync: true }).durable;
    }
    // Keep the dense run of this generation right after the applied position; the rest is applied already
    // (not yet deleted) or debris of an install cut short.
    const generation = applied.generation ?? 0;
    const kept: ReplicatedEntry[] = [];
    for (const e of entries) {
      const ours = e.key.readUInt32BE(1) === generation;
      if (ours && e.index === applied.index + kept.length + 1 && e.epoch >= (kept.at(-1)?.epoch ?? applied.epoch)) {
        kept.push({ epoch: e.epoch, index: e.index, payload: e.payload });
      } else {
        cleanup.push({ type: 'del', key: e.key });
      }
    }
    const bootId = readBootId();
    const rebooted = boot !== null && bootId !== null && boot !== bootId;
    const lostWrites = rebooted && unsyncedWrites;
    if (bootId !== null && boot !== bootId) {
      // Only recorded once the node has persisted `recovering` (its first Ready does): a crash before that
      // must not make the loss forgotten.
      if (lostWrites && !hard.recovering) this.bootIdPending = bootId;
      else cleanup.push({ type: 'put', key: KEY_BOOT, value: packr.pack(bootId) });
    }
    if (cleanup.length > 0) await this.log.append([], { aux: cleanup, sync: true }).durable;
    this.applied = applied;
    this.appliedHistory = applied.history.map((r) => ({ ...r }));
    this.raw.clear();
    for (const e of kept) this.raw.set(e.index, e);
    this.rawLast = kept.at(-1)?.index ?? applied.index;
    return {
      node: {
        hard,
        log: { base: { epoch: applied.epoch, index: applied.index }, baseHistory: applied.history, entries: kept },
        lostWrites,
      },
    };
  }

  /**
   * Writes one Ready's persist ops, in order; resolves once they are written (fsynced when `sync`).
   * Installs and resets rewrite the state and so are their own writes; the other ops share one batch.
   */
  async persist(ops: readonly PersistOp[], sync: boolean): Promise<void> {
    let aux: AuxOp[] = [];
    const flush = async (): Promise<void> => {
      if (aux.length === 0 && !sync) return;
      const batch = aux;
      aux = [];
      await this.log.append([], { aux: batch, sync }).durable;
    };
    for (const op of ops) {
      switch (op.kind) {
        case 'hard-state':
          aux.push({ type: 'put', key: KEY_HARD, value: packr.pack(op.state) });
          if (op.state.recovering && this.bootIdPending !== null) {
            aux.push({ type: 'put', key: KEY_BOOT, value: packr.pack(this.bootIdPending) });
            this.bootIdPending = null;
          }
          break;
        case 'append':
          for (const e of op.entries) {
            assert(e.index > this.applied.index, `entry ${e.index} is already applied`);
            aux.push({ type: 'put', key: entryKey(this.generation, e.index), value: packr.pack({ epoch: e.epoch, payload: e.payload }) });
            this.raw.set(e.index, e);
            this.rawLast = e.index;
          }
          break;
        case 'truncate':
          // The core never truncates what is committed, and only committed entries are applied (see the
          // file comment for local_* masters, which the shell restarts from a snapshot instead).
          assert(op.after >= this.applied.index, `truncate after ${op.after} would undo applied entry ${this.applied.index}`);
          for (let i = op.after + 1; i <= this.rawLast; i++) {
            this.unpacked.delete(i);
            if (this.raw.delete(i)) aux.push({ type: 'del', key: entryKey(this.generation, i) });
          }
          this.rawLast = Math.min(this.rawLast, op.after);
          break;
        case 'compact':
          // Applied entries are deleted as they are applied; the core's compaction only frees its memory.
          break;
        case 'install':
          await flush();
          await this.install(op.snapshot);
          break;
        case 'reset':
          await flush();
          await this.install(null);
          break;
      }
    }
    await flush();
  }

  /** Replaces the state with a snapshot's (null: with nothing), dropping every raw entry. */
  private async install(snapshot: SnapshotInstall | null): Promise<void> {
    this.installing = true;
    try {
      while (this.applyRunning !== null) await this.applyRunning.catch(() => 0);
      await this.replaceWith(snapshot);
    } finally {
      this.installing = false;
    }
  }

  private async replaceWith(snapshot: SnapshotInstall | null): Promise<void> {
    const old = this.generation;
    const stale: AuxOp[] = [...this.raw.keys()].map((index) => ({ type: 'del', key: entryKey(old, index) }));
    const generation = old + 1;
    const applied: Applied = snapshot === null
      ? { ...NO_APPLIED, generation }
      : { epoch: snapshot.through.epoch, index: snapshot.through.index, history: snapshot.history, generation };
    const chunks = (snapshot?.chunks ?? []) as Array<Array<[Buffer, Buffer]>>;
    // The new generation lands with the new state, atomically; the old raw entries are dead from then on.
    await this.store.replaceState(chunks, [{ type: 'put', key: KEY_APPLIED, value: packr.pack(applied) }]);
    if (stale.length > 0) await this.log.append([], { aux: stale }).durable;
    this.raw.clear();
    this.unpacked.clear();
    this.rawLast = applied.index;
    this.applied = applied;
    this.appliedHistory = applied.history.map((r) => ({ ...r }));
  }

  /**
   * Applies held entries through `through` (at most what is held raw), in calls of at most
   * APPLY_ENTRIES_PER_CALL_MAX entries; resolves when they are written. Returns the new applied index.
   */
  applyThrough(through: number): Promise<number> {
    const run = this.applyRun(through).finally(() => {
      if (this.applyRunning === run) this.applyRunning = null;
    });
    this.applyRunning = run;
    return run;
  }

  private async applyRun(through: number): Promise<number> {
    if (this.installing) return this.applied.index;
    const target = Math.min(through, this.rawLast);
    let last: Promise<void> | null = null;
    while (this.applied.index < target) {
      const from = this.applied.index + 1;
      const to = Math.min(target, from + APPLY_ENTRIES_PER_CALL_MAX - 1);
      const entries: LogEntry[] = [];
      const applied: AuxOp[] = [];
      let epoch = this.applied.epoch;
      for (let i = from; i <= to; i++) {
        const e = this.raw.get(i);
        assert(e !== undefined, `entry ${i} is not held`);
        for (const le of this.unpacked.get(i) ?? unpackPayload(e.payload)) entries.push(le);
        this.unpacked.delete(i);
        applied.push({ type: 'del', key: entryKey(this.generation, i) });
        extendHistory(this.appliedHistory, e.epoch, i);
        epoch = e.epoch;
        this.raw.delete(i);
      }
      this.applied = { epoch, index: to, history: this.appliedHistory.map((r) => ({ ...r })), generation: this.generation };
      const marker: AuxOp = { type: 'put', key: KEY_APPLIED, value: packr.pack(this.applied) };
      const written = this.store.append(entries, { aux: [marker], sync: this.syncState }).durable;
      // Raw entries go once their effect is written (restore ignores any at or below the marker meanwhile);
      // nothing waits for that.
      last = written;
      void written.then(() => this.log.append([], { aux: applied }).durable).catch(() => {});
    }
    if (last !== null) await last;
    return this.applied.index;
  }

  /** Keeps the objects of a write this member made as master, for applying it (see packPayload). */
  remember(index: number, entries: readonly LogEntry[]): void {
    this.unpacked.set(index, entries);
  }

  /**
   * The state as of the applied position, cut into chunks, for a slave's snapshot: read from one LevelDB
   * snapshot together with the applied position it holds.
   */
  async readSnapshot(): Promise<{ through: LogPosition; chunks: unknown[] }> {
    const { chunks, aux } = await this.store.exportState({ auxKeys: [KEY_APPLIED] });
    const applied = aux[0] === undefined ? NO_APPLIED : (packr.unpack(aux[0]) as Applied);
    return { through: { epoch: applied.epoch, index: applied.index }, chunks };
  }
}
