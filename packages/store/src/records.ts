/**
 * Values of the LevelDB store, encoded with msgpackr as positional tuples. Tuples, not objects: no field
 * names on disk (a 1 KiB message carries ~40 bytes of framing, not ~120), no record-structure registry to
 * keep in sync across restarts, and decoding is an array read. Layout changes bump FORMAT_VERSION in keys.ts.
 *
 * | value        | tuple                                                                 |
 * |--------------|-----------------------------------------------------------------------|
 * | message      | [messageId, destination, [name, value, name, value, …], body, expires, timestamp] |
 * | log record   | [kind code, …fields] (codes below; an enqueue is [1, queue, priority, messageId]) |
 * | subscription | [clientId, name, destination, selector, queue]                        |
 * | producer     | [seq, log index of the entry that wrote it]                           |
 * | count, meta  | a number                                                              |
 *
 * A message's priority lives in its key only, and an enqueue's seq is its log index, so neither is stored
 * twice.
 */
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import { StoreError } from './errors.js';
import { PRIORITY_MAX, PRODUCER_ID_BYTES_MAX } from './limits.js';
import type { DurableSubscription, HeaderList, LogEntry, LogRecord, MessageKey, StoredMessage } from './types.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

const KIND_ENQUEUE = 1;
const KIND_REMOVE = 2;
const KIND_REDELIVERED = 3;
const KIND_DURABLE_ADD = 4;
const KIND_DURABLE_REMOVE = 5;
const KIND_PRODUCER = 6;
const KIND_PRODUCER_FORGET = 7;

function corrupt(what: string, cause?: unknown): StoreError {
  return new StoreError('STORE_CORRUPTION', `undecodable ${what} in the store`, { cause });
}

function unpack(value: Buffer, what: string): unknown {
  try {
    return packr.unpack(value);
  } catch (err) {
    throw corrupt(what, err);
  }
}

function tuple(value: Buffer, what: string, length: number): unknown[] {
  const decoded = unpack(value, what);
  if (!Array.isArray(decoded) || decoded.length !== length) throw corrupt(what);
  return decoded;
}

export function encodeNumber(n: number): Buffer {
  return packr.pack(n);
}

export function decodeNumber(value: Buffer, what: string): number {
  const n = unpack(value, what);
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw corrupt(what);
  return n;
}

export function encodeMessage(m: StoredMessage): Buffer {
  const flat: string[] = new Array(m.headers.length * 2);
  for (let i = 0; i < m.headers.length; i++) {
    const [name, value] = m.headers[i]!;
    flat[2 * i] = name;
    flat[2 * i + 1] = value;
  }
  // msgpackr writes a Uint8Array that is not a Buffer as an extension; the contract says Buffer, but a
  // view costs nothing and keeps the body's bytes as plain binary either way.
  const raw = m.body as Uint8Array;
  const body = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return packr.pack([m.messageId, m.destination, flat, body, m.expires, m.timestamp]);
}

export function decodeMessage(value: Buffer, priority: number): StoredMessage {
  const t = tuple(value, 'message', 6);
  const flat = t[2];
  const body = t[3];
  if (!Array.isArray(flat) || flat.length % 2 !== 0 || !Buffer.isBuffer(body)) throw corrupt('message');
  const headers: HeaderList = new Array(flat.length / 2);
  for (let i = 0; i < headers.length; i++) headers[i] = [flat[2 * i] as string, flat[2 * i + 1] as string];
  return {
    messageId: t[0] as string,
    destination: t[1] as string,
    headers,
    body,
    priority,
    expires: t[4] as number,
    timestamp: t[5] as number,
  };
}

export function encodeSubscription(s: DurableSubscription): Buffer {
  return packr.pack([s.clientId, s.name, s.destination, s.selector, s.queue]);
}

export function decodeSubscription(value: Buffer): DurableSubscription {
  const t = tuple(value, 'durable subscription', 5);
  if (!t.every((field) => typeof field === 'string')) throw corrupt('durable subscription');
  return { clientId: t[0] as string, name: t[1] as string, destination: t[2] as string, selector: t[3] as string, queue: t[4] as string };
}

/** A producer window's value: its seq and the index of the entry that wrote it (see keys.ts). */
export function encodeProducer(seq: number, index: number): Buffer {
  return packr.pack([seq, index]);
}

export function decodeProducer(value: Buffer): { seq: number; index: number } {
  const t = tuple(value, 'producer window', 2);
  if (!t.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1)) throw corrupt('producer window');
  return { seq: t[0] as number, index: t[1] as number };
}

