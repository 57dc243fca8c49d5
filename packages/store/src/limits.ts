/**
 * Every bound the store applies, with its unit and its reason. The broker exposes the user-facing ones
 * as settings; the rest are tuning with a reason attached.
 */
import assert from 'node:assert/strict';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** STOMP's 0–9 priority range (ActiveMQ's JMSPriority). */
export const PRIORITY_MAX = 9;
/** The queue name is length-prefixed with a u16 in every message key. */
export const QUEUE_NAME_BYTES_MAX = 0xffff;
/** The client id of a durable subscription is length-prefixed with a u16 in its key. */
export const CLIENT_ID_BYTES_MAX = 0xffff;

/**
 * Bytes of one producer id (the failover client's `amq-producer-id`, e.g. `ID:` and a UUID, ~40 bytes).
 * It is a whole key after the space byte; a larger bound would only let a client make large keys.
 */
export const PRODUCER_ID_BYTES_MAX = 1024;
/**
 * Producer windows the store holds, and so the most open() reads back: ~64 bytes each on disk, so at most
 * ~4 MiB read once at start. The broker's own bound (maxFailoverProducersToTrack) must not exceed it, and
 * it deletes windows past that bound, so a larger count on disk means a damaged store.
 */
export const PRODUCER_WINDOWS_MAX = 65_536;

/**
 * Log records kept for replicas to catch up from. A replica further behind gets a snapshot instead.
 * 100k entries are 2–5 s of traffic at the 20–50k msg/s a broker is built for, long enough to ride out a
 * replica's restart or a short partition, and cost ~5 MB on disk because enqueue records are references.
 */
export const LOG_TAIL_ENTRIES_MAX = 100_000;

/**
 * Entries per group-commit batch. Appends made while a batch is in flight join the next one; past this
 * bound they start another, so one huge burst cannot hold every receipt behind a single long write.
 */
export const BATCH_ENTRIES_MAX = 10_000;
/**
 * LevelDB's memtable size (`writeBufferSize`, LevelDB's default 4 MiB). A million 1 KiB enqueues sustained
 * 25–50k/s with the default and 57–96k/s with 16–64 MiB on the reference VM (scripts/measure.mjs): fewer,
 * larger level-0 files mean fewer compaction stalls. The cost is up to two memtables in the broker's
 * resident memory (bench/backlog.mjs watches it), so we take 8 MiB.
 */
export const LEVELDB_WRITE_BUFFER_BYTES = 8 * MiB;
/** LevelDB's table file size (`maxFileSize`, default 2 MiB): a 1 GiB backlog in ~270 files, not ~500. */
export const LEVELDB_FILE_BYTES = 4 * MiB;
/**
 * LevelDB's `maxOpenFiles` (default 1000). LevelDB memory-maps every open table file, and the pages a
 * scan touched stay resident while the file is open: with the default, a 1 GiB backlog kept ~300 MiB of
 * mapped table pages in the broker's RSS. Twenty tables beyond LevelDB's own reserve of ten keeps at
 * most ~80 MiB of tables mapped (with 4 MiB files) and lets the others be unmapped.
 */
export const LEVELDB_OPEN_FILES_MAX = 30;

/**
 * Key and value bytes per batch, for the same reason as BATCH_ENTRIES_MAX, and kept well under the write
 * buffer so one batch never forces a memtable switch on its own. One append call is never split (it lands
 * atomically), so a single call may exceed this.
 */
export const BATCH_BYTES_MAX = 4 * MiB;

/** Keys fetched per native call when counting live messages at open; big enough to amortise the call. */
export const OPEN_SCAN_CHUNK_KEYS = 4096;

/**
 * Key and value bytes per chunk of an exported snapshot (LevelStore.exportState), by default. A chunk is
 * what the replication shell sends as one message: large enough that per-message overhead vanishes, small
 * enough that neither side holds more than a few of them in flight.
 */
export const EXPORT_CHUNK_BYTES = 1 * MiB;
/**
 * Entries fetched per native call while exporting. Unlike the open scan these carry message bodies, so
 * fewer per call: ~1 MiB of 1 KiB messages, about one chunk.
 */
export const EXPORT_SCAN_CHUNK_ENTRIES = 1024;
/**
 * Keys per LevelDB batch while a snapshot install wipes the old state or writes the new one (also bounded
 * by BATCH_BYTES_MAX): a state of millions of keys in one batch would sit whole in memory and force
 * memtable switches mid-write. The install is made atomic by its marker key, not by one batch.
 */
export const INSTALL_BATCH_KEYS_MAX = 10_000;

/** Encoded queue-name prefixes cached for key building; a broker has far fewer live queues than this. */
export const QUEUE_PREFIX_CACHE_ENTRIES_MAX = 10_000;

assert(BATCH_ENTRIES_MAX > 0 && BATCH_BYTES_MAX > 0);
assert(BATCH_BYTES_MAX < LEVELDB_WRITE_BUFFER_BYTES);
assert(OPEN_SCAN_CHUNK_KEYS > 0);
assert(EXPORT_CHUNK_BYTES > 0 && EXPORT_SCAN_CHUNK_ENTRIES > 0 && INSTALL_BATCH_KEYS_MAX > 0);
