// The Store contract as one conformance suite (after aedes-persistence's abstract tests): every
// implementation runs these same cases against a fresh directory each, so MemoryStore and LevelStore
// cannot drift apart. It is not a test file itself; memory-store.test.ts and level-store.test.ts run it.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../src/errors.js';
import type { DurableSubscription, HeaderList, LogEntry, MessageKey, Store, StoredMessage, StoredRecord } from '../src/types.js';

/** A store with the optional parts of the contract that both implementations provide. */
export type SuiteStore = Store & Required<Pick<Store, 'readLog' | 'stats'>>;

export interface SuiteStoreOptions {
  readonly logTailEntriesMax?: number;
}

export interface SuiteHooks {
  /** Makes the store's next write fail as a broken disk would. */
  breakWrites(store: SuiteStore): void;
}

export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function message(id: string, over: Partial<StoredMessage> = {}): StoredMessage {
  return {
    messageId: id,
    destination: '/queue/test',
    headers: [['content-type', 'text/plain']],
    body: Buffer.from(`body of ${id}`),
    priority: 4,
    expires: 0,
    timestamp: 1_700_000_000_000,
    ...over,
  };
}

export function enqueue(queue: string, id: string, over: Partial<StoredMessage> = {}): LogEntry {
  return { kind: 'enqueue', queue, message: message(id, over) };
}

export async function expectStoreError(promise: Promise<unknown>, code: string): Promise<StoreError> {
  const err = await promise.then(
    () => expect.fail(`expected ${code}, but it succeeded`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect((err as StoreError).code).toBe(code);
  return err as StoreError;
}

function expectThrowsStoreError(fn: () => unknown, code: string): StoreError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe(code);
    return err as StoreError;
  }
  return expect.fail(`expected ${code}, but nothing was thrown`);
}

const ids = (records: StoredRecord[]) => records.map((r) => r.message.messageId);
const seqs = (records: StoredRecord[]) => records.map((r) => r.key.seq);

