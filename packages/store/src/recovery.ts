/**
 * What LevelStore.open() reads back: the log position, per-queue live counts, durable subscriptions and
 * producer windows (each bounded: PRODUCER_WINDOWS_MAX).
 * Small by design: the backlog stays on disk, and counting it reads keys of the bodies-free live space
 * (keys.ts), so a million messages cost a key scan, not a gigabyte of bodies. The aux space is never read
 * here: it is the embedding shell's. A snapshot install cut short is finished first (snapshot.ts).
 */
import type { Level } from 'level';
import { StoreError } from './errors.js';
import {
  FORMAT_VERSION,
  FORMAT_VERSION_KEY,
  FORMAT_VERSIONS_UPGRADABLE,
  LAST_INDEX_KEY,
  LOG_FIRST_INDEX_KEY,
  SPACE_DURABLE,
  SPACE_LIVE,
  SPACE_LOG,
  SPACE_PRODUCER,
  isMessageKeyShape,
  logIndexOf,
  logKey,
  producerIdOf,
  queueNameOf,
  queuePrefixLength,
  seqOf,
  spaceRange,
} from './keys.js';
import { OPEN_SCAN_CHUNK_KEYS, PRODUCER_WINDOWS_MAX } from './limits.js';
import { decodeNumber, decodeProducer, decodeSubscription, encodeNumber } from './records.js';
import { finishInterruptedInstall } from './snapshot.js';
import type { DurableSubscription } from './types.js';

export type Db = Level<Buffer, Buffer>;

export interface Recovered {
  readonly lastIndex: number;
  readonly logFirstIndex: number;
  readonly queues: Map<string, number>;
  readonly subscriptions: DurableSubscription[];
  /** Producer id → highest seq stored, least recently written first. */
  readonly producers: Map<string, number>;
  /** Whether a snapshot install cut short was wiped, leaving an empty store. */
  readonly interruptedInstall: boolean;
}

/** Reads (or, for an empty directory, writes) the meta, trims the log tail to `logTailMax`, counts, loads. */
export async function recover(db: Db, directory: string, logTailMax: number): Promise<Recovered> {
  // Before the meta is read: a half-installed state must not be served, and its meta may be missing.
  const interruptedInstall = await finishInterruptedInstall(db);
  const { lastIndex, logFirstIndex: recorded } = await readMeta(db, directory);
  const logFirstIndex = await trimLog(db, lastIndex, recorded, logTailMax);
  const queues = await countQueues(db, lastIndex);
  const subscriptions = (await db.iterator(spaceRange(SPACE_DURABLE)).all()).map(([, value]) => decodeSubscription(value));
  const producers = await readProducers(db, directory, lastIndex);
  return { lastIndex, logFirstIndex, queues, subscriptions, producers, interruptedInstall };
}

async function readMeta(db: Db, directory: string): Promise<{ lastIndex: number; logFirstIndex: number }> {
  const [version, last, first] = await db.getMany([FORMAT_VERSION_KEY, LAST_INDEX_KEY, LOG_FIRST_INDEX_KEY]);
  if (version === undefined) {
    if ((await db.keys({ limit: 1 }).all()).length > 0) {
      throw new StoreError('STORE_CORRUPTION', `${directory} holds LevelDB data but no mini-amq format version: not a store directory, or a damaged one`);
    }
    await db.batch(
      [
        { type: 'put', key: FORMAT_VERSION_KEY, value: encodeNumber(FORMAT_VERSION) },
        { type: 'put', key: LAST_INDEX_KEY, value: encodeNumber(0) },
        { type: 'put', key: LOG_FIRST_INDEX_KEY, value: encodeNumber(1) },
      ],
      { sync: true },
    );
    return { lastIndex: 0, logFirstIndex: 1 };
  }
  let found = decodeNumber(version, 'format version');
  if (FORMAT_VERSIONS_UPGRADABLE.includes(found)) {
    // What changed since is additive (keys.ts), so the upgrade is the version alone.
    await db.put(FORMAT_VERSION_KEY, encodeNumber(FORMAT_VERSION), { sync: true });
    found = FORMAT_VERSION;
  }
  if (found !== FORMAT_VERSION) {
    throw new StoreError('STORE_CORRUPTION', `${directory} was written in store format ${found}; this build reads format ${FORMAT_VERSION}`);
  }
  if (last === undefined || first === undefined) throw new StoreError('STORE_CORRUPTION', `${directory} lacks its log position`);
  const lastIndex = decodeNumber(last, 'last index');
  const logFirstIndex = decodeNumber(first, 'first log index');
  if (logFirstIndex < 1 || logFirstIndex > lastIndex + 1) {
    throw new StoreError('STORE_CORRUPTION', `first log index ${logFirstIndex} does not fit last index ${lastIndex}`);
  }
  // The meta is written in the same batch as the last record, so the tail must end exactly there.
  const tailEnd = await db.keys({ gte: logKey(lastIndex), lt: spaceRange(SPACE_LOG).lt, limit: 2 }).all();
  const expected = logFirstIndex <= lastIndex ? 1 : 0;
  if (tailEnd.length !== expected || (expected === 1 && logIndexOf(tailEnd[0]!) !== lastIndex)) {
    throw new StoreError('STORE_CORRUPTION', `the log in ${directory} does not end at the recorded last index ${lastIndex}`);
  }
  return { lastIndex, logFirstIndex };
}

