/**
 * Whole-state snapshots of the LevelDB store, for replication: a master exports its state spaces from one
 * LevelDB snapshot, a replica installs them in place of its own. The aux space is the shell's and neither
 * exported nor wiped; the log is not exported, since a replica's log starts where the snapshot ends.
 *
 * An install cannot be one batch (a backlog of millions of keys), so it is made all-or-nothing by a marker:
 * written and synced first, deleted by the last batch, which is synced too. Open finds a marker only
 * after a crash in between, and then finishes the wipe instead of serving a half-installed state.
 */
import assert from 'node:assert/strict';
import { StoreError } from './errors.js';
import {
  FORMAT_VERSION,
  FORMAT_VERSION_KEY,
  INSTALL_INCOMPLETE_KEY,
  LAST_INDEX_KEY,
  LOG_FIRST_INDEX_KEY,
  META_FORMAT_VERSION,
  META_LAST_INDEX,
  META_LOG_FIRST_INDEX,
  SPACE_AUX,
  SPACE_DURABLE,
  SPACE_LIVE,
  SPACE_MESSAGE,
  SPACE_META,
  SPACE_PRODUCER,
  auxKey,
  isMessageKeyShape,
  producerIdOf,
  seqOf,
  spaceRange,
} from './keys.js';
import { BATCH_BYTES_MAX, EXPORT_SCAN_CHUNK_ENTRIES, INSTALL_BATCH_KEYS_MAX, PRODUCER_WINDOWS_MAX } from './limits.js';
import { decodeNumber, decodeProducer, decodeSubscription, encodeNumber } from './records.js';
import type { Db } from './recovery.js';
import type { AuxOp, ExportedState, StatePair } from './types.js';

type ChainedBatch = ReturnType<Db['batch']>;

/** The ranges a snapshot covers: the meta space, then message to producer, which are contiguous. */
const EXPORTED_RANGES = [spaceRange(SPACE_META), { gte: spaceRange(SPACE_MESSAGE).gte, lt: spaceRange(SPACE_PRODUCER).lt }];
/** What an install wipes: every space below aux, the log included. */
const WIPED_RANGE = { gte: spaceRange(SPACE_META).gte, lt: spaceRange(SPACE_AUX).gte };

/**
 * Reads the state spaces and the asked aux values from one LevelDB snapshot, which holds whole written
 * batches only: the pairs are the state after some batch, and the aux values are the ones written with it.
 * The snapshot is taken before the first await, so the state is the one written when this was called.
 */
export async function exportStateFrom(db: Db, chunkBytes: number, auxKeys: readonly Buffer[]): Promise<ExportedState> {
  const snapshot = db.snapshot();
  try {
    const chunks: StatePair[][] = [];
    let chunk: StatePair[] = [];
    let bytes = 0;
    for (const range of EXPORTED_RANGES) {
      const it = db.iterator({ ...range, snapshot, fillCache: false });
      try {
        for (;;) {
          const rows = await it.nextv(EXPORT_SCAN_CHUNK_ENTRIES);
          if (rows.length === 0) break;
          for (const [key, value] of rows) {
            chunk.push([key, value]);
            bytes += key.length + value.length;
            if (bytes >= chunkBytes) {
              chunks.push(chunk);
              chunk = [];
              bytes = 0;
            }
          }
        }
      } finally {
        await it.close();
      }
    }
    if (chunk.length > 0) chunks.push(chunk);
    const aux = auxKeys.length === 0 ? [] : await db.getMany(auxKeys.map(auxKey), { snapshot });
    return { chunks, aux };
  } finally {
    await snapshot.close();
  }
}

/** A checked snapshot: what the install writes besides the state pairs themselves. */
export interface InstallPlan {
  readonly chunks: ReadonlyArray<ReadonlyArray<readonly [Buffer, Buffer]>>;
  readonly lastIndex: number;
  /** Aux ops with their store keys, applied by the install's last batch. */
  readonly aux: readonly AuxOp[];
}

function invalid(why: string, cause?: unknown): StoreError {
  return new StoreError('STORE_SNAPSHOT_INVALID', `refusing to install a snapshot: ${why}`, cause === undefined ? undefined : { cause });
}

/**
 * Checks a snapshot before anything is changed: every key belongs to a state space and is shaped as that
 * space's keys are, the meta is this format's, and nothing refers past the last index. Message values are
 * not decoded (that would read every body); a damaged one shows when it is read, as on any store.
 */
