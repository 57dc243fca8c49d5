// Goal: the producer window alone (no broker, no IO) keeps the highest seq per producer within its bound,
// forgets the least recently used first, and rebuilds from what a store recovered; method: direct calls.
import { describe, expect, it } from 'vitest';
import { PRODUCER_WINDOWS_MAX } from '@mini-amq/store';
import { PRODUCERS_TRACKED_MAX, ProducerWindow, producerOf } from '../src/producer-window.js';

const dropped = (list: Array<[string, { seq: number; stored: boolean }]>) => list.map(([id, t]) => [id, t.seq, t.stored]);

describe('ProducerWindow', () => {
  it('keeps the highest seq accepted per producer and refuses to go back', () => {
    const w = new ProducerWindow(10);
    expect(w.accept({ id: 'a', seq: 1 })).toEqual([]);
    w.accept({ id: 'a', seq: 5 });
    expect(w.peek('a')?.seq).toBe(5);
    expect(() => w.accept({ id: 'a', seq: 5 })).toThrow(/duplicate must not be accepted/);
  });

  it('drops the least recently used past its bound; a touch or an accept is a use', () => {
    const w = new ProducerWindow(2);
    w.accept({ id: 'a', seq: 1 });
    w.accept({ id: 'b', seq: 1 });
    w.touch('a');
    expect(dropped(w.accept({ id: 'c', seq: 1 }))).toEqual([['b', 1, false]]);
    w.accept({ id: 'a', seq: 2 });
    expect(dropped(w.accept({ id: 'd', seq: 1 }))).toEqual([['c', 1, false]]);
    expect(w.ids()).toEqual(['a', 'd']);
    // peek is not a use.
    w.peek('a');
    expect(dropped(w.accept({ id: 'e', seq: 1 }))).toEqual([['a', 2, false]]);
  });

  it('loads recovered windows as stored, oldest first, and hands back those past a lowered bound', () => {
    const w = new ProducerWindow(2);
    expect(dropped(w.load(new Map([['x', 3], ['y', 4], ['z', 5]])))).toEqual([['x', 3, true]]);
    expect(w.ids()).toEqual(['y', 'z']);
    expect(w.peek('z')).toMatchObject({ seq: 5, stored: true });
  });

  it('takes a bound from 1 to what a store holds, by default twice ActiveMQ\'s 2048', () => {
    expect(PRODUCERS_TRACKED_MAX).toBe(4096);
    expect(new ProducerWindow().max).toBe(PRODUCERS_TRACKED_MAX);
    expect(() => new ProducerWindow(0)).toThrow(/from 1 to/);
    expect(() => new ProducerWindow(PRODUCER_WINDOWS_MAX + 1)).toThrow(/from 1 to/);
  });
});

describe('producerOf', () => {
  it('reads the first amq-producer-id and a positive decimal amq-producer-seq, or nothing', () => {
    expect(producerOf([['amq-producer-id', 'ID:p'], ['amq-producer-seq', '42']])).toEqual({ id: 'ID:p', seq: 42 });
    expect(producerOf([['amq-producer-seq', '1'], ['amq-producer-id', 'first'], ['amq-producer-id', 'second']])).toEqual({ id: 'first', seq: 1 });
    expect(producerOf([['amq-producer-seq', String(2 ** 53)], ['amq-producer-id', 'p']])).toBeNull();
    expect(producerOf([['amq-producer-id', 'p']])).toBeNull();
    expect(producerOf([['amq-producer-seq', '1']])).toBeNull();
    expect(producerOf([])).toBeNull();
  });
});
