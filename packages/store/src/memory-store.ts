/**
 * The in-memory twin of LevelStore, for broker protocol tests: same numbering, same group commit per
 * event-loop turn (`durable` resolves on the turn after `append`), same visibility (reads see an entry once
 * its batch is applied), same effects, same errors. Both run through test/store-suite.ts.
 *
 * One batch per turn whatever its size: the batch bounds only matter to a disk.
 *
 * What would be the directory is a MemoryVolume: hand the same volume to a new MemoryStore to "restart".
 * Messages are copied in and out, as a disk would, so a caller reusing a Buffer cannot change the store.
 * Reads walk a per-priority map in seq order, O(backlog) per page: fine for tests, not for production.
 */
import assert from 'node:assert/strict';
import { StoreError } from './errors.js';
import { LOG_TAIL_ENTRIES_MAX } from './limits.js';
import { assertEntry } from './records.js';
import type {
  AppendResult,
  DurableSubscription,
  IndexedLogRecord,
  LogEntry,
  LogRecord,
  RecoveredState,
  Store,
  StoreStats,
  StoredMessage,
  StoredRecord,
} from './types.js';

interface LiveMessage {
  readonly message: StoredMessage;
  redeliveryCount: number;
}

/** What survives a MemoryStore closing, as a directory does for LevelStore. */
export class MemoryVolume {
  /** queue → priority → seq → message; a Map iterates in insertion order, which is seq order here. */
  readonly queues = new Map<string, Map<number, Map<number, LiveMessage>>>();
  readonly subscriptions = new Map<string, DurableSubscription>();
  /** Producer windows: id → seq; insertion order is the order of their last write, as LevelStore recovers it. */
  readonly producers = new Map<string, number>();
  readonly log: IndexedLogRecord[] = [];
  lastIndex = 0;
  logFirstIndex = 1;
  /** The twin of LevelDB's directory lock. */
  inUse = false;
}

export interface MemoryStoreOptions {
  readonly volume?: MemoryVolume;
  readonly logTailEntriesMax?: number;
}

interface PendingCall {
  readonly firstIndex: number;
  readonly entries: readonly LogEntry[];
}

function copyMessage(m: StoredMessage): StoredMessage {
  return { ...m, headers: m.headers.map(([name, value]) => [name, value]), body: Buffer.from(m.body) };
}

function subscriptionId(clientId: string, name: string): string {
  return JSON.stringify([clientId, name]);
}

function logRecordOf(entry: LogEntry, index: number): LogRecord {
  if (entry.kind !== 'enqueue') return entry;
  return { kind: 'enqueue', key: { queue: entry.queue, priority: entry.message.priority, seq: index }, messageId: entry.message.messageId };
}

type State = 'new' | 'open' | 'closing' | 'closed';

