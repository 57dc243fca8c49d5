/**
 * The durable Store on LevelDB: a dense log of entries plus the indexes that hold live state, written
 * together by group commit. Key spaces are in keys.ts, values in records.ts, what open() reads in recovery.ts.
 *
 * Write path: `append` validates, encodes and numbers its entries synchronously and adds them to the
 * open batch. At most one batch is in flight; the next is written on the turn after the current one
 * completes, so while the disk is busy appends pile into one batch and every fsync serves all of them.
 * Entries of one append call always share a batch, which is what makes the call atomic.
 *
 * Two effects depend on what is already on disk and are resolved just before their batch is written:
 * a durable-remove deletes every live message of its queue (a range scan of the bodies-free live space),
 * and a redelivery count is only recorded for a message that is still live (so a late count cannot
 * resurrect its message's index entry). With one batch in flight, the disk then holds exactly the state
 * before the batch, and entries earlier in the same batch are replayed over it in order.
 *
 * For replication, beyond the Store contract: an append may carry writes to the aux space (the embedding
 * shell's, keys.ts), which land in its batch after its entries; `exportState` and `replaceState` move the
 * whole state between stores as snapshots (snapshot.ts).
 */
import assert from 'node:assert/strict';
import { Level } from 'level';
import { StoreError } from './errors.js';
import {
  LAST_INDEX_KEY,
  LOG_FIRST_INDEX_KEY,
  SPACE_LIVE,
  SPACE_MESSAGE,
  auxRange,
  durableKey,
  inSpace,
  logIndexOf,
  logKey,
  messageKey,
  priorityRange,
  producerKey,
  queueNameOf,
  queueRange,
  seqOf,
} from './keys.js';
import {
  BATCH_BYTES_MAX,
  BATCH_ENTRIES_MAX,
  EXPORT_CHUNK_BYTES,
  LEVELDB_FILE_BYTES,
  LEVELDB_OPEN_FILES_MAX,
  LEVELDB_WRITE_BUFFER_BYTES,
  LOG_TAIL_ENTRIES_MAX,
} from './limits.js';
import {
  assertEntry,
  decodeLogRecord,
  decodeMessage,
  decodeNumber,
  encodeLogRecord,
  encodeMessage,
  encodeNumber,
  encodeProducer,
  encodeSubscription,
} from './records.js';
import { recover, type Db, type Recovered } from './recovery.js';
import { exportStateFrom, installState, planInstall, toStoreAuxOp, type InstallPlan } from './snapshot.js';
import type {
  AppendOptions,
  AppendResult,
  AuxOp,
  DurableSubscription,
  ExportOptions,
  ExportedState,
  IndexedLogRecord,
  LogEntry,
  MessageKey,
  RecoveredState,
  Store,
  StoreStats,
  StoredRecord,
} from './types.js';

export interface LevelStoreOptions {
  /** The store's directory; created if missing. One broker per directory (LevelDB takes a lock). */
  readonly directory: string;
  /** fsync every batch before `durable` resolves (ActiveMQ `sync=local_disk`); false = written, not synced. Default true. */
  readonly sync?: boolean;
  /** Log records kept for replicas; default LOG_TAIL_ENTRIES_MAX. 0 keeps no log (a broker without replicas). */
  readonly logTailEntriesMax?: number;
  /** Bounds of one group-commit batch; defaults BATCH_ENTRIES_MAX and BATCH_BYTES_MAX. */
  readonly batchEntriesMax?: number;
  readonly batchBytesMax?: number;
}

type Op = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/** An effect that must read the disk first; `at` is its place among the batch's ops. */
type Deferred =
  | { readonly kind: 'clear-queue'; readonly at: number; readonly queue: string }
  | { readonly kind: 'redelivered'; readonly at: number; readonly key: MessageKey; readonly count: number };

class Batch {
  /** Null marks an op cancelled by a later op of the same batch (see LevelStore.cancelConsumed). */
  readonly ops: Array<Op | null> = [];
  /** Where the two puts of each enqueue of this batch sit in `ops`, by the message key's latin1 image. */
  readonly enqueuedAt = new Map<string, number>();
  deferred: Deferred[] | null = null;
  lastIndex: number;
  entries = 0;
  bytes = 0;
  /** Fsync this batch whatever the store's setting: a call in it asked for it. */
  sync = false;
  readonly durable: Promise<void>;
  resolve!: () => void;
  reject!: (err: Error) => void;