export function planInstall(chunks: ReadonlyArray<ReadonlyArray<readonly [Buffer, Buffer]>>, aux: readonly AuxOp[]): InstallPlan {
  const auxOps = aux.map(toStoreAuxOp);
  let lastIndex: number | undefined;
  let formatVersion: number | undefined;
  let pairs = 0;
  let maxSeq = 0;
  let maxProducerIndex = 0;
  let producers = 0;
  const decode = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw invalid(`its ${what} is undecodable`, err);
    }
  };
  for (const chunk of chunks) {
    for (const pair of chunk) {
      const [key, value] = pair;
      if (!Buffer.isBuffer(key) || !Buffer.isBuffer(value)) throw invalid('a key or value is not a Buffer');
      pairs++;
      switch (key[0]) {
        case SPACE_META:
          if (key.length !== 2) throw invalid(`meta key ${key.toString('hex')} is malformed`);
          if (key[1] === META_FORMAT_VERSION) formatVersion = decode('format version', () => decodeNumber(value, 'format version'));
          else if (key[1] === META_LAST_INDEX) lastIndex = decode('last index', () => decodeNumber(value, 'last index'));
          else if (key[1] === META_LOG_FIRST_INDEX) decode('first log index', () => decodeNumber(value, 'first log index'));
          // The install marker among them would be a snapshot taken mid-install, which exportState refuses.
          else throw invalid(`it holds meta key ${key.toString('hex')}, which no snapshot carries`);
          break;
        case SPACE_MESSAGE:
        case SPACE_LIVE:
          if (!isMessageKeyShape(key)) throw invalid(`message key ${key.toString('hex')} is malformed`);
          maxSeq = Math.max(maxSeq, seqOf(key));
          break;
        case SPACE_DURABLE:
          if (key.length < 3 || 3 + key.readUInt16BE(1) > key.length) throw invalid(`durable subscription key ${key.toString('hex')} is malformed`);
          decode('durable subscription', () => decodeSubscription(value));
          break;
        case SPACE_PRODUCER: {
          if (key.length < 2) throw invalid('a producer key is empty');
          const { index } = decode(`window of producer ${producerIdOf(key)}`, () => decodeProducer(value));
          maxProducerIndex = Math.max(maxProducerIndex, index);
          producers++;
          break;
        }
        default:
          // The log and aux spaces above all: a replica's log and aux are its own, never a master's.
          throw invalid(`key ${key.toString('hex')} is not in a state space (space ${key[0] ?? 'none'})`);
      }
    }
  }
  if (pairs === 0) return { chunks, lastIndex: 0, aux: auxOps };
  if (formatVersion !== FORMAT_VERSION) throw invalid(`it is in store format ${formatVersion ?? 'none'}; this build installs format ${FORMAT_VERSION}`);
  if (lastIndex === undefined || lastIndex < 0) throw invalid('it lacks its last log index');
  if (maxSeq > lastIndex) throw invalid(`a message has seq ${maxSeq}, past its last index ${lastIndex}`);
  if (maxProducerIndex > lastIndex) throw invalid(`a producer window was written at index ${maxProducerIndex}, past its last index ${lastIndex}`);
  if (producers > PRODUCER_WINDOWS_MAX) throw invalid(`it holds ${producers} producer windows, more than ${PRODUCER_WINDOWS_MAX}`);
  return { chunks, lastIndex, aux: auxOps };
}

/** Checks one aux op from the caller and gives it its store key. A malformed op is a caller bug, as a bad entry is. */
export function toStoreAuxOp(op: AuxOp): AuxOp {
  assert(Buffer.isBuffer(op.key), 'an aux op needs a Buffer key');
  if (op.type === 'put') {
    assert(Buffer.isBuffer(op.value), 'an aux put needs a Buffer value');
    // Copied: the op is written a turn later, and the caller may reuse its buffer by then.
    return { type: 'put', key: auxKey(op.key), value: Buffer.from(op.value) };
  }
  if (op.type === 'del') return { type: 'del', key: auxKey(op.key) };
  return assert.fail(`unknown aux op type ${(op as { type: unknown }).type}`);
}

/**
 * Deletes every key below the aux space except the format version and the install marker, in bounded
 * batches. Unsynced: the install's last batch is synced, and LevelDB makes earlier writes durable with it.
 */
async function wipeState(db: Db): Promise<void> {
  const it = db.keys({ ...WIPED_RANGE, fillCache: false });
  try {
    for (;;) {
      const keys = await it.nextv(INSTALL_BATCH_KEYS_MAX);
      if (keys.length === 0) break;
      const batch = db.batch();
      for (const key of keys) if (!key.equals(FORMAT_VERSION_KEY) && !key.equals(INSTALL_INCOMPLETE_KEY)) batch.del(key);
      await batch.write({ sync: false });
    }
  } finally {
    await it.close();
  }
}

/**
 * The last batch of an install (or of an interrupted one): the meta of a store whose log ends at
 * `lastIndex` with no tail kept, and no marker. Synced, so the install is done once it resolves.
 */
async function finish(batch: ChainedBatch, lastIndex: number, aux: readonly AuxOp[]): Promise<void> {
  for (const op of aux) {
    if (op.type === 'put') batch.put(op.key, op.value);
    else batch.del(op.key);
  }
  batch.put(FORMAT_VERSION_KEY, encodeNumber(FORMAT_VERSION));
  batch.put(LAST_INDEX_KEY, encodeNumber(lastIndex));
  // The master's first log index means nothing here: this store holds no log record yet.
  batch.put(LOG_FIRST_INDEX_KEY, encodeNumber(lastIndex + 1));
  batch.del(INSTALL_INCOMPLETE_KEY);
  await batch.write({ sync: true });
}

/**
 * Replaces the state on disk with a checked snapshot: marker, wipe, pairs, last batch. The caller makes
 * sure nothing else writes meanwhile. The meta pairs are not copied: `finish` writes this store's own.
 */
export async function installState(db: Db, plan: InstallPlan): Promise<void> {
  await db.put(INSTALL_INCOMPLETE_KEY, encodeNumber(1), { sync: true });
  await wipeState(db);
  let batch = db.batch();
  let bytes = 0;
  for (const chunk of plan.chunks) {
    for (const [key, value] of chunk) {
      if (key[0] === SPACE_META) continue;
      batch.put(key, value);
      bytes += key.length + value.length;
      if (batch.length >= INSTALL_BATCH_KEYS_MAX || bytes >= BATCH_BYTES_MAX) {
        await batch.write({ sync: false });
        batch = db.batch();
        bytes = 0;
      }
    }
  }
  await finish(batch, plan.lastIndex, plan.aux);
}

/** At open, after a crash mid-install: whether there was one, and if so the store is now empty (aux kept). */
export async function finishInterruptedInstall(db: Db): Promise<boolean> {
  if ((await db.get(INSTALL_INCOMPLETE_KEY)) === undefined) return false;
  await wipeState(db);
  await finish(db.batch(), 0, []);
  return true;
}