/** Applies a smaller tail bound than the last run had, and clears what a crash mid-trim may have left. */
async function trimLog(db: Db, lastIndex: number, logFirstIndex: number, logTailMax: number): Promise<number> {
  const keepFrom = Math.max(logFirstIndex, lastIndex - logTailMax + 1);
  if (keepFrom !== logFirstIndex) {
    // Meta first: a crash before the clear leaves records below the first index, which the next open clears.
    await db.put(LOG_FIRST_INDEX_KEY, encodeNumber(keepFrom), { sync: true });
  }
  await db.clear({ gte: spaceRange(SPACE_LOG).gte, lt: logKey(keepFrom) });
  return keepFrom;
}

/**
 * Live messages per queue from the live space's keys alone, decoding a queue name once per run of keys
 * that share its prefix rather than once per key.
 */
async function countQueues(db: Db, lastIndex: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const it = db.keys({ ...spaceRange(SPACE_LIVE), fillCache: false });
  let prefix: Buffer | null = null;
  let count = 0;
  const endRun = () => {
    if (prefix === null) return;
    const queue = queueNameOf(prefix);
    if (counts.has(queue)) throw new StoreError('STORE_CORRUPTION', `message keys of queue ${queue} are not contiguous`);
    counts.set(queue, count);
  };
  try {
    for (;;) {
      const keys = await it.nextv(OPEN_SCAN_CHUNK_KEYS);
      if (keys.length === 0) break;
      for (const key of keys) {
        if (!isMessageKeyShape(key)) throw new StoreError('STORE_CORRUPTION', `malformed live key ${key.toString('hex')}`);
        const length = queuePrefixLength(key);
        if (prefix === null || prefix.length !== length || key.compare(prefix, 0, length, 0, length) !== 0) {
          endRun();
          prefix = key.subarray(0, length);
          count = 0;
        }
        count++;
        if (seqOf(key) > lastIndex) throw new StoreError('STORE_CORRUPTION', `a live message has seq ${seqOf(key)}, past the last log index ${lastIndex}`);
      }
    }
    endRun();
  } finally {
    await it.close();
  }
  return counts;
}

/**
 * The producer windows in the order they were last written. A bounded read: the broker keeps the space
 * within its own bound, itself at most PRODUCER_WINDOWS_MAX, so a space larger than that is damage.
 */
async function readProducers(db: Db, directory: string, lastIndex: number): Promise<Map<string, number>> {
  const rows = await db.iterator({ ...spaceRange(SPACE_PRODUCER), limit: PRODUCER_WINDOWS_MAX + 1 }).all();
  if (rows.length > PRODUCER_WINDOWS_MAX) {
    throw new StoreError('STORE_CORRUPTION', `${directory} holds more than ${PRODUCER_WINDOWS_MAX} producer windows, more than any broker tracks`);
  }
  const windows = rows.map(([key, value]) => ({ id: producerIdOf(key), ...decodeProducer(value) }));
  for (const w of windows) {
    if (w.index > lastIndex) throw new StoreError('STORE_CORRUPTION', `the window of producer ${w.id} was written at index ${w.index}, past the last log index ${lastIndex}`);
  }
  windows.sort((a, b) => a.index - b.index);
  return new Map(windows.map((w) => [w.id, w.seq]));
}