  constructor(readonly firstIndex: number) {
    this.lastIndex = firstIndex - 1;
    this.durable = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // A failed batch also stops the store, and the next append says so; a caller that dropped its
    // `durable` promise must not crash the process with an unhandled rejection on top.
    this.durable.catch(() => {});
  }
}

type State = 'new' | 'opening' | 'open' | 'closing' | 'closed';

/** The live-space value of a fresh message; shared, since a chained batch copies what it is given. */
const NEVER_REDELIVERED = encodeNumber(0);

const NO_AUX: readonly AuxOp[] = [];

/** Index of a subscription in memory: the latin1 image of its durable key, exact and cheap. */
function subscriptionId(clientId: string, name: string): string {
  return durableKey(clientId, name).toString('latin1');
}

/** The Store on LevelDB; see the file header for the write path and keys.ts for the layout. */
export class LevelStore implements Store {
  readonly directory: string;
  private readonly syncWrites: boolean;
  private readonly logTailMax: number;
  private readonly batchEntriesMax: number;
  private readonly batchBytesMax: number;
  private db: Db | null = null;
  private state: State = 'new';
  private closing: Promise<void> | null = null;
  private failure: StoreError | null = null;

  /** Last index handed out; entries up to here are queued or written. */
  private lastIndex = 0;
  /** Last index on disk. */
  private durableIndex = 0;
  private logFirstIndex = 1;
  /** Batches not yet written, oldest first; new appends join the last one while it has room. */
  private readonly queued: Batch[] = [];
  private inFlight: Batch | null = null;
  private flushScheduled = false;
  /** Subscriptions as of the last appended entry (not the last written one), to resolve durable-remove. */
  private readonly subscriptions = new Map<string, DurableSubscription>();
  /** Settles when the snapshot install running (replaceState) ends; appends are refused meanwhile. */
  private installing: Promise<void> | null = null;

  private batches = 0;
  private entriesWritten = 0;
  private bytesWritten = 0;
  private largestBatchEntries = 0;
  private bodiesNeverWritten = 0;

  constructor(opts: LevelStoreOptions) {
    this.directory = opts.directory;
    this.syncWrites = opts.sync ?? true;
    this.logTailMax = opts.logTailEntriesMax ?? LOG_TAIL_ENTRIES_MAX;
    this.batchEntriesMax = opts.batchEntriesMax ?? BATCH_ENTRIES_MAX;
    this.batchBytesMax = opts.batchBytesMax ?? BATCH_BYTES_MAX;
    assert(Number.isSafeInteger(this.logTailMax) && this.logTailMax >= 0, `logTailEntriesMax must be a non-negative integer, got ${this.logTailMax}`);
    assert(this.batchEntriesMax >= 1 && this.batchBytesMax >= 1, 'batch bounds must be positive');
  }