/** The log record of one entry; an enqueue keeps only a reference to its live message (see types.ts LogRecord). */
export function encodeLogRecord(entry: LogEntry, index: number): Buffer {
  switch (entry.kind) {
    case 'enqueue':
      return packr.pack([KIND_ENQUEUE, entry.queue, entry.message.priority, entry.message.messageId]);
    case 'remove':
      return packr.pack([KIND_REMOVE, entry.key.queue, entry.key.priority, entry.key.seq]);
    case 'redelivered':
      return packr.pack([KIND_REDELIVERED, entry.key.queue, entry.key.priority, entry.key.seq, entry.count]);
    case 'durable-add': {
      const s = entry.subscription;
      return packr.pack([KIND_DURABLE_ADD, s.clientId, s.name, s.destination, s.selector, s.queue]);
    }
    case 'durable-remove':
      return packr.pack([KIND_DURABLE_REMOVE, entry.clientId, entry.name]);
    case 'producer':
      return packr.pack([KIND_PRODUCER, entry.producerId, entry.seq]);
    case 'producer-forget':
      return packr.pack([KIND_PRODUCER_FORGET, entry.producerId]);
    default:
      return assert.fail(`unknown log entry kind at index ${index}: ${(entry as { kind: unknown }).kind}`);
  }
}

export function decodeLogRecord(value: Buffer, index: number): LogRecord {
  const t = unpack(value, `log record ${index}`);
  if (!Array.isArray(t)) throw corrupt(`log record ${index}`);
  const key = (): MessageKey => ({ queue: t[1] as string, priority: t[2] as number, seq: t[3] as number });
  switch (t[0]) {
    case KIND_ENQUEUE:
      return { kind: 'enqueue', key: { queue: t[1] as string, priority: t[2] as number, seq: index }, messageId: t[3] as string };
    case KIND_REMOVE:
      return { kind: 'remove', key: key() };
    case KIND_REDELIVERED:
      return { kind: 'redelivered', key: key(), count: t[4] as number };
    case KIND_DURABLE_ADD:
      return {
        kind: 'durable-add',
        subscription: { clientId: t[1] as string, name: t[2] as string, destination: t[3] as string, selector: t[4] as string, queue: t[5] as string },
      };
    case KIND_DURABLE_REMOVE:
      return { kind: 'durable-remove', clientId: t[1] as string, name: t[2] as string };
    case KIND_PRODUCER:
      return { kind: 'producer', producerId: t[1] as string, seq: t[2] as number };
    case KIND_PRODUCER_FORGET:
      return { kind: 'producer-forget', producerId: t[1] as string };
    default:
      throw corrupt(`log record ${index}`);
  }
}

function assertKey(k: MessageKey, lastIndex: number): void {
  assert(typeof k.queue === 'string', 'message key needs a queue name');
  assert(Number.isInteger(k.priority) && k.priority >= 0 && k.priority <= PRIORITY_MAX, `priority must be 0–${PRIORITY_MAX}, got ${k.priority}`);
  // A seq is the log index of an enqueue, so a key naming a seq not yet handed out is a broker bug.
  assert(Number.isSafeInteger(k.seq) && k.seq >= 1 && k.seq <= lastIndex, `message key seq ${k.seq} is not an index already appended (last ${lastIndex})`);
}

function assertProducerId(id: string): void {
  assert(typeof id === 'string', 'a producer entry needs a producer id');
  const length = Buffer.byteLength(id, 'utf8');
  // The broker tracks only ids that fit (see its producer window), so a longer one is a broker bug.
  assert(length >= 1 && length <= PRODUCER_ID_BYTES_MAX, `producer id is ${length} bytes, it must be 1 to ${PRODUCER_ID_BYTES_MAX}`);
}

/**
 * Checks one entry before it is given an index, identically for every Store. `index` is the index it would
 * get; a bad entry is a broker bug, so this asserts rather than returning an expected error.
 */
export function assertEntry(entry: LogEntry, index: number): void {
  switch (entry.kind) {
    case 'enqueue': {
      const m = entry.message;
      assert(typeof entry.queue === 'string', 'enqueue needs a store queue');
      assert(Number.isInteger(m.priority) && m.priority >= 0 && m.priority <= PRIORITY_MAX, `priority must be 0–${PRIORITY_MAX}, got ${m.priority}`);
      assert(typeof m.messageId === 'string' && typeof m.destination === 'string', 'message needs an id and a destination');
      assert((m.body as unknown) instanceof Uint8Array, 'message body must be a Buffer');
      assert(Array.isArray(m.headers), 'message headers must be a list of [name, value]');
      assert(Number.isFinite(m.expires) && Number.isFinite(m.timestamp), 'expires and timestamp must be numbers');
      return;
    }
    case 'remove':
      return assertKey(entry.key, index - 1);
    case 'redelivered':
      assertKey(entry.key, index - 1);
      assert(Number.isSafeInteger(entry.count) && entry.count >= 0, `redelivery count must be a non-negative integer, got ${entry.count}`);
      return;
    case 'durable-add': {
      const s = entry.subscription;
      assert([s.clientId, s.name, s.destination, s.selector, s.queue].every((f) => typeof f === 'string'), 'durable subscription fields must be strings');
      return;
    }
    case 'durable-remove':
      assert(typeof entry.clientId === 'string' && typeof entry.name === 'string', 'durable-remove needs clientId and name');
      return;
    case 'producer':
      assertProducerId(entry.producerId);
      assert(Number.isSafeInteger(entry.seq) && entry.seq >= 1, `producer seq must be a positive integer, got ${entry.seq}`);
      return;
    case 'producer-forget':
      assertProducerId(entry.producerId);
      return;
    default:
      assert.fail(`unknown log entry kind: ${(entry as { kind: unknown }).kind}`);
  }
}
