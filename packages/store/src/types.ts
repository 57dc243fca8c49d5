/**
 * The store's contract: an append-only log of state changes on top of indexes that hold the live state.
 * Every durable change the broker makes is a LogEntry; `append` assigns each entry the next dense log
 * index synchronously and resolves `durable` once the group-commit batch holding it is written
 * (fsynced when the store syncs). An enqueue's log index is its message's `seq`.
 */

export type HeaderList = Array<[name: string, value: string]>;

/** A message as it is stored: everything needed to deliver it again after a restart. */
export interface StoredMessage {
  /** Stable unique id; the broker sends it as `message-id`. */
  readonly messageId: string;
  /** The STOMP destination it was sent to, e.g. `/queue/orders` or `/topic/prices`. */
  readonly destination: string;
  /** Headers to deliver (user headers and standard ones such as content-type, reply-to), in order. */
  readonly headers: HeaderList;
  readonly body: Buffer;
  /** 0–9, higher first. */
  readonly priority: number;
  /** Absolute expiry in ms since the epoch; 0 = never. */
  readonly expires: number;
  /** When the broker accepted it, ms since the epoch. */
  readonly timestamp: number;
}

/** Where one live message sits: the store queue, its priority and its sequence (= enqueue log index). */
export interface MessageKey {
  readonly queue: string;
  readonly priority: number;
  readonly seq: number;
}

/** A durable topic subscription, keyed by (clientId, name) as in JMS. */
export interface DurableSubscription {
  readonly clientId: string;
  readonly name: string;
  /** The topic it listens to, e.g. `/topic/prices`. */
  readonly destination: string;
  /** JMS selector or '' for none. */
  readonly selector: string;
  /** Store queue that holds its pending messages. */
  readonly queue: string;
}

/** One durable state change. A group of entries passed to one `append` lands atomically. */
export type LogEntry =
  | { readonly kind: 'enqueue'; readonly queue: string; readonly message: StoredMessage }
  | { readonly kind: 'remove'; readonly key: MessageKey }
  | { readonly kind: 'redelivered'; readonly key: MessageKey; readonly count: number }
  | { readonly kind: 'durable-add'; readonly subscription: DurableSubscription }
  | { readonly kind: 'durable-remove'; readonly clientId: string; readonly name: string }
  /**
   * The highest sequence number stored from one producer (its `amq-producer-seq`): the broker's
   * de-duplication window, appended in the same call as the enqueues it covers so that the messages and
   * the window land (or are lost) together. A later entry for the same producer replaces it.
   */
  | { readonly kind: 'producer'; readonly producerId: string; readonly seq: number }
  /** The broker stopped tracking a producer (its bound on producers tracked): its window is deleted. */
  | { readonly kind: 'producer-forget'; readonly producerId: string };

export interface AppendResult {
  /** Log index of the first entry; entry i of the call has index firstIndex + i. */
  readonly firstIndex: number;
  /** Resolves when the batch holding these entries is on disk (per the store's sync setting). */
  readonly durable: Promise<void>;
}

/** A live message read back from the store. */
export interface StoredRecord {
  readonly key: MessageKey;
  readonly message: StoredMessage;
  /** How many times it was redelivered before (from `redelivered` entries). */
  readonly redeliveryCount: number;
}

/** What `open()` recovers, small by design: counts and names, never the backlog itself. */
export interface RecoveredState {
  /** Live message count per store queue. */
  readonly queues: ReadonlyMap<string, number>;
  readonly durableSubscriptions: readonly DurableSubscription[];
  /**
   * The producer windows (producer id → highest seq stored), least recently written first, so the broker
   * can rebuild its least-recently-used order. At most PRODUCER_WINDOWS_MAX: the broker forgets producers
   * past its own (smaller) bound with `producer-forget` entries.
   */
  readonly producers: ReadonlyMap<string, number>;
  /** Index of the last entry in the log, 0 for an empty store. */
  readonly lastIndex: number;
  /**
   * True when open() found a snapshot install cut short (a crash mid `replaceState`) and wiped the half
   * installed state: the store is empty, except its aux space, and its owner needs a new snapshot.
   * Absent otherwise.
   */
  readonly interruptedInstall?: boolean;
}