  async open(): Promise<RecoveredState> {
    if (this.state !== 'new') throw new StoreError('STORE_CLOSED', `store at ${this.directory} was already opened; make a new LevelStore to open it again`);
    this.state = 'opening';
    const db: Db = new Level<Buffer, Buffer>(this.directory, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      createIfMissing: true,
      writeBufferSize: LEVELDB_WRITE_BUFFER_BYTES,
      maxFileSize: LEVELDB_FILE_BYTES,
      maxOpenFiles: LEVELDB_OPEN_FILES_MAX,
    });
    try {
      await db.open();
    } catch (err) {
      this.state = 'closed';
      throw this.openError(err);
    }
    try {
      const recovered = await recover(db, this.directory, this.logTailMax);
      this.db = db;
      this.state = 'open';
      return this.adopt(recovered);
    } catch (err) {
      this.state = 'closed';
      this.db = null;
      await db.close().catch(() => {});
      throw err;
    }
  }

  /** Takes the log position and subscriptions from what recovery read; the store must have nothing pending. */
  private adopt(recovered: Recovered): RecoveredState {
    this.lastIndex = this.durableIndex = recovered.lastIndex;
    this.logFirstIndex = recovered.logFirstIndex;
    this.subscriptions.clear();
    for (const s of recovered.subscriptions) this.subscriptions.set(subscriptionId(s.clientId, s.name), s);
    const state: RecoveredState = { queues: recovered.queues, durableSubscriptions: recovered.subscriptions, producers: recovered.producers, lastIndex: recovered.lastIndex };
    return recovered.interruptedInstall ? { ...state, interruptedInstall: true } : state;
  }

  private openError(err: unknown): StoreError {
    const code = (err as { code?: string }).code;
    const causeCode = ((err as { cause?: { code?: string } }).cause)?.code;
    if (code === 'LEVEL_LOCKED' || causeCode === 'LEVEL_LOCKED') {
      return new StoreError(
        'STORE_LOCKED',
        `another broker is using the store directory ${this.directory} (its LevelDB lock is held); stop that broker or give this one another directory`,
        { cause: err },
      );
    }
    if (code === 'LEVEL_CORRUPTION' || causeCode === 'LEVEL_CORRUPTION') {
      return new StoreError('STORE_CORRUPTION', `LevelDB reports corruption in ${this.directory}`, { cause: err });
    }
    return new StoreError('STORE_CLOSED', `could not open the store at ${this.directory}`, { cause: err });
  }

  /**
   * The Store's append, plus (LevelStore only) aux writes landing atomically with the entries and a
   * per-call fsync; see AppendOptions. A call with aux writes and no entries is written all the same.
   */
  append(entries: readonly LogEntry[], options?: AppendOptions): AppendResult {
    this.assertWritable();
    assert(this.installing === null, 'append while a snapshot install runs: wait for replaceState to settle');
    const firstIndex = this.lastIndex + 1;
    // Encoded before any state changes, so a call that throws leaves no trace.
    const call = this.encodeCall(entries, firstIndex, options?.aux ?? NO_AUX);
    const batch = this.batchFor(entries.length, call.bytes);
    if (options?.sync === true) batch.sync = true;
    if (call.deferred.length > 0) {
      const base = batch.ops.length;
      (batch.deferred ??= []).push(...call.deferred.map((d) => ({ ...d, at: d.at + base })));
    }
    const base = batch.ops.length;
    for (const op of call.ops) batch.ops.push(op);
    this.cancelConsumed(batch, base, call.enqueued, call.removed);
    batch.entries += entries.length;
    batch.bytes += call.bytes;
    this.lastIndex += entries.length;
    batch.lastIndex = this.lastIndex;
    for (const [id, sub] of call.subscriptions) {
      if (sub === null) this.subscriptions.delete(id);
      else this.subscriptions.set(id, sub);
    }
    this.scheduleFlush();
    return { firstIndex, durable: batch.durable };
  }

  /**
   * A message enqueued and removed before its batch is written (a consumer acked it within the same
   * group commit, the common case for a queue with a consumer keeping up) never needs its body on disk:
   * the enqueue's two puts and the removal's two deletes are dropped from the batch together. Both land
   * in one atomic write or neither does, so the result on disk is the same; the log records stay, so the
   * log is still dense and tells a replica the message came and went.
   */
  private cancelConsumed(batch: Batch, base: number, enqueued: ReadonlyArray<readonly [string, number]>, removed: ReadonlyArray<readonly [string, number]>): void {
    for (const [key, at] of enqueued) batch.enqueuedAt.set(key, base + at);
    for (const [key, at] of removed) {
      const putAt = batch.enqueuedAt.get(key);
      if (putAt === undefined) continue;
      batch.enqueuedAt.delete(key);
      batch.ops[putAt] = null;
      batch.ops[putAt + 1] = null;
      batch.ops[base + at] = null;
      batch.ops[base + at + 1] = null;
      this.bodiesNeverWritten++;
    }
  }

  /** The ops of one call: its log records and its index effects, with disk-dependent ones deferred, then its aux writes. */
  private encodeCall(entries: readonly LogEntry[], firstIndex: number, aux: readonly AuxOp[]) {
    const ops: Op[] = [];
    const deferred: Deferred[] = [];
    /** [message key image, place of its two puts / two deletes in `ops`] for cancelConsumed. */
    const enqueued: Array<[string, number]> = [];
    const removed: Array<[string, number]> = [];
    /** Subscriptions this call adds (or removes, as null), seen by its own later durable-removes. */
    const subscriptions = new Map<string, DurableSubscription | null>();
    let bytes = 0;
    const put = (key: Buffer, value: Buffer) => {
      ops.push({ type: 'put', key, value });
      bytes += key.length + value.length;
    };
    const del = (key: Buffer) => {
      ops.push({ type: 'del', key });
      bytes += key.length;
    };
    entries.forEach((entry, i) => {
      const index = firstIndex + i;
      assertEntry(entry, index);
      if (this.logTailMax > 0) put(logKey(index), encodeLogRecord(entry, index));
      switch (entry.kind) {
        case 'enqueue': {
          const key = messageKey(SPACE_MESSAGE, { queue: entry.queue, priority: entry.message.priority, seq: index });
          enqueued.push([key.toString('latin1'), ops.length]);
          put(key, encodeMessage(entry.message));
          put(inSpace(SPACE_LIVE, key), NEVER_REDELIVERED);
          return;
        }
        case 'remove': {
          const key = messageKey(SPACE_MESSAGE, entry.key);
          removed.push([key.toString('latin1'), ops.length]);
          del(key);
          del(inSpace(SPACE_LIVE, key));
          return;
        }
        case 'redelivered':
          deferred.push({ kind: 'redelivered', at: ops.length, key: entry.key, count: entry.count });
          return;
        case 'durable-add': {
          const s = entry.subscription;
          put(durableKey(s.clientId, s.name), encodeSubscription(s));
          subscriptions.set(subscriptionId(s.clientId, s.name), s);
          return;
        }
        case 'durable-remove': {
          const id = subscriptionId(entry.clientId, entry.name);
          const sub = subscriptions.has(id) ? subscriptions.get(id) : this.subscriptions.get(id);
          del(durableKey(entry.clientId, entry.name));
          if (sub) deferred.push({ kind: 'clear-queue', at: ops.length, queue: sub.queue });
          subscriptions.set(id, null);
          return;
        }
        // A window is overwritten whole, so neither needs the disk: the last write of a batch wins.
        case 'producer':
          put(producerKey(entry.producerId), encodeProducer(entry.seq, index));
          return;
        case 'producer-forget':
          del(producerKey(entry.producerId));
          return;
      }
    });
    // After every entry, so deferred effects placed at the end of the entries still come before them.
    for (const op of aux) {
      const stored = toStoreAuxOp(op);
      if (stored.type === 'put') put(stored.key, stored.value);
      else del(stored.key);
    }
    return { ops, deferred, bytes, subscriptions, enqueued, removed };
  }

  private assertWritable(): void {
    if (this.failure !== null) {
      throw new StoreError('STORE_WRITE_FAILED', `the store at ${this.directory} stopped after a failed write and accepts no more appends`, {
        cause: this.failure,
      });
    }
    if (this.state !== 'open') throw new StoreError('STORE_CLOSED', `the store at ${this.directory} is not open (${this.state})`);
  }

  /** The open batch if this call fits, else a new one: a call is never split, so it lands atomically. */
  private batchFor(entries: number, bytes: number): Batch {
    const last = this.queued[this.queued.length - 1];
    if (last !== undefined && ((last.entries === 0 && last.bytes === 0) || (last.entries + entries <= this.batchEntriesMax && last.bytes + bytes <= this.batchBytesMax))) {
      return last;
    }
    const batch = new Batch(this.lastIndex + 1);
    this.queued.push(batch);
    return batch;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.inFlight !== null || this.queued.length === 0 || this.failure !== null) return;
    this.flushScheduled = true;
    // One turn later: everything appended in this turn joins the batch.
    setImmediate(this.flushNext);
  }

  private readonly flushNext = (): void => {
    this.flushScheduled = false;
    const batch = this.queued.shift();
    if (batch === undefined || this.failure !== null) return;
    this.inFlight = batch;
    this.write(batch).then(
      () => {
        this.inFlight = null;
        batch.resolve();
        this.scheduleFlush();
      },
      (err: unknown) => this.fail(batch, err),
    );
  };

  private async write(batch: Batch): Promise<void> {
    const db = this.db!;
    assert.equal(batch.firstIndex, this.durableIndex + 1, 'batches must be written in log order with no gap');
    assert.equal(batch.lastIndex - batch.firstIndex + 1, batch.entries, 'a batch holds a dense run of indexes');
    // A batch of empty calls has nothing to write, unless one asked for an fsync of what came before.
    if (batch.entries === 0 && batch.ops.length === 0 && !batch.sync) return;
    const ops = batch.deferred === null ? batch.ops : await this.resolveDeferred(db, batch);
    batch.enqueuedAt.clear();
    const keepFrom = Math.max(this.logFirstIndex, batch.lastIndex - this.logTailMax + 1);
    // With no tail kept nothing was written to trim (a previous run's tail is cleared at open).
    if (this.logTailMax > 0) for (let index = this.logFirstIndex; index < keepFrom; index++) ops.push({ type: 'del', key: logKey(index) });
    ops.push({ type: 'put', key: LAST_INDEX_KEY, value: encodeNumber(batch.lastIndex) });
    ops.push({ type: 'put', key: LOG_FIRST_INDEX_KEY, value: encodeNumber(keepFrom) });
    // A chained batch, not db.batch(array): the array form costs ~5 µs of main-thread time per op (each op
    // object is cloned in JS, then read property by property in C++), the chained form ~0.5 µs.
    const chained = db.batch();
    for (const op of ops) {
      if (op === null) continue;
      if (op.type === 'put') chained.put(op.key, op.value);
      else chained.del(op.key);
    }
    await chained.write({ sync: this.syncWrites || batch.sync });
    this.durableIndex = batch.lastIndex;
    this.logFirstIndex = keepFrom;
    this.batches++;
    this.entriesWritten += batch.entries;
    this.bytesWritten += batch.bytes;
    this.largestBatchEntries = Math.max(this.largestBatchEntries, batch.entries);
  }

  /**
   * Splices the disk-dependent effects into the batch. The disk holds the state before this batch (no other
   * batch is in flight); `overlay` replays the message puts and deletes of the batch itself, in order.
   */
  private async resolveDeferred(db: Db, batch: Batch): Promise<Array<Op | null>> {
    const deferred = batch.deferred!;
    const queues = [...new Set(deferred.flatMap((d) => (d.kind === 'clear-queue' ? [d.queue] : [])))];
    const onDisk = new Map<string, Buffer[]>();
    for (const queue of queues) onDisk.set(queue, await db.keys(queueRange(SPACE_LIVE, queue)).all());
    const redelivered = deferred.flatMap((d) => (d.kind === 'redelivered' ? [messageKey(SPACE_LIVE, d.key)] : []));
    const liveOnDisk = redelivered.length > 0 ? await db.hasMany(redelivered) : [];

    const out: Op[] = [];
    const overlay = new Map<string, { readonly key: Buffer; live: boolean }>();
    const cleared = new Set<string>();
    let next = 0;
    let redeliveredAt = 0;
    const apply = (d: Deferred) => {
      if (d.kind === 'clear-queue') {
        for (const key of onDisk.get(d.queue)!) out.push({ type: 'del', key }, { type: 'del', key: inSpace(SPACE_MESSAGE, key) });
        for (const entry of overlay.values()) {
          if (entry.live && queueNameOf(entry.key) === d.queue) {
            out.push({ type: 'del', key: entry.key }, { type: 'del', key: inSpace(SPACE_LIVE, entry.key) });
            entry.live = false;
          }
        }
        cleared.add(d.queue);
      } else {
        const key = redelivered[redeliveredAt]!;
        const diskLive = liveOnDisk[redeliveredAt++]!;
        const pending = overlay.get(inSpace(SPACE_MESSAGE, key).toString('latin1'));
        const live = pending !== undefined ? pending.live : diskLive && !cleared.has(d.key.queue);
        if (live) out.push({ type: 'put', key, value: encodeNumber(d.count) });
      }
    };
    for (let i = 0; i < batch.ops.length; i++) {
      while (next < deferred.length && deferred[next]!.at === i) apply(deferred[next++]!);
      const op = batch.ops[i]!;
      if (op === null) continue;
      out.push(op);
      if (op.key[0] === SPACE_MESSAGE) overlay.set(op.key.toString('latin1'), { key: op.key, live: op.type === 'put' });
    }
    while (next < deferred.length) apply(deferred[next++]!);
    return out;
  }

  private fail(batch: Batch, err: unknown): void {
    this.failure = new StoreError(
      'STORE_WRITE_FAILED',
      `writing log entries ${batch.firstIndex}..${batch.lastIndex} to ${this.directory} failed; the store accepts no more appends`,
      { cause: err },
    );
    this.inFlight = null;
    batch.reject(this.failure);
    for (const waiting of this.queued.splice(0)) waiting.reject(this.failure);
  }

  async readQueue(queue: string, priority: number, afterSeq: number, limit: number): Promise<StoredRecord[]> {
    const db = this.readable();
    assert(Number.isSafeInteger(limit) && limit >= 0, `limit must be a non-negative integer, got ${limit}`);
    assert(Number.isSafeInteger(afterSeq) && afterSeq >= 0, `afterSeq must be a non-negative integer, got ${afterSeq}`);
    if (limit === 0) return [];
    // One snapshot for both scans, so a count is never paired with a message from another moment.
    const snapshot = db.snapshot();
    try {
      const messages = await db.iterator({ ...priorityRange(SPACE_MESSAGE, queue, priority, afterSeq), limit, snapshot }).all();
      if (messages.length === 0) return [];
      const lastKey = messages[messages.length - 1]![0];
      const live = await db.iterator({ gte: priorityRange(SPACE_LIVE, queue, priority, afterSeq).gte, lte: inSpace(SPACE_LIVE, lastKey), snapshot }).all();
      const records: StoredRecord[] = new Array(messages.length);
      for (let i = 0; i < messages.length; i++) {
        const [key, value] = messages[i]!;
        const twin = live[i];
        // Written in the same batches, so the two ranges pair one to one.
        if (live.length !== messages.length || twin === undefined || key.compare(twin[0], 1, twin[0].length, 1, key.length) !== 0) {
          throw new StoreError('STORE_CORRUPTION', `message and live index of queue ${queue} disagree near seq ${seqOf(key)}`);
        }
        records[i] = { key: { queue, priority, seq: seqOf(key) }, message: decodeMessage(value, priority), redeliveryCount: decodeNumber(twin[1], 'redelivery count') };
      }
      return records;
    } finally {
      await snapshot.close();
    }
  }

  async readLog(fromIndex: number, limit: number): Promise<IndexedLogRecord[]> {
    const db = this.readable();
    assert(Number.isSafeInteger(fromIndex) && fromIndex >= 1, `fromIndex must be a positive integer, got ${fromIndex}`);
    assert(Number.isSafeInteger(limit) && limit >= 0, `limit must be a non-negative integer, got ${limit}`);
    const trimmed = () =>
      new StoreError('STORE_LOG_TRIMMED', `log entries before ${this.logFirstIndex} were trimmed (asked from ${fromIndex}); a reader this far behind needs a snapshot`);
    if (fromIndex > this.durableIndex || limit === 0) return [];
    if (fromIndex < this.logFirstIndex) throw trimmed();
    const upTo = Math.min(this.durableIndex, fromIndex + limit - 1);
    const entries = await db.iterator({ gte: logKey(fromIndex), lte: logKey(upTo) }).all();
    // A batch may have trimmed the range between the check above and the read.
    if (entries.length === 0 || logIndexOf(entries[0]![0]) !== fromIndex) throw trimmed();
    return entries.map(([key, value], i) => {
      const index = logIndexOf(key);
      if (index !== fromIndex + i) throw new StoreError('STORE_CORRUPTION', `log record ${fromIndex + i} is missing from the tail`);
      return { index, record: decodeLogRecord(value, index) };
    });
  }

  /**
   * The aux pairs written so far (durable, not merely appended) whose key starts with `prefix`, in key
   * order, keys without the space byte.
   */
  async readAux(prefix: Buffer = Buffer.alloc(0)): Promise<Array<[key: Buffer, value: Buffer]>> {
    const db = this.readable();
    assert(Buffer.isBuffer(prefix), 'an aux prefix must be a Buffer');
    const rows = await db.iterator(auxRange(prefix)).all();
    return rows.map(([key, value]) => [key.subarray(1), value]);
  }

  /**
   * The whole state as of the last written batch (the meta, message, live, durable and producer spaces,
   * not the log, not aux) in chunks of about `chunkBytes`, with the values of `auxKeys` read from the same
   * LevelDB snapshot, so they are the ones written with that state. Appends not yet written are not in it.
   */
  exportState(options: ExportOptions = {}): Promise<ExportedState> {
    try {
      const db = this.readable();
      const chunkBytes = options.chunkBytes ?? EXPORT_CHUNK_BYTES;
      assert(Number.isSafeInteger(chunkBytes) && chunkBytes > 0, `chunkBytes must be a positive integer, got ${chunkBytes}`);
      const auxKeys = options.auxKeys ?? [];
      assert(auxKeys.every((key) => Buffer.isBuffer(key)), 'aux keys must be Buffers');
      assert(this.installing === null, 'exportState while a snapshot install runs would export a half-installed state');
      // Not async: the snapshot is taken in this call, before any batch written later can reach the disk.
      return exportStateFrom(db, chunkBytes, auxKeys);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Installs a snapshot (exportState's chunks, from another store) in place of this store's state, then
   * applies `aux` to the aux space, which is otherwise kept. Afterwards the store is as the exporting one
   * was, its log empty and ending at the snapshot's last index, so the next append gets the index the
   * exporter's next append got. The snapshot is checked before anything changes (STORE_SNAPSHOT_INVALID);
   * a crash midway leaves a store that open() empties (RecoveredState.interruptedInstall). Meant for a
   * store with no appends pending; appends are refused until it settles, and a failed install stops the
   * store as a failed write does. Resolves with the state as open() would recover it.
   */
  replaceState(chunks: ReadonlyArray<ReadonlyArray<readonly [Buffer, Buffer]>>, aux: readonly AuxOp[] = []): Promise<RecoveredState> {
    let plan: InstallPlan;
    try {
      this.assertWritable();
      assert(this.installing === null, 'a snapshot install is already running');
      plan = planInstall(chunks, aux);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.install(plan);
    this.installing = run.then(
      () => {},
      () => {},
    );
    return run.finally(() => {
      this.installing = null;
    });
  }

  /** Empties the store's state (not its aux space, but for `aux`): replaceState with an empty snapshot. */
  clearState(aux: readonly AuxOp[] = []): Promise<RecoveredState> {
    return this.replaceState([], aux);
  }

  private async install(plan: InstallPlan): Promise<RecoveredState> {
    // Anything appended before the call is written first, so the install starts from a quiet disk.
    const last = this.queued[this.queued.length - 1] ?? this.inFlight;
    if (last !== null) await last.durable;
    const db = this.db!;
    try {
      await installState(db, plan);
      return this.adopt(await recover(db, this.directory, this.logTailMax));
    } catch (err) {
      this.failure = new StoreError(
        'STORE_WRITE_FAILED',
        `installing a snapshot (last index ${plan.lastIndex}) into ${this.directory} failed; the store accepts no more appends, and reopening it empties it`,
        { cause: err },
      );
      throw this.failure;
    }
  }

  /**
   * Reads the recovered state again, as open() does, once everything appended so far is written: for a
   * replica that has applied a master's entries and now serves a broker, which starts from recovered counts.
   */
  async reload(): Promise<RecoveredState> {
    this.assertWritable();
    for (;;) {
      const last = this.queued[this.queued.length - 1] ?? this.inFlight;
      if (last === null) break;
      await last.durable;
    }
    const recovered = await recover(this.db!, this.directory, this.logTailMax);
    // Appends that came in during the read change nothing it counts only if they hold no entries.
    assert.equal(this.lastIndex, recovered.lastIndex, 'reload() must not race appends of entries');
    return this.adopt(recovered);
  }

  private readable(): Db {
    if (this.state !== 'open' && this.state !== 'closing') throw new StoreError('STORE_CLOSED', `the store at ${this.directory} is not open (${this.state})`);
    return this.db!;
  }

  stats(): StoreStats {
    return {
      lastIndex: this.lastIndex,
      durableIndex: this.durableIndex,
      logFirstIndex: this.logFirstIndex,
      pendingEntries: this.lastIndex - this.durableIndex,
      batches: this.batches,
      entriesWritten: this.entriesWritten,
      bytesWritten: this.bytesWritten,
      largestBatchEntries: this.largestBatchEntries,
      consumedBeforeWritten: this.bodiesNeverWritten,
    };
  }

  close(): Promise<void> {
    if (this.state === 'new' || this.state === 'closed') {
      this.state = 'closed';
      return Promise.resolve();
    }
    this.closing ??= this.drainAndClose();
    return this.closing;
  }

  private async drainAndClose(): Promise<void> {
    while (this.state === 'opening') await new Promise((resolve) => setImmediate(resolve));
    if (this.state === 'closed') return;
    this.state = 'closing';
    await this.installing;
    const last = this.queued[this.queued.length - 1] ?? this.inFlight;
    // A failed write has already been reported to every waiter; closing still releases the directory.
    if (last !== null) await last.durable.catch(() => {});
    await this.db?.close();
    this.db = null;
    this.state = 'closed';
  }
}
