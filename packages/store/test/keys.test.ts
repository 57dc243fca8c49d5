// The key layout's promises, checked on the bytes: keys sort as (queue, priority high to low, seq), a
// page-in range holds exactly one queue's one priority past a cursor, and u64 parts survive every size a
// log index can take. Random keys come from a fixed seed so a failure replays.
import { describe, expect, it } from 'vitest';
import {
  SPACE_AUX,
  SPACE_LIVE,
  SPACE_MESSAGE,
  decodeMessageKey,
  durableKey,
  inSpace,
  SPACE_PRODUCER,
  logIndexOf,
  logKey,
  messageKey,
  priorityRange,
  producerIdOf,
  producerKey,
  queueRange,
  spaceRange,
  auxKey,
  auxRange,
} from '../src/keys.js';
import type { MessageKey } from '../src/types.js';
import { mulberry32 } from './random.js';


const inRange = (key: Buffer, r: { gte: Buffer; lt: Buffer }) => Buffer.compare(key, r.gte) >= 0 && Buffer.compare(key, r.lt) < 0;

describe('keys', () => {
  const random = mulberry32(20240601);
  const queues = ['', 'a', 'a/b', 'ab', 'b', 'é', 'a\u0000', '/queue/orders', 'x'.repeat(300)];
  const seqsAt = [1, 2, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1];
  const keys: MessageKey[] = [];
  for (let i = 0; i < 2000; i++) {
    keys.push({
      queue: queues[Math.floor(random() * queues.length)]!,
      priority: Math.floor(random() * 10),
      seq: random() < 0.2 ? seqsAt[Math.floor(random() * seqsAt.length)]! : 1 + Math.floor(random() * 2 ** 40),
    });
  }

  it('round-trip message keys, in both mirrored spaces', () => {
    for (const k of keys) {
      const key = messageKey(SPACE_MESSAGE, k);
      expect(decodeMessageKey(key)).toEqual(k);
      expect(decodeMessageKey(inSpace(SPACE_LIVE, key))).toEqual(k);
      expect(inSpace(SPACE_LIVE, key).equals(messageKey(SPACE_LIVE, k))).toBe(true);
    }
  });

  it('sort by queue bytes (length first), then priority high to low, then seq', () => {
    const byBytes = [...keys].sort((a, b) => Buffer.compare(messageKey(SPACE_MESSAGE, a), messageKey(SPACE_MESSAGE, b)));
    const utf8 = (q: string) => Buffer.from(q, 'utf8');
    const byMeaning = [...keys].sort(
      (a, b) =>
        utf8(a.queue).length - utf8(b.queue).length ||
        Buffer.compare(utf8(a.queue), utf8(b.queue)) ||
        b.priority - a.priority ||
        a.seq - b.seq,
    );
    expect(byBytes).toEqual(byMeaning);
  });

  it('bound a page-in to one queue, one priority and seqs past the cursor', () => {
    const encoded = keys.map((k) => messageKey(SPACE_MESSAGE, k));
    for (let i = 0; i < 200; i++) {
      const probe = keys[i]!;
      const afterSeq = Math.floor(random() * 2 ** 40);
      const range = priorityRange(SPACE_MESSAGE, probe.queue, probe.priority, afterSeq);
      const whole = queueRange(SPACE_MESSAGE, probe.queue);
      // Compared as whole arrays: one expect per probe, not per key.
      expect(encoded.map((key) => inRange(key, range))).toEqual(keys.map((k) => k.queue === probe.queue && k.priority === probe.priority && k.seq > afterSeq));
      expect(encoded.map((key) => inRange(key, whole))).toEqual(keys.map((k) => k.queue === probe.queue));
      expect(encoded.some((key) => inRange(inSpace(SPACE_LIVE, key), range))).toBe(false);
    }
  });

  it('write log indexes as sortable u64 and refuse what does not fit', () => {
    const indexes = [0, 1, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, 2 ** 53 - 1];
    for (const n of indexes) expect(logIndexOf(logKey(n))).toBe(n);
    const sorted = indexes.map(logKey).sort(Buffer.compare).map(logIndexOf);
    expect(sorted).toEqual(indexes);
    expect(() => logKey(2 ** 53)).toThrow(/safe integer/);
    expect(() => logKey(-1)).toThrow(/non-negative/);
    expect(() => messageKey(SPACE_MESSAGE, { queue: 'q', priority: 10, seq: 1 })).toThrow(/priority/);
    expect(() => messageKey(SPACE_MESSAGE, { queue: 'x'.repeat(70_000), priority: 1, seq: 1 })).toThrow(/queue name/);
  });

  it('tell durable subscriptions apart even when one name runs into the next', () => {
    expect(durableKey('ab', 'c').equals(durableKey('a', 'bc'))).toBe(false);
  });

  it('keep producer windows in their own space, keyed by the whole id', () => {
    for (const id of ['ID:a', 'ID:a:1', 'ünïcødé 🚀', '\u0000']) {
      const key = producerKey(id);
      expect(producerIdOf(key)).toBe(id);
      expect(inRange(key, spaceRange(SPACE_PRODUCER))).toBe(true);
    }
    expect(() => producerKey('')).toThrow(/producer id/);
    expect(() => producerKey('x'.repeat(1025))).toThrow(/producer id/);
  });

  it('bound an aux prefix to exactly the aux keys that extend it, 0xff bytes included', () => {
    const suffixes = [[], [0], [0xff], [0xff, 0xff], [0xff, 0], [1], [1, 0xff], [1, 0xff, 0xff, 3], [1, 0xfe], [2], [0xfe, 0xff]].map((b) => Buffer.from(b));
    const keys = suffixes.map(auxKey);
    for (const prefix of suffixes) {
      const range = auxRange(prefix);
      const starts = (s: Buffer) => s.length >= prefix.length && s.subarray(0, prefix.length).equals(prefix);
      expect(keys.map((key) => inRange(key, range))).toEqual(suffixes.map(starts));
      expect(inRange(auxKey(prefix), spaceRange(SPACE_AUX))).toBe(true);
      expect(Buffer.compare(range.lt, spaceRange(SPACE_AUX).lt)).toBeLessThanOrEqual(0);
    }
  });
});