/** The Store in memory; see the file header. */
export class MemoryStore implements Store {
  readonly volume: MemoryVolume;
  private readonly logTailMax: number;
  private state: State = 'new';
  private failure: StoreError | null = null;
  private injectedFailure: Error | null = null;
  private lastIndex = 0;
  private pending: PendingCall[] = [];
  private batch: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } | null = null;
  private closing: Promise<void> | null = null;
  private batches = 0;
  private entriesWritten = 0;
  private bytesWritten = 0;
  private largestBatchEntries = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.volume = opts.volume ?? new MemoryVolume();
    this.logTailMax = opts.logTailEntriesMax ?? LOG_TAIL_ENTRIES_MAX;
    assert(Number.isSafeInteger(this.logTailMax) && this.logTailMax >= 0, `logTailEntriesMax must be a non-negative integer, got ${this.logTailMax}`);
  }

  async open(): Promise<RecoveredState> {
    if (this.state !== 'new') throw new StoreError('STORE_CLOSED', 'this MemoryStore was already opened; make a new one on the same volume to reopen');
    const v = this.volume;
    if (v.inUse) throw new StoreError('STORE_LOCKED', 'another broker is using this memory volume (the twin of a store directory)');
    v.inUse = true;
    this.state = 'open';
    this.lastIndex = v.lastIndex;
    this.trimLog();
    const queues = new Map<string, number>();
    for (const [queue, byPriority] of v.queues) {
      let count = 0;
      for (const messages of byPriority.values()) count += messages.size;
      queues.set(queue, count);
    }
    return { queues, durableSubscriptions: [...v.subscriptions.values()], producers: new Map(v.producers), lastIndex: v.lastIndex };
  }

  append(entries: readonly LogEntry[]): AppendResult {
    this.assertWritable();
    const firstIndex = this.lastIndex + 1;
    entries.forEach((entry, i) => assertEntry(entry, firstIndex + i));
    const copied = entries.map((e): LogEntry => {
      if (e.kind === 'enqueue') return { ...e, message: copyMessage(e.message) };
      if (e.kind === 'durable-add') return { ...e, subscription: { ...e.subscription } };
      return e;
    });
    this.pending.push({ firstIndex, entries: copied });
    this.lastIndex += entries.length;
    if (this.batch === null) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => {}); // as LevelStore: a dropped promise must not crash the process
      this.batch = { promise, resolve, reject };
      setImmediate(this.flush);
    }
    return { firstIndex, durable: this.batch.promise };
  }

  /** Makes the next batch fail as a disk write would, to test how the broker handles STORE_WRITE_FAILED. */
  injectWriteFailure(cause: Error): void {
    this.injectedFailure = cause;
  }

  private assertWritable(): void {
    if (this.failure !== null) {
      throw new StoreError('STORE_WRITE_FAILED', 'the memory store stopped after a failed write and accepts no more appends', { cause: this.failure });
    }
    if (this.state !== 'open') throw new StoreError('STORE_CLOSED', `the memory store is not open (${this.state})`);
  }

  private readonly flush = (): void => {
    const batch = this.batch!;
    const calls = this.pending;
    this.batch = null;
    this.pending = [];
    if (this.injectedFailure !== null) {
      const first = calls[0]?.firstIndex ?? this.volume.lastIndex + 1;
      this.failure = new StoreError('STORE_WRITE_FAILED', `writing log entries ${first}..${this.lastIndex} failed; the store accepts no more appends`, {
        cause: this.injectedFailure,
      });
      batch.reject(this.failure);
      return;
    }
    let entries = 0;
    for (const call of calls) {
      assert.equal(call.firstIndex, this.volume.lastIndex + 1, 'batches must be applied in log order with no gap');
      call.entries.forEach((entry, i) => this.apply(entry, call.firstIndex + i));
      this.volume.lastIndex += call.entries.length;
      entries += call.entries.length;
    }
    this.trimLog();
    if (entries > 0) {
      this.batches++;
      this.entriesWritten += entries;
      this.largestBatchEntries = Math.max(this.largestBatchEntries, entries);
    }
    batch.resolve();
  };

  private apply(entry: LogEntry, index: number): void {
    const v = this.volume;
    if (this.logTailMax > 0) v.log.push({ index, record: logRecordOf(entry, index) });
    switch (entry.kind) {
      case 'enqueue': {
        const { queue, message } = entry;
        let byPriority = v.queues.get(queue);
        if (byPriority === undefined) v.queues.set(queue, (byPriority = new Map()));
        let messages = byPriority.get(message.priority);
        if (messages === undefined) byPriority.set(message.priority, (messages = new Map()));
        messages.set(index, { message, redeliveryCount: 0 });
        this.bytesWritten += message.body.length;
        return;
      }
      case 'remove': {
        const byPriority = v.queues.get(entry.key.queue);
        const messages = byPriority?.get(entry.key.priority);
        if (messages?.delete(entry.key.seq)) {
          if (messages.size === 0) byPriority!.delete(entry.key.priority);
          if (byPriority!.size === 0) v.queues.delete(entry.key.queue);
        }
        return;
      }
      case 'redelivered': {
        // As on disk: a count for a message no longer live is dropped, never resurrects it.
        const live = v.queues.get(entry.key.queue)?.get(entry.key.priority)?.get(entry.key.seq);
        if (live !== undefined) live.redeliveryCount = entry.count;
        return;
      }
      case 'durable-add':
        v.subscriptions.set(subscriptionId(entry.subscription.clientId, entry.subscription.name), entry.subscription);
        return;
      case 'durable-remove': {
        const id = subscriptionId(entry.clientId, entry.name);
        const sub = v.subscriptions.get(id);
        v.subscriptions.delete(id);
        if (sub !== undefined) v.queues.delete(sub.queue);
        return;
      }
      case 'producer':
        // Deleted first so the id moves to the end: the map stays in order of last write.
        v.producers.delete(entry.producerId);
        v.producers.set(entry.producerId, entry.seq);
        return;
      case 'producer-forget':
        v.producers.delete(entry.producerId);
        return;
    }
  }

  private trimLog(): void {
    const v = this.volume;
    const keepFrom = Math.max(v.logFirstIndex, v.lastIndex - this.logTailMax + 1);
    if (keepFrom === v.logFirstIndex) return;
    const drop = v.log.findIndex((r) => r.index >= keepFrom);
    v.log.splice(0, drop === -1 ? v.log.length : drop);
    v.logFirstIndex = keepFrom;
  }

  async readQueue(queue: string, priority: number, afterSeq: number, limit: number): Promise<StoredRecord[]> {
    this.assertReadable();
    assert(Number.isSafeInteger(limit) && limit >= 0, `limit must be a non-negative integer, got ${limit}`);
    assert(Number.isSafeInteger(afterSeq) && afterSeq >= 0, `afterSeq must be a non-negative integer, got ${afterSeq}`);
    const out: StoredRecord[] = [];
    const messages = this.volume.queues.get(queue)?.get(priority);
    if (messages === undefined || limit === 0) return out;
    for (const [seq, live] of messages) {
      if (seq <= afterSeq) continue;
      out.push({ key: { queue, priority, seq }, message: copyMessage(live.message), redeliveryCount: live.redeliveryCount });
      if (out.length === limit) break;
    }
    return out;
  }

  async readLog(fromIndex: number, limit: number): Promise<IndexedLogRecord[]> {
    this.assertReadable();
    assert(Number.isSafeInteger(fromIndex) && fromIndex >= 1, `fromIndex must be a positive integer, got ${fromIndex}`);
    assert(Number.isSafeInteger(limit) && limit >= 0, `limit must be a non-negative integer, got ${limit}`);
    const v = this.volume;
    if (fromIndex > v.lastIndex || limit === 0) return [];
    if (fromIndex < v.logFirstIndex) {
      throw new StoreError('STORE_LOG_TRIMMED', `log entries before ${v.logFirstIndex} were trimmed (asked from ${fromIndex}); a reader this far behind needs a snapshot`);
    }
    const start = fromIndex - v.logFirstIndex;
    assert.equal(v.log[start]?.index, fromIndex, 'the memory log tail is dense');
    return v.log.slice(start, start + limit);
  }

  private assertReadable(): void {
    if (this.state !== 'open' && this.state !== 'closing') throw new StoreError('STORE_CLOSED', `the memory store is not open (${this.state})`);
  }

  stats(): StoreStats {
    const v = this.volume;
    return {
      lastIndex: this.lastIndex,
      durableIndex: v.lastIndex,
      logFirstIndex: v.logFirstIndex,
      pendingEntries: this.lastIndex - v.lastIndex,
      batches: this.batches,
      entriesWritten: this.entriesWritten,
      bytesWritten: this.bytesWritten,
      largestBatchEntries: this.largestBatchEntries,
    };
  }

  close(): Promise<void> {
    if (this.state === 'new' || this.state === 'closed') {
      this.state = 'closed';
      return Promise.resolve();
    }
    this.closing ??= (async () => {
      this.state = 'closing';
      if (this.batch !== null) await this.batch.promise.catch(() => {});
      this.volume.inUse = false;
      this.state = 'closed';
    })();
    return this.closing;
  }
}
