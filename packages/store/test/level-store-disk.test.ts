// What only the LevelDB store has: group-commit batching against a disk that is busy (its write held on a
// gate, so the test is deterministic), batch bounds, and how it reads damaged or foreign directories. The
// damage is made by writing raw keys with `level` next to a closed store, using the layout in keys.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FORMAT_VERSION, FORMAT_VERSION_KEY, LAST_INDEX_KEY, SPACE_LIVE, SPACE_MESSAGE, inSpace, logKey, messageKey, producerKey } from '../src/keys.js';
import { LevelStore, type LevelStoreOptions } from '../src/level-store.js';
import { PRODUCER_WINDOWS_MAX } from '../src/limits.js';
import { decodeNumber, encodeNumber, encodeProducer } from '../src/records.js';
import type { AppendResult, LogEntry } from '../src/types.js';
import { enqueue, expectStoreError, message, turn } from './store-suite.js';

let dir: string;
let stores: LevelStore[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mini-amq-level-'));
  stores = [];
});
afterEach(async () => {
  for (const store of stores) await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(opts: Partial<LevelStoreOptions> = {}) {
  const store = new LevelStore({ directory: dir, ...opts });
  stores.push(store);
  const recovered = await store.open();
  return { store, recovered };
}

/** Runs `fn` on the raw LevelDB of the (closed) store directory. */
async function raw(fn: (db: Level<Buffer, Buffer>) => Promise<void>) {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

/** Holds every batch write of `store` until `release()`: the disk is busy for as long as the test says. */
function gateWrites(store: LevelStore) {
  const db = (store as unknown as { db: Level<Buffer, Buffer> }).db;
  const batch = db.batch.bind(db) as () => ReturnType<Level<Buffer, Buffer>['batch']>;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started = 0;
  (db as unknown as { batch: () => unknown }).batch = () => {
    started++;
    const chained = batch();
    const write = chained.write.bind(chained);
    (chained as unknown as { write: (o: unknown) => Promise<void> }).write = async (options) => {
      await gate;
      return write(options as Parameters<typeof write>[0]);
    };
    return chained;
  };
  return { release, started: () => started };
}

describe('LevelStore group commit', () => {
  it('collects appends made while a batch is in flight into the next batch', async () => {
    const { store } = await open();
    const gate = gateWrites(store);
    const first = store.append([enqueue('q', 'first')]);
    await turn();
    expect(gate.started()).toBe(1);
    const later: AppendResult[] = [];
    for (let t = 0; t < 5; t++) {
      later.push(store.append([enqueue('q', `t${t}a`)]), store.append([enqueue('q', `t${t}b`)]));
      await turn();
    }
    // Nothing else starts while the first batch is held.
    expect(gate.started()).toBe(1);
    expect(store.stats()).toMatchObject({ lastIndex: 11, durableIndex: 0, pendingEntries: 11 });
    gate.release();
    await first.durable;
    await Promise.all(later.map((r) => r.durable));
    expect(store.stats()).toMatchObject({ batches: 2, largestBatchEntries: 10, durableIndex: 11 });
    expect((await store.readQueue('q', 4, 0, 100)).map((r) => r.key.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('splits a burst at the entry bound, in order, but never splits one call', async () => {
    const { store } = await open({ batchEntriesMax: 100 });
    const results: AppendResult[] = [];
    for (let i = 0; i < 250; i++) results.push(store.append([enqueue('q', `s${i}`)]));
    const big = store.append(Array.from({ length: 150 }, (_, i) => enqueue('q', `big${i}`)));
    const after = store.append([enqueue('q', 'after')]);
    const order: number[] = [];
    for (const r of [...results, big, after]) void r.durable.then(() => order.push(r.firstIndex));
    await after.durable;
    expect(big.firstIndex).toBe(251);
    expect(store.stats()).toMatchObject({ batches: 5, largestBatchEntries: 150, entriesWritten: 401 });
    expect(order).toEqual([...results, big, after].map((r) => r.firstIndex));
    expect(await store.readQueue('q', 4, 0, 1000)).toHaveLength(401);
  });

  it('splits a burst at the byte bound', async () => {
    const { store } = await open({ batchBytesMax: 10 * 1024 });
    let last: AppendResult | undefined;
    for (let i = 0; i < 100; i++) last = store.append([enqueue('q', `m${i}`, { body: Buffer.alloc(1024, i) })]);
    await last!.durable;
    const stats = store.stats();
    expect(stats.batches).toBeGreaterThanOrEqual(10);
    expect(stats.largestBatchEntries).toBeLessThan(10);
  });

  it('writes fsynced batches by default and plain ones with sync: false, with the same result', async () => {
    const { store } = await open({ sync: false });
    await store.append([enqueue('q', 'a')]).durable;
    await store.close();
    const { recovered } = await open();
    expect(recovered.queues.get('q')).toBe(1);
  });
});

describe('LevelStore messages consumed before their batch is written', () => {
  it('drops the body of a message enqueued and removed in one batch, keeping both log records', async () => {
    const { store } = await open();
    const { firstIndex } = store.append([enqueue('q', 'gone', { body: Buffer.alloc(4096, 7) }), enqueue('q', 'kept')]);
    const removal = store.append([{ kind: 'remove', key: { queue: 'q', priority: 4, seq: firstIndex } }]);
    await removal.durable;
    expect(store.stats().consumedBeforeWritten).toBe(1);
    expect(store.stats().bytesWritten).toBeGreaterThan(4096); // counted as appended, never written
    const log = await store.readLog!(firstIndex, 10);
    expect(log.map((r) => r.record.kind)).toEqual(['enqueue', 'enqueue', 'remove']);
    await store.close();
    await raw(async (db) => {
      const gone = messageKey(SPACE_MESSAGE, { queue: 'q', priority: 4, seq: firstIndex });
      expect(await db.get(gone)).toBeUndefined();
      expect(await db.get(inSpace(SPACE_LIVE, gone))).toBeUndefined();
    });
    const { store: again, recovered } = await open();
    expect(recovered.queues.get('q')).toBe(1);
    expect((await again.readQueue('q', 4, 0, 10)).map((r) => r.message.messageId)).toEqual(['kept']);
  });

  it('removes normally a message whose enqueue was already written', async () => {
    const { store } = await open();
    const { firstIndex, durable } = store.append([enqueue('q', 'a')]);
    await durable;
    await store.append([{ kind: 'remove', key: { queue: 'q', priority: 4, seq: firstIndex } }]).durable;
    expect(store.stats().consumedBeforeWritten).toBe(0);
    expect(await store.readQueue('q', 4, 0, 10)).toEqual([]);
  });
});

describe('LevelStore on disk', () => {
  it('clears a large backlog when its durable subscription is removed, and counts it at open', async () => {
    let { store } = await open();
    const sub = { clientId: 'c', name: 'n', destination: '/topic/t', selector: '', queue: 'dsub' };
    await store.append([{ kind: 'durable-add', subscription: sub }]).durable;
    for (let i = 0; i < 5; i++) {
      await store.append(Array.from({ length: 1000 }, (_, j): LogEntry => enqueue('dsub', `m${i}-${j}`, { priority: j % 10 }))).durable;
    }
    await store.append([enqueue('keep', 'k')]).durable;
    await store.close();
    let recovered;
    ({ store, recovered } = await open());
    expect(Object.fromEntries(recovered.queues)).toEqual({ dsub: 5000, keep: 1 });
    await store.append([{ kind: 'durable-remove', clientId: 'c', name: 'n' }]).durable;
    await store.close();
    ({ recovered } = await open());
    expect(Object.fromEntries(recovered.queues)).toEqual({ keep: 1 });
    expect(recovered.durableSubscriptions).toEqual([]);
  });

  it('names the directory when another store holds it', async () => {
    await open();
    const err = await expectStoreError(new LevelStore({ directory: dir }).open(), 'STORE_LOCKED');
    expect(err.message).toContain(dir);
  });

  it('counts at open without reading a single message body', async () => {
    let { store } = await open();
    await store.append([enqueue('q', 'a'), enqueue('q', 'b')]).durable;
    await store.close();
    await raw((db) => db.put(messageKey(SPACE_MESSAGE, { queue: 'q', priority: 4, seq: 1 }), Buffer.from([0xc1, 0xc1])));
    let recovered;
    ({ store, recovered } = await open());
    expect(recovered.queues.get('q')).toBe(2);
    // The damage shows when the body is read, as an expected error.
    await expectStoreError(store.readQueue('q', 4, 0, 10), 'STORE_CORRUPTION');
    expect((await store.readQueue('q', 4, 1, 10)).map((r) => r.message.messageId)).toEqual(['b']);
  });

  it('reports a message that lost its live index entry as corruption', async () => {
    let { store } = await open();
    await store.append([enqueue('q', 'a'), enqueue('q', 'b')]).durable;
    await store.close();
    await raw((db) => db.del(inSpace(SPACE_LIVE, messageKey(SPACE_MESSAGE, { queue: 'q', priority: 4, seq: 1 }))));
    ({ store } = await open());
    await expectStoreError(store.readQueue('q', 4, 0, 10), 'STORE_CORRUPTION');
  });

  it('refuses a directory of someone else’s LevelDB data', async () => {
    await raw((db) => db.put(Buffer.from('hello'), Buffer.from('world')));
    const err = await expectStoreError(new LevelStore({ directory: dir }).open(), 'STORE_CORRUPTION');
    expect(err.message).toMatch(/no mini-amq format version/);
  });

  it('refuses a store written in another format version', async () => {
    const { store } = await open();
    await store.close();
    await raw((db) => db.put(FORMAT_VERSION_KEY, encodeNumber(99)));
    const err = await expectStoreError(new LevelStore({ directory: dir }).open(), 'STORE_CORRUPTION');
    expect(err.message).toMatch(/format 99/);
  });

  it('opens a format 1 store (before producer windows) and upgrades its version', async () => {
    let { store } = await open();
    await store.append([enqueue('q', 'a')]).durable;
    await store.close();
    await raw((db) => db.put(FORMAT_VERSION_KEY, encodeNumber(1)));
    let recovered;
    ({ store, recovered } = await open());
    expect([...recovered.producers]).toEqual([]);
    expect(recovered.queues.get('q')).toBe(1);
    await store.close();
    await raw(async (db) => expect(decodeNumber((await db.get(FORMAT_VERSION_KEY))!, 'version')).toBe(FORMAT_VERSION));
  });

  it('reads producer windows back boundedly and reports more than any broker keeps as corruption', async () => {
    let { store } = await open();
    await store.append([enqueue('q', 'a'), { kind: 'producer', producerId: 'ID:p', seq: 3 }]).durable;
    await store.close();
    // A window written past the end of the log cannot be real.
    await raw((db) => db.put(producerKey('ID:q'), encodeProducer(1, 9)));
    let err = await expectStoreError(new LevelStore({ directory: dir }).open(), 'STORE_CORRUPTION');
    expect(err.message).toMatch(/ID:q/);
    await raw(async (db) => {
      const batch = db.batch();
      for (let i = 0; i < PRODUCER_WINDOWS_MAX + 1; i++) batch.put(producerKey(`ID:${i}`), encodeProducer(1, 2));
      await batch.write();
    });
    err = await expectStoreError(new LevelStore({ directory: dir }).open(), 'STORE_CORRUPTION');
    expect(err.message).toMatch(/more than 65536 producer windows/);
    await raw(async (db) => {
      await db.clear({ gte: producerKey('ID:0'), lt: producerKey('ID:999999') });
      await db.del(producerKey('ID:q'));
    });
    let recovered;
    ({ store, recovered } = await open());
    expect([...recovered.producers]).toEqual([['ID:p', 3]]);
  });

  it('refuses a log that does not end at the recorded last index', async () => {
    const { store } = await open();
    await store.append([enqueue('q', 'a'), enqueue('q', 'b')]).durable;
    await store.close();
    await raw((db) => db.put(LAST_INDEX_KEY, encodeNumber(1)));
    await expectStoreError(new LevelStore({ directory: dir }).open(), 'STORE_CORRUPTION');
    await raw(async (db) => {
      await db.put(LAST_INDEX_KEY, encodeNumber(2));
      await db.del(logKey(2));
    });
    await expectStoreError(new LevelStore({ directory: dir }).open(), 'STORE_CORRUPTION');
  });

  it('reports a live message past the last index as corruption', async () => {
    const { store } = await open();
    await store.append([enqueue('q', 'a')]).durable;
    await store.close();
    await raw((db) => db.put(inSpace(SPACE_LIVE, messageKey(SPACE_MESSAGE, { queue: 'q', priority: 4, seq: 7 })), encodeNumber(0)));
    const err = await expectStoreError(new LevelStore({ directory: dir }).open(), 'STORE_CORRUPTION');
    expect(err.message).toMatch(/seq 7/);
  });

  it('keeps messages of every priority apart in one queue', async () => {
    const { store } = await open();
    await store.append(Array.from({ length: 10 }, (_, p) => ({ kind: 'enqueue' as const, queue: 'q', message: message(`p${p}`, { priority: p }) }))).durable;
    for (let p = 0; p <= 9; p++) expect((await store.readQueue('q', p, 0, 10)).map((r) => r.message.messageId)).toEqual([`p${p}`]);
  });
});