/**
 * A write to the aux space (LevelStore only; see keys.ts), whose keys and values are opaque to the store.
 * Keys are given without the space byte; the store adds it.
 */
export type AuxOp = { readonly type: 'put'; readonly key: Buffer; readonly value: Buffer } | { readonly type: 'del'; readonly key: Buffer };

/** Options of LevelStore.append beyond the Store contract. */
export interface AppendOptions {
  /** Aux writes that land in the same batch as the call's entries, after them: atomically with them. */
  readonly aux?: readonly AuxOp[];
  /**
   * Fsync the batch holding this call even when the store was opened with `sync: false`; `durable` then
   * resolves after the fsync. An empty call with `sync: true` is a barrier: everything written before it
   * is on disk once it resolves.
   */
  readonly sync?: boolean;
}

/** A key and value of the store as a snapshot carries them: the full key, space byte included. */
export type StatePair = [key: Buffer, value: Buffer];

export interface ExportOptions {
  /** Key and value bytes per chunk, roughly (a chunk ends at the first pair that reaches it); default EXPORT_CHUNK_BYTES. */
  readonly chunkBytes?: number;
  /** Aux keys (without the space byte) to read from the same snapshot as the state. */
  readonly auxKeys?: readonly Buffer[];
}

/** The state spaces of a store at one moment, and the aux values asked for at that same moment. */
export interface ExportedState {
  /** Every pair of the meta, message, live, durable and producer spaces, in key order, cut into chunks. */
  readonly chunks: StatePair[][];
  /** The value of each of `auxKeys`, in order; undefined where absent. */
  readonly aux: Array<Buffer | undefined>;
}

/**
 * One log record as `readLog` returns it. It mirrors LogEntry except for an enqueue, which the log keeps
 * as a reference: the live message record holds the body, so storing it twice would double the bytes
 * written per message. A reader that needs the body fetches the live record, or learns it was removed.
 */
export type LogRecord =
  | { readonly kind: 'enqueue'; readonly key: MessageKey; readonly messageId: string }
  | Exclude<LogEntry, { readonly kind: 'enqueue' }>;

/** A log record with its index. */
export interface IndexedLogRecord {
  readonly index: number;
  readonly record: LogRecord;
}

/** Counters a store keeps about itself; cheap to read, for status pages, flow control and tests. */
export interface StoreStats {
  /** Last index handed out by `append` (durable or not). */
  readonly lastIndex: number;
  /** Last index whose batch is written. */
  readonly durableIndex: number;
  /** Oldest index `readLog` can still return; `durableIndex + 1` when the tail is empty. */
  readonly logFirstIndex: number;
  /** Entries appended but not yet durable: what a producer is waiting on. */
  readonly pendingEntries: number;
  /** Group-commit batches written since open. */
  readonly batches: number;
  /** Log entries written since open. */
  readonly entriesWritten: number;
  /** Key and value bytes written since open (an estimate of write volume, not of disk usage). */
  readonly bytesWritten: number;
  /** Most entries one batch has held since open. */
  readonly largestBatchEntries: number;
  /** Messages removed before their batch was written, so their bodies never reached the disk (LevelStore). */
  readonly consumedBeforeWritten?: number;
}

export interface Store {
  open(): Promise<RecoveredState>;
  append(entries: readonly LogEntry[]): AppendResult;
  /**
   * Live messages of one queue at one priority with seq > afterSeq, in seq order, at most `limit`.
   * The broker pages a backlog in with one cursor per priority. Reads see an entry once its batch is
   * written: await `durable` before expecting to read back what was appended.
   */
  readQueue(queue: string, priority: number, afterSeq: number, limit: number): Promise<StoredRecord[]>;
  /** Resolves once everything appended so far is durable; then closes. */
  close(): Promise<void>;
  /**
   * Durable log records with index >= fromIndex, dense and in order, at most `limit`; empty past the end.
   * Fails with STORE_LOG_TRIMMED when fromIndex is older than the tail kept: such a reader needs a
   * snapshot. Optional so that a fake store need not keep a log.
   */
  readLog?(fromIndex: number, limit: number): Promise<IndexedLogRecord[]>;
  stats?(): StoreStats;
}
