/**
 * Every key space of the LevelDB store, declared here and nowhere else. Keys are bytes that sort the way
 * they are read: numbers are big-endian, strings are length-prefixed UTF-8, so a queue's messages at one
 * priority are one contiguous range in seq order and a page-in is a single range scan.
 *
 * | space      | byte | rest of the key                                                   | value (msgpackr, see records.ts) |
 * |------------|------|-------------------------------------------------------------------|----------------------------------|
 * | meta       | 0x00 | u8 meta id (below)                                                | number                           |
 * | log        | 0x01 | u64 BE log index                                                  | log record tuple (enqueue: a ref)|
 * | message    | 0x02 | u16 BE queue byte length, queue UTF-8, u8 (9 - priority), u64 BE seq | message tuple (no priority)   |
 * | live       | 0x03 | exactly as message                                                | number: its redelivery count     |
 * | durable    | 0x04 | u16 BE clientId byte length, clientId UTF-8, name UTF-8           | subscription tuple               |
 * | producer   | 0x05 | producer id UTF-8 (the rest of the key)                           | producer tuple: [seq, log index] |
 * | aux        | 0x06 | opaque suffix, owned by the embedding shell (replication)         | opaque value (not msgpackr)      |
 *
 * | meta id | 0x01 format version | 0x02 last log index | 0x03 first log index kept | 0x04 snapshot install incomplete |
 *
 * Why these choices:
 * - The queue name is length-prefixed, not terminated, so no queue's range can swallow another whose name
 *   it prefixes (`a` and `a/b`), and any byte may appear in a name.
 * - Priority is stored inverted so that a whole queue's range reads highest priority first, should a
 *   reader ever want all priorities in one scan; per-priority ranges work either way.
 * - Every live message has a twin key in the live space (only the first byte differs) whose value is its
 *   redelivery count. LevelDB stores keys next to their values, so a scan of the message space reads every
 *   body; the live space is bodies-free, so open() counts a backlog of a million messages by reading ~40 MB
 *   instead of ~1 GB, clearing a queue finds its keys the same way, and a redelivery count is checked for
 *   liveness without touching a body. It costs one ~35-byte put per enqueue (a remove deletes it
 *   alongside the message). A page-in reads the same range in both spaces and pairs them one to one.
 * - A producer's de-duplication window is one key per producer id, overwritten by each `producer` entry
 *   and deleted by `producer-forget`, so the space never holds more than the broker tracks and open() reads
 *   it whole. The value keeps the index of the entry that wrote it: LevelDB returns the space in id order,
 *   and the index restores the order of recency the broker forgets by (least recently written first).
 * - u64 indexes are written as two u32 halves: JavaScript numbers are exact to 2^53, far past any log.
 * - The aux space belongs to whoever embeds the store (the replication shell keeps its own position there):
 *   the store never reads it at open and never exports or wipes it, but writes it in the same batches as
 *   the log, so the shell's bookkeeping and the state it describes land together. It sorts last, so every
 *   state space is one range below it.
 * - The install marker (meta 0x04) is written, synced, before a snapshot install starts deleting and is
 *   deleted by the install's last batch: found at open, it means the state on disk is half old, half new,
 *   and open() wipes it rather than serve it.
 */
import assert from 'node:assert/strict';
import type { MessageKey } from './types.js';
import { CLIENT_ID_BYTES_MAX, PRIORITY_MAX, PRODUCER_ID_BYTES_MAX, QUEUE_NAME_BYTES_MAX, QUEUE_PREFIX_CACHE_ENTRIES_MAX } from './limits.js';

export const SPACE_META = 0x00;
export const SPACE_LOG = 0x01;
export const SPACE_MESSAGE = 0x02;
export const SPACE_LIVE = 0x03;
export const SPACE_DURABLE = 0x04;
export const SPACE_PRODUCER = 0x05;
export const SPACE_AUX = 0x06;

export const META_FORMAT_VERSION = 0x01;
export const META_LAST_INDEX = 0x02;
export const META_LOG_FIRST_INDEX = 0x03;
export const META_INSTALL_INCOMPLETE = 0x04;