export function storeSuite(name: string, makeStore: (dir: string, opts?: SuiteStoreOptions) => SuiteStore, hooks: SuiteHooks): void {
  describe(`${name} conformance`, () => {
    let dir: string;
    let opened: SuiteStore[];

    beforeEach(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'mini-amq-store-suite-'));
      opened = [];
    });
    afterEach(async () => {
      for (const store of opened) await store.close();
      await rm(dir, { recursive: true, force: true });
    });

    /** A new store on the test's directory, opened; calling it again after close() is a restart. */
    async function open(opts?: SuiteStoreOptions) {
      const store = makeStore(dir, opts);
      opened.push(store);
      const recovered = await store.open();
      return { store, recovered };
    }

    it('opens an empty directory with nothing in it', async () => {
      const { store, recovered } = await open();
      expect(recovered.lastIndex).toBe(0);
      expect([...recovered.queues]).toEqual([]);
      expect(recovered.durableSubscriptions).toEqual([]);
      expect([...recovered.producers]).toEqual([]);
      expect(await store.readQueue('q', 4, 0, 10)).toEqual([]);
      expect(await store.readLog(1, 10)).toEqual([]);
    });

    it('keeps producer windows: the latest write wins, a forget deletes, open() lists them least recently written first', async () => {
      const producer = (producerId: string, seq: number): LogEntry => ({ kind: 'producer', producerId, seq });
      const forget = (producerId: string): LogEntry => ({ kind: 'producer-forget', producerId });
      let { store } = await open();
      await store.append([enqueue('q', 'a1'), producer('ID:a', 1)]).durable;
      store.append([enqueue('q', 'b1'), producer('ID:b', 1)]);
      store.append([enqueue('q', 'c1'), enqueue('q', 'c2'), producer('ID:c', 2)]);
      // Written again: a moves behind b and c in recency, and its seq is the latest one written.
      await store.append([enqueue('q', 'a2'), producer('ID:a', 7), producer('ID:a', 9)]).durable;
      // Forgotten, and in one call forgotten then written again (the broker re-tracking an id it dropped).
      await store.append([forget('ID:b'), forget('ID:c'), producer('ID:c', 3), forget('never-tracked')]).durable;
      await store.close();

      let recovered;
      ({ store, recovered } = await open());
      expect([...recovered.producers]).toEqual([['ID:a', 9], ['ID:c', 3]]);
      // Windows are not messages: the queue holds exactly the enqueues.
      expect(recovered.queues.get('q')).toBe(5);
      await store.append([producer('ID:a', 10), producer('ünïcødé 🚀', 1)]).durable;
      await store.close();
      ({ recovered } = await open());
      expect([...recovered.producers]).toEqual([['ID:c', 3], ['ID:a', 10], ['ünïcødé 🚀', 1]]);
    });

    it('lands a producer window atomically with its enqueues, and lists it in the log tail', async () => {
      let { store } = await open();
      const entries: LogEntry[] = [enqueue('q', 'm1'), { kind: 'producer', producerId: 'ID:p', seq: 4 }, { kind: 'producer-forget', producerId: 'ID:old' }];
      await store.append(entries).durable;
      expect(await store.readLog(2, 2)).toEqual([{ index: 2, record: entries[1] }, { index: 3, record: entries[2] }]);
      // A call with a bad entry leaves no window behind, as it leaves no message.
      expect(() => store.append([enqueue('q', 'm2'), { kind: 'producer', producerId: 'ID:p', seq: 5 }, enqueue('q', 'm3', { priority: 12 })])).toThrow(/priority/);
      expect(() => store.append([{ kind: 'producer', producerId: 'ID:p', seq: 0 }])).toThrow(/seq/);
      expect(() => store.append([{ kind: 'producer', producerId: '', seq: 1 }])).toThrow(/producer id/);
      expect(() => store.append([{ kind: 'producer-forget', producerId: 'x'.repeat(2000) }])).toThrow(/producer id/);
      expect(store.stats().lastIndex).toBe(3);
      await store.close();
      let recovered;
      ({ store, recovered } = await open());
      expect([...recovered.producers]).toEqual([['ID:p', 4]]);
      expect(ids(await store.readQueue('q', 4, 0, 10))).toEqual(['m1']);
    });

    it('numbers entries densely across calls and turns, and resolves durable in log order', async () => {
      const { store } = await open();
      const order: number[] = [];
      const a = store.append([enqueue('q', 'a'), enqueue('q', 'b')]);
      const b = store.append([enqueue('q', 'c')]);
      const c = store.append([]);
      expect([a.firstIndex, b.firstIndex, c.firstIndex]).toEqual([1, 3, 4]);
      a.durable.then(() => order.push(1));
      b.durable.then(() => order.push(3));
      await turn();
      const d = store.append([enqueue('q', 'd')]);
      d.durable.then(() => order.push(4));
      expect(d.firstIndex).toBe(4);
      await d.durable;
      await b.durable;
      expect(order).toEqual([1, 3, 4]);
      expect(store.stats()).toMatchObject({ lastIndex: 4, durableIndex: 4, pendingEntries: 0 });
      expect(seqs(await store.readQueue('q', 4, 0, 10))).toEqual([1, 2, 3, 4]);
    });

    it("gives a message the log index of its enqueue as its seq", async () => {
      const { store } = await open();
      const sub: DurableSubscription = { clientId: 'c', name: 'n', destination: '/topic/t', selector: '', queue: 'sub' };
      const r = store.append([{ kind: 'durable-add', subscription: sub }, enqueue('sub', 'm')]);
      await r.durable;
      const [record] = await store.readQueue('sub', 4, 0, 10);
      expect(record!.key).toEqual({ queue: 'sub', priority: 4, seq: r.firstIndex + 1 });
    });

    it('pages one priority of one queue in seq order with afterSeq cursors and limits', async () => {
      const { store } = await open();
      const entries: LogEntry[] = [];
      for (let i = 0; i < 10; i++) entries.push(enqueue('q', `p4-${i}`), enqueue('q', `p9-${i}`, { priority: 9 }));
      // Names that prefix each other, and an empty name, must not share a range.
      entries.push(enqueue('q/sub', 'other'), enqueue('', 'empty-name'), enqueue('qq', 'other2'), enqueue('q', 'p0', { priority: 0 }));
      await store.append(entries).durable;

      const first = await store.readQueue('q', 4, 0, 3);
      expect(ids(first)).toEqual(['p4-0', 'p4-1', 'p4-2']);
      expect(seqs(first)).toEqual([1, 3, 5]);
      const next = await store.readQueue('q', 4, first[2]!.key.seq, 3);
      expect(ids(next)).toEqual(['p4-3', 'p4-4', 'p4-5']);
      // A cursor between two seqs starts at the next one.
      expect(ids(await store.readQueue('q', 4, 6, 1))).toEqual(['p4-3']);
      const rest = await store.readQueue('q', 4, next[2]!.key.seq, 100);
      expect(ids(rest)).toEqual(['p4-6', 'p4-7', 'p4-8', 'p4-9']);
      expect(await store.readQueue('q', 4, rest[3]!.key.seq, 100)).toEqual([]);

      expect(ids(await store.readQueue('q', 9, 0, 100))).toHaveLength(10);
      expect((await store.readQueue('q', 9, 0, 100)).every((r) => r.key.priority === 9 && r.message.priority === 9)).toBe(true);
      expect(ids(await store.readQueue('q', 0, 0, 100))).toEqual(['p0']);
      expect(ids(await store.readQueue('q/sub', 4, 0, 100))).toEqual(['other']);
      expect(ids(await store.readQueue('', 4, 0, 100))).toEqual(['empty-name']);
      expect(await store.readQueue('q', 5, 0, 100)).toEqual([]);
      expect(await store.readQueue('nope', 4, 0, 100)).toEqual([]);
      expect(await store.readQueue('q', 4, 0, 0)).toEqual([]);
    });

    it('removes messages, including one enqueued earlier in the same call', async () => {
      const { store } = await open();
      await store.append([enqueue('q', 'a'), enqueue('q', 'b'), enqueue('q', 'c')]).durable;
      const r = store.append([{ kind: 'remove', key: { queue: 'q', priority: 4, seq: 2 } }, enqueue('q', 'd')]);
      store.append([{ kind: 'remove', key: { queue: 'q', priority: 4, seq: r.firstIndex + 1 } }]);
      // Removing what is not live changes nothing, but is still an entry.
      const gone = store.append([{ kind: 'remove', key: { queue: 'q', priority: 4, seq: 2 } }]);
      await gone.durable;
      expect(ids(await store.readQueue('q', 4, 0, 10))).toEqual(['a', 'c']);
      expect(gone.firstIndex).toBe(7);
    });

    it('records redelivery counts, latest wins, and a count never outlives its message', async () => {
      const { store } = await open();
      const key = (seq: number): MessageKey => ({ queue: 'q', priority: 4, seq });
      await store.append([enqueue('q', 'a'), enqueue('q', 'b'), enqueue('q', 'c')]).durable;
      store.append([{ kind: 'redelivered', key: key(1), count: 1 }]);
      await store.append([{ kind: 'redelivered', key: key(1), count: 3 }, { kind: 'redelivered', key: key(2), count: 1 }]).durable;
      expect((await store.readQueue('q', 4, 0, 10)).map((r) => r.redeliveryCount)).toEqual([3, 1, 0]);
      // Only the page read: a cursor past a counted message does not shift the counts.
      expect((await store.readQueue('q', 4, 1, 1)).map((r) => [r.key.seq, r.redeliveryCount])).toEqual([[2, 1]]);

      // In one call: enqueue then count; count then remove; remove then count.
      const r = store.append([
        enqueue('q', 'd'),
        { kind: 'redelivered', key: key(7), count: 2 },
        { kind: 'redelivered', key: key(3), count: 5 },
        { kind: 'remove', key: key(3) },
        { kind: 'remove', key: key(2) },
        { kind: 'redelivered', key: key(2), count: 9 },
      ]);
      expect(r.firstIndex).toBe(7);
      await r.durable;
      // And in a later call, a count for a message removed long ago.
      await store.append([{ kind: 'redelivered', key: key(2), count: 4 }]).durable;
      expect((await store.readQueue('q', 4, 0, 10)).map((x) => [x.message.messageId, x.redeliveryCount])).toEqual([
        ['a', 3],
        ['d', 2],
      ]);
    });

    it('adds and removes durable subscriptions; removing one clears its queue and nothing else', async () => {
      const sub = (name: string, queue: string): DurableSubscription => ({ clientId: 'client-1', name, destination: '/topic/prices', selector: "region = 'eu'", queue });
      let { store } = await open();
      await store.append([
        { kind: 'durable-add', subscription: sub('s1', 'dsub:client-1:s1') },
        { kind: 'durable-add', subscription: sub('s2', 'dsub:client-1:s2') },
        enqueue('dsub:client-1:s1', 'x1'),
        enqueue('dsub:client-1:s1', 'x2', { priority: 7 }),
        enqueue('dsub:client-1:s2', 'y1'),
        enqueue('dsub:client-1:s1x', 'z1'),
      ]).durable;
      await store.append([{ kind: 'redelivered', key: { queue: 'dsub:client-1:s1', priority: 4, seq: 3 }, count: 1 }]).durable;
      // Within one call, a removal clears what came before it, not what comes after.
      const r = store.append([
        enqueue('dsub:client-1:s1', 'x3'),
        { kind: 'durable-remove', clientId: 'client-1', name: 's1' },
        enqueue('dsub:client-1:s1', 'x4'),
        { kind: 'durable-remove', clientId: 'client-1', name: 'never-added' },
      ]);
      await r.durable;
      expect(ids(await store.readQueue('dsub:client-1:s1', 4, 0, 10))).toEqual(['x4']);
      expect(await store.readQueue('dsub:client-1:s1', 7, 0, 10)).toEqual([]);
      expect(ids(await store.readQueue('dsub:client-1:s2', 4, 0, 10))).toEqual(['y1']);
      expect(ids(await store.readQueue('dsub:client-1:s1x', 4, 0, 10))).toEqual(['z1']);
      await store.close();

      let recovered;
      ({ store, recovered } = await open());
      expect(recovered.durableSubscriptions).toEqual([sub('s2', 'dsub:client-1:s2')]);
      expect(Object.fromEntries(recovered.queues)).toEqual({ 'dsub:client-1:s1': 1, 'dsub:client-1:s2': 1, 'dsub:client-1:s1x': 1 });
      // A subscription added and removed in one call leaves nothing, and clears its queue.
      await store.append([
        { kind: 'durable-add', subscription: sub('s3', 'dsub:client-1:s3') },
        enqueue('dsub:client-1:s3', 'w1'),
        { kind: 'durable-remove', clientId: 'client-1', name: 's3' },
      ]).durable;
      expect(await store.readQueue('dsub:client-1:s3', 4, 0, 10)).toEqual([]);
      await store.close();
      ({ recovered } = await open());
      expect(recovered.durableSubscriptions).toEqual([sub('s2', 'dsub:client-1:s2')]);
      expect(recovered.queues.has('dsub:client-1:s3')).toBe(false);
    });

    it('applies a call atomically: a call with a bad entry throws and leaves no trace', async () => {
      const { store } = await open();
      await store.append([enqueue('q', 'a')]).durable;
      expect(() => store.append([enqueue('q', 'b'), enqueue('q', 'c', { priority: 12 })])).toThrow(/priority/);
      expect(() => store.append([{ kind: 'remove', key: { queue: 'q', priority: 4, seq: 99 } }])).toThrow(/seq 99/);
      expect(store.stats().lastIndex).toBe(1);
      const r = store.append([enqueue('q', 'd'), enqueue('q', 'e')]);
      expect(r.firstIndex).toBe(2);
      await r.durable;
      expect(ids(await store.readQueue('q', 4, 0, 10))).toEqual(['a', 'd', 'e']);
    });

    it('round-trips bodies of any bytes and headers of any text, and copies them on the way in', async () => {
      const { store } = await open();
      const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const big = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
      const headers: HeaderList = [
        ['content-type', 'application/octet-stream'],
        ['x', 'a:b\nc\\d'],
        ['x', 'second of a repeated name'],
        ['ünïcødé', '☃ 🚀'],
        ['empty', ''],
      ];
      const mutable = Buffer.from('before');
      const messages = [
        message('all-bytes', { body: allBytes, headers }),
        message('empty', { body: Buffer.alloc(0), headers: [] }),
        message('big', { body: big, destination: '/queue/ørders', expires: Date.now() + 86_400_000, timestamp: 2 ** 52 }),
        message('ID:🚀:1', { body: mutable }),
      ];
      await store.append(messages.map((m) => ({ kind: 'enqueue', queue: 'q', message: m }))).durable;
      mutable.write('AFTER!');
      const read = (await store.readQueue('q', 4, 0, 10)).map((r) => r.message);
      const expected = messages.map((m) => (m.messageId === 'ID:🚀:1' ? { ...m, body: Buffer.from('before') } : m));
      // Bodies compared as bytes: a deep-equality diff of a 1 MiB buffer takes seconds.
      const withoutBody = ({ body: _, ...rest }: StoredMessage) => rest;
      expect(read.map(withoutBody)).toEqual(expected.map(withoutBody));
      expect(read.map((m) => Buffer.isBuffer(m.body) && m.body.equals(expected[read.indexOf(m)]!.body))).toEqual([true, true, true, true]);
    });

    it('recovers counts, subscriptions and lastIndex on reopen, and numbering continues densely', async () => {
      let { store } = await open();
      const sub: DurableSubscription = { clientId: 'c', name: 'n', destination: '/topic/t', selector: '', queue: 'dsub' };
      await store.append([enqueue('a', '1'), enqueue('a', '2', { priority: 8 }), enqueue('a', '3'), enqueue('b', '4'), { kind: 'durable-add', subscription: sub }]).durable;
      store.append([{ kind: 'remove', key: { queue: 'a', priority: 4, seq: 1 } }, { kind: 'redelivered', key: { queue: 'a', priority: 4, seq: 3 }, count: 2 }]);
      const before = await (async () => {
        await store.append([enqueue('b', '5')]).durable;
        return store.readQueue('a', 4, 0, 10);
      })();
      await store.close();

      let recovered;
      ({ store, recovered } = await open());
      expect(recovered.lastIndex).toBe(8);
      expect(Object.fromEntries(recovered.queues)).toEqual({ a: 2, b: 2 });
      expect(recovered.durableSubscriptions).toEqual([sub]);
      expect(await store.readQueue('a', 4, 0, 10)).toEqual(before);
      expect(before.map((r) => r.redeliveryCount)).toEqual([2]);
      const r = store.append([enqueue('b', '6')]);
      expect(r.firstIndex).toBe(9);
      await r.durable;
      await store.close();
      ({ recovered } = await open());
      expect(recovered.lastIndex).toBe(9);
      expect(recovered.queues.get('b')).toBe(3);
    });

    it('close() waits for appends still pending', async () => {
      let { store } = await open();
      for (let i = 0; i < 100; i++) store.append([enqueue('q', `m${i}`)]);
      await store.close();
      let recovered;
      ({ store, recovered } = await open());
      expect(recovered.lastIndex).toBe(100);
      expect(await store.readQueue('q', 4, 0, 1000)).toHaveLength(100);
    });

    it('refuses work before open and after close with STORE_CLOSED', async () => {
      const store = makeStore(dir);
      opened.push(store);
      expectThrowsStoreError(() => store.append([enqueue('q', 'a')]), 'STORE_CLOSED');
      await expectStoreError(store.readQueue('q', 4, 0, 1), 'STORE_CLOSED');
      await store.open();
      await store.close();
      expectThrowsStoreError(() => store.append([enqueue('q', 'a')]), 'STORE_CLOSED');
      await expectStoreError(store.readLog(1, 1), 'STORE_CLOSED');
      await store.close(); // closing twice is fine
    });

    it('refuses a second store on the same directory with STORE_LOCKED', async () => {
      await open();
      const second = makeStore(dir);
      const err = await expectStoreError(second.open(), 'STORE_LOCKED');
      expect(err.message).toMatch(/another broker is using/);
    });

    it('returns the durable log tail, an enqueue as a reference to its message', async () => {
      const { store } = await open();
      const sub: DurableSubscription = { clientId: 'c', name: 'n', destination: '/topic/t', selector: 'x > 1', queue: 'dsub' };
      const entries: LogEntry[] = [
        enqueue('q', 'm1', { priority: 6 }),
        { kind: 'redelivered', key: { queue: 'q', priority: 6, seq: 1 }, count: 1 },
        { kind: 'remove', key: { queue: 'q', priority: 6, seq: 1 } },
        { kind: 'durable-add', subscription: sub },
        { kind: 'durable-remove', clientId: 'c', name: 'n' },
      ];
      await store.append(entries).durable;
      expect(await store.readLog(1, 100)).toEqual([
        { index: 1, record: { kind: 'enqueue', key: { queue: 'q', priority: 6, seq: 1 }, messageId: 'm1' } },
        { index: 2, record: entries[1] },
        { index: 3, record: entries[2] },
        { index: 4, record: entries[3] },
        { index: 5, record: entries[4] },
      ]);
      expect((await store.readLog(2, 2)).map((r) => r.index)).toEqual([2, 3]);
      expect(await store.readLog(6, 10)).toEqual([]);
      expect(await store.readLog(3, 0)).toEqual([]);
    });

    it('keeps the log tail within its bound, also after reopening with a smaller one', async () => {
      let { store } = await open({ logTailEntriesMax: 5 });
      for (let i = 0; i < 7; i++) store.append([enqueue('q', `a${i}`)]);
      await turn();
      for (let i = 0; i < 5; i++) await store.append([enqueue('q', `b${i}`)]).durable;
      expect(store.stats().logFirstIndex).toBe(8);
      expect((await store.readLog(8, 100)).map((r) => r.index)).toEqual([8, 9, 10, 11, 12]);
      const err = await expectStoreError(store.readLog(7, 100), 'STORE_LOG_TRIMMED');
      expect(err.message).toMatch(/snapshot/);
      await store.close();

      ({ store } = await open({ logTailEntriesMax: 3 }));
      expect(store.stats().logFirstIndex).toBe(10);
      expect((await store.readLog(10, 100)).map((r) => r.index)).toEqual([10, 11, 12]);
      await expectStoreError(store.readLog(9, 1), 'STORE_LOG_TRIMMED');
      // The live messages are untouched by trimming.
      expect(await store.readQueue('q', 4, 0, 100)).toHaveLength(12);
      await store.close();

      ({ store } = await open({ logTailEntriesMax: 0 }));
      await store.append([enqueue('q', 'c')]).durable;
      await expectStoreError(store.readLog(13, 1), 'STORE_LOG_TRIMMED');
      expect(store.stats().logFirstIndex).toBe(14);
    });

    it('commits everything appended in one turn as one batch', async () => {
      const { store } = await open();
      await store.append([enqueue('q', 'warm-up')]).durable;
      const before = store.stats().batches;
      let last;
      for (let i = 0; i < 1000; i++) last = store.append([enqueue('q', `m${i}`)]);
      await last!.durable;
      expect(store.stats().batches - before).toBe(1);
      expect(store.stats().largestBatchEntries).toBe(1000);
      expect(store.stats().entriesWritten).toBe(1001);
    });

    it('stops after a failed write: every waiter is rejected, later appends are refused', async () => {
      const { store } = await open();
      await store.append([enqueue('q', 'ok')]).durable;
      hooks.breakWrites(store);
      const a = store.append([enqueue('q', 'a')]);
      const b = store.append([enqueue('q', 'b')]);
      const err = await expectStoreError(a.durable, 'STORE_WRITE_FAILED');
      expect(err.cause).toBeInstanceOf(Error);
      expect(err.message).toMatch(/2\.\.3/);
      await expectStoreError(b.durable, 'STORE_WRITE_FAILED');
      const refused = expectThrowsStoreError(() => store.append([enqueue('q', 'c')]), 'STORE_WRITE_FAILED');
      expect(refused.cause).toBe(err);
      await store.close();
    });
  });
}