/**
 * Bumped whenever a key or value layout changes; open() refuses other versions, except the ones listed in
 * FORMAT_VERSIONS_UPGRADABLE. Format 2 added the producer space and the producer log records.
 */
export const FORMAT_VERSION = 2;
/**
 * Older formats this build opens by rewriting the version: format 1 lacks only the producer space, which
 * reads as "no producer tracked". An older build refuses format 2, whose log it could not decode.
 */
export const FORMAT_VERSIONS_UPGRADABLE: readonly number[] = [1];

export type MessageSpace = typeof SPACE_MESSAGE | typeof SPACE_LIVE;

/** A half-open key range, the shape LevelDB iterators take. */
export interface KeyRange {
  readonly gte: Buffer;
  readonly lt: Buffer;
}

const U32 = 2 ** 32;
const U64_BYTES = 8;

function writeU64(buf: Buffer, offset: number, n: number): void {
  assert(Number.isSafeInteger(n) && n >= 0, `u64 key part must be a non-negative safe integer, got ${n}`);
  buf.writeUInt32BE(Math.floor(n / U32), offset);
  buf.writeUInt32BE(n >>> 0, offset + 4);
}

function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * U32 + buf.readUInt32BE(offset + 4);
}

export function metaKey(id: number): Buffer {
  return Buffer.from([SPACE_META, id]);
}

export const FORMAT_VERSION_KEY = metaKey(META_FORMAT_VERSION);
export const LAST_INDEX_KEY = metaKey(META_LAST_INDEX);
export const LOG_FIRST_INDEX_KEY = metaKey(META_LOG_FIRST_INDEX);
export const INSTALL_INCOMPLETE_KEY = metaKey(META_INSTALL_INCOMPLETE);

export function logKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(1 + U64_BYTES);
  key[0] = SPACE_LOG;
  writeU64(key, 1, index);
  return key;
}

export function logIndexOf(key: Buffer): number {
  assert(key.length === 1 + U64_BYTES && key[0] === SPACE_LOG, 'not a log key');
  return readU64(key, 1);
}

/** Every key of one space. */
export function spaceRange(space: number): KeyRange {
  return { gte: Buffer.from([space]), lt: Buffer.from([space + 1]) };
}

/** The store key of an aux key given without its space byte. */
export function auxKey(suffix: Buffer): Buffer {
  const key = Buffer.allocUnsafe(1 + suffix.length);
  key[0] = SPACE_AUX;
  suffix.copy(key, 1);
  return key;
}

/** Every aux key whose suffix starts with `prefix`. */
export function auxRange(prefix: Buffer): KeyRange {
  const gte = auxKey(prefix);
  // The least key past every extension of gte: drop trailing 0xff bytes, then add one to the last byte.
  // The space byte is not 0xff, so this always ends, at worst at the next space.
  let end = gte.length;
  while (gte[end - 1] === 0xff) end--;
  const lt = Buffer.from(gte.subarray(0, end));
  lt[end - 1] = lt[end - 1]! + 1;
  return { gte, lt };
}

// Building a key is on the append path, once per message; encoding the queue name once per queue keeps
// it to one allocation and two copies.
const queuePrefixCache = new Map<string, Buffer>();

/** u16 BE byte length then the UTF-8 bytes: the part of a message key that names the queue. */
function encodedQueueName(queue: string): Buffer {
  let encoded = queuePrefixCache.get(queue);
  if (encoded !== undefined) return encoded;
  const length = Buffer.byteLength(queue, 'utf8');
  assert(length <= QUEUE_NAME_BYTES_MAX, `queue name is ${length} bytes, at most ${QUEUE_NAME_BYTES_MAX} fit a key`);
  encoded = Buffer.allocUnsafe(2 + length);
  encoded.writeUInt16BE(length, 0);
  encoded.write(queue, 2, 'utf8');
  if (queuePrefixCache.size >= QUEUE_PREFIX_CACHE_ENTRIES_MAX) queuePrefixCache.clear();
  queuePrefixCache.set(queue, encoded);
  return encoded;
}

function assertPriority(priority: number): void {
  assert(Number.isInteger(priority) && priority >= 0 && priority <= PRIORITY_MAX, `priority must be 0–${PRIORITY_MAX}, got ${priority}`);
}

function queueKeyPrefix(space: MessageSpace, queue: string, extra: number): Buffer {
  const name = encodedQueueName(queue);
  const key = Buffer.allocUnsafe(1 + name.length + extra);
  key[0] = space;
  name.copy(key, 1);
  return key;
}

/** Key of one live message (SPACE_MESSAGE) or of its twin holding the redelivery count (SPACE_LIVE). */
export function messageKey(space: MessageSpace, k: MessageKey): Buffer {
  assertPriority(k.priority);
  const key = queueKeyPrefix(space, k.queue, 1 + U64_BYTES);
  const at = key.length - 1 - U64_BYTES;
  key[at] = PRIORITY_MAX - k.priority;
  writeU64(key, at + 1, k.seq);
  return key;
}

/** The same message key in the other of the two mirrored spaces. */
export function inSpace(space: MessageSpace, key: Buffer): Buffer {
  const copy = Buffer.from(key);
  copy[0] = space;
  return copy;
}

/** Length of the space byte plus the length-prefixed queue name at the start of a message key. */
export function queuePrefixLength(key: Buffer): number {
  return 3 + key.readUInt16BE(1);
}

/** Whether a buffer is shaped as a message or live key (used to spot corruption, not to validate input). */
export function isMessageKeyShape(key: Buffer): boolean {
  return key.length >= 3 && key.length === queuePrefixLength(key) + 1 + U64_BYTES && key[key.length - 1 - U64_BYTES]! <= PRIORITY_MAX;
}

export function queueNameOf(key: Buffer): string {
  return key.toString('utf8', 3, queuePrefixLength(key));
}

export function seqOf(key: Buffer): number {
  return readU64(key, key.length - U64_BYTES);
}

export function decodeMessageKey(key: Buffer): MessageKey {
  return {
    queue: queueNameOf(key),
    priority: PRIORITY_MAX - key[key.length - 1 - U64_BYTES]!,
    seq: seqOf(key),
  };
}

/** Every message (or count) of one queue, all priorities. */
export function queueRange(space: MessageSpace, queue: string): KeyRange {
  const gte = queueKeyPrefix(space, queue, 0);
  // The byte after the name is an inverted priority 0..9, so 10 bounds the queue.
  const lt = queueKeyPrefix(space, queue, 1);
  lt[lt.length - 1] = PRIORITY_MAX + 1;
  return { gte, lt };
}

/** Messages (or counts) of one queue at one priority with seq > afterSeq: the page-in range. */
export function priorityRange(space: MessageSpace, queue: string, priority: number, afterSeq: number): KeyRange {
  const gte = messageKey(space, { queue, priority, seq: afterSeq + 1 });
  const lt = queueKeyPrefix(space, queue, 1);
  lt[lt.length - 1] = PRIORITY_MAX - priority + 1;
  return { gte, lt };
}

export function durableKey(clientId: string, name: string): Buffer {
  const idLength = Buffer.byteLength(clientId, 'utf8');
  assert(idLength <= CLIENT_ID_BYTES_MAX, `client id is ${idLength} bytes, at most ${CLIENT_ID_BYTES_MAX} fit a key`);
  const key = Buffer.allocUnsafe(3 + idLength + Buffer.byteLength(name, 'utf8'));
  key[0] = SPACE_DURABLE;
  key.writeUInt16BE(idLength, 1);
  key.write(clientId, 3, 'utf8');
  key.write(name, 3 + idLength, 'utf8');
  return key;
}

/** Key of one producer's de-duplication window. */
export function producerKey(producerId: string): Buffer {
  const length = Buffer.byteLength(producerId, 'utf8');
  assert(length >= 1 && length <= PRODUCER_ID_BYTES_MAX, `producer id is ${length} bytes, it must be 1 to ${PRODUCER_ID_BYTES_MAX}`);
  const key = Buffer.allocUnsafe(1 + length);
  key[0] = SPACE_PRODUCER;
  key.write(producerId, 1, 'utf8');
  return key;
}

export function producerIdOf(key: Buffer): string {
  assert(key.length >= 2 && key[0] === SPACE_PRODUCER, 'not a producer key');
  return key.toString('utf8', 1);
}
