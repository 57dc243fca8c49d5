// What LevelStore offers the replication shell beyond the Store contract: aux writes that land in the
// same batch as entries, a per-call fsync, and whole-state snapshots (exportState, replaceState,
// clearState) including an install cut short by a crash. Each case runs with the default log tail and with
// no log kept, as the shell opens its store. Writes are observed by wrapping the store's chained batches.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INSTALL_INCOMPLETE_KEY, LOG_FIRST_INDEX_KEY, SPACE_AUX, SPACE_LOG, SPACE_META, auxKey, logKey, messageKey, SPACE_MESSAGE } from '../src/keys.js';
import { LevelStore, type LevelStoreOptions } from '../src/level-store.js';
import { encodeNumber } from '../src/records.js';
import type { AuxOp, DurableSubscription, LogEntry, RecoveredState, StatePair } from '../src/types.js';
import { enqueue, expectStoreError, turn } from './store-suite.js';

type RawDb = Level<Buffer, Buffer>;

const b = (s: string) => Buffer.from(s);
const put = (key: string, value: string): AuxOp => ({ type: 'put', key: b(key), value: b(value) });
const del = (key: string): AuxOp => ({ type: 'del', key: b(key) });
const text = (pairs: Array<[Buffer, Buffer]>) => pairs.map(([k, v]) => [k.toString(), v.toString()]);
const sub = (name: string): DurableSubscription => ({ clientId: 'c', name, destination: '/topic/t', selector: '', queue: `dsub:c:${name}` });

let root: string;
let stores: LevelStore[];

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mini-amq-replication-store-'));
  stores = [];
});
afterEach(async () => {
  for (const store of stores) await store.close();
  await rm(root, { recursive: true, force: true });
});

/** Runs `fn` on the raw LevelDB of a (closed) store directory. */
async function raw<T>(dir: string, fn: (db: RawDb) => Promise<T>): Promise<T> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

interface Written {
  readonly keys: Buffer[];
  readonly sync: boolean;
}

/**
 * Wraps the store's chained batches: records each write's keys (in the order added) and sync option,
 * holds writes until `release()` when `held`, and fails the writes `fail` picks.
 */
function watchWrites(store: LevelStore, opts: { held?: boolean; fail?: (sync: boolean) => boolean } = {}) {
  const db = (store as unknown as { db: RawDb }).db;
  const batch = db.batch.bind(db) as () => ReturnType<RawDb['batch']>;
  let release!: () => void;
  const gate = opts.held ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
  const writes: Written[] = [];
  let started = 0;
  (db as unknown as { batch: () => unknown }).batch = () => {
    const chained = batch();
    const keys: Buffer[] = [];
    const putOp = chained.put.bind(chained);
    const delOp = chained.del.bind(chained);
    (chained as unknown as { put: (k: Buffer, v: Buffer) => unknown }).put = (k, v) => (keys.push(k), putOp(k, v));
    (chained as unknown as { del: (k: Buffer) => unknown }).del = (k) => (keys.push(k), delOp(k));
    const write = chained.write.bind(chained);
    (chained as unknown as { write: (o: { sync?: boolean }) => Promise<void> }).write = async (options) => {
      started++;
      await gate;
      const sync = options?.sync === true;
      if (opts.fail?.(sync)) {
        await chained.close();
        throw new Error('injected write failure');
      }
      await write(options);
      writes.push({ keys, sync });
    };
    return chained;
  };
  return { writes, release: () => release(), started: () => started };
}

/** Holds every iterator read of `store` until `release()`: an export in progress, for as long as the test says. */
function holdReads(store: LevelStore) {
  const db = (store as unknown as { db: RawDb }).db;
  const iterator = db.iterator.bind(db) as (o: object) => ReturnType<RawDb['iterator']>;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  (db as unknown as { iterator: (o: object) => unknown }).iterator = (o) => {
    const it = iterator(o);
    const nextv = it.nextv.bind(it);
    (it as unknown as { nextv: (n: number) => unknown }).nextv = async (n) => {
      await gate;
      return nextv(n);
    };
    return it;
  };
  return { release: () => release() };
}

/** The state spaces' pairs of an export, flattened, without the first log index (each store keeps its own). */
function statePairs(chunks: StatePair[][]): StatePair[] {
  return chunks.flat().filter(([key]) => !key.equals(LOG_FIRST_INDEX_KEY));
}

const modes = [
  { mode: 'with the default log tail', logTailEntriesMax: undefined },
  { mode: 'with no log kept', logTailEntriesMax: 0 },
];

describe.each(modes)('LevelStore for replication, $mode', ({ logTailEntriesMax }) => {
  async function open(name: string, opts: Partial<LevelStoreOptions> = {}) {
    const store = new LevelStore({ directory: path.join(root, name), ...(logTailEntriesMax === undefined ? {} : { logTailEntriesMax }), ...opts });
    stores.push(store);
    const recovered = await store.open();
    return { store, recovered };
  }
  async function reopen(store: LevelStore, opts: Partial<LevelStoreOptions> = {}) {
    await store.close();
    return open(path.basename(store.directory), opts);
  }

  /** Everything a reader can see of a store's state: what open() recovered, and every live message. */
  async function contents(store: LevelStore, recovered: RecoveredState) {
    const queues: Record<string, unknown[]> = {};
    for (const queue of [...recovered.queues.keys()].sort()) {
      const records = [];
      for (let p = 9; p >= 0; p--) records.push(...(await store.readQueue(queue, p, 0, 10_000)));
      queues[queue] = records;
    }
    return {
      queues,
      counts: Object.fromEntries(recovered.queues),
      subscriptions: recovered.durableSubscriptions,
      producers: [...recovered.producers],
      lastIndex: recovered.lastIndex,
    };
  }

  /** A master's store: backlogs at several priorities, removals, a count, subscriptions, producer windows. */
  async function fillMaster(store: LevelStore) {
    await store.append([{ kind: 'durable-add', subscription: sub('s1') }, { kind: 'durable-add', subscription: sub('s2') }]).durable;
    const entries: LogEntry[] = [];
    for (let i = 0; i < 60; i++) entries.push(enqueue(i % 3 === 0 ? 'q' : 'dsub:c:s1', `m${i}`, { priority: i % 10, body: Buffer.alloc(40 + i, i) }));
    entries.push({ kind: 'producer', producerId: 'ID:a', seq: 7 }, { kind: 'producer', producerId: 'ID:b', seq: 3 });
    const { firstIndex } = store.append(entries);
    store.append([
      { kind: 'remove', key: { queue: 'q', priority: 0, seq: firstIndex } },
      { kind: 'redelivered', key: { queue: 'dsub:c:s1', priority: 1, seq: firstIndex + 1 }, count: 2 },
      { kind: 'durable-remove', clientId: 'c', name: 's2' },
      { kind: 'producer', producerId: 'ID:a', seq: 8 },
      { kind: 'producer-forget', producerId: 'ID:b' },
      { kind: 'producer', producerId: 'ID:c', seq: 1 },
    ]);
    await store.append([enqueue('q/sub', 'last', { priority: 9 })]).durable;
  }

  /** A replica's store with a state of its own to be replaced, and aux keys the shell wrote. */
  async function fillReplica(store: LevelStore) {
    await store.append([enqueue('other', 'o1'), { kind: 'durable-add', subscription: sub('mine') }, { kind: 'producer', producerId: 'ID:r', seq: 1 }], {
      aux: [put('repl/epoch', '1'), put('repl/pos', '5'), put('keep', 'k')],
    }).durable;
    for (let i = 0; i < 100; i++) store.append([enqueue('other', `o${i + 2}`)]);
    await store.append([]).durable;
  }

  describe('aux writes', () => {
    it('writes an aux-only call, reads it back by prefix in key order, and keeps it across reopen without touching the log', async () => {
      let { store } = await open('a');
      await store.append([enqueue('q', 'm')]).durable;
      const before = store.stats();
      const r = store.append([], { aux: [put('b/1', 'x'), put('a/2', 'y'), put('a/1', 'z'), { type: 'put', key: Buffer.from([0xff]), value: Buffer.alloc(0) }] });
      expect(r.firstIndex).toBe(before.lastIndex + 1);
      await r.durable;
      expect(store.stats()).toMatchObject({ lastIndex: before.lastIndex, durableIndex: before.lastIndex, batches: before.batches + 1 });
      // Three 4-byte keys (space byte included) with 1-byte values, and a 2-byte key with an empty one.
      expect(store.stats().bytesWritten - before.bytesWritten).toBe(3 * (4 + 1) + 2);
      expect(text(await store.readAux())).toEqual([['a/1', 'z'], ['a/2', 'y'], ['b/1', 'x'], ['\ufffd', '']]);
      expect(text(await store.readAux(b('a/')))).toEqual([['a/1', 'z'], ['a/2', 'y']]);
      expect(text(await store.readAux(b('a/2')))).toEqual([['a/2', 'y']]);
      expect(await store.readAux(b('c'))).toEqual([]);
      expect((await store.readAux(Buffer.from([0xff]))).map(([k]) => [...k])).toEqual([[0xff]]);
      let recovered;
      ({ store, recovered } = await reopen(store));
      expect(recovered.lastIndex).toBe(before.lastIndex);
      expect(text(await store.readAux(b('a/')))).toEqual([['a/1', 'z'], ['a/2', 'y']]);
      if (logTailEntriesMax === undefined) expect((await store.readLog(1, 10)).map((x) => x.index)).toEqual([1]);
      expect(store.append([enqueue('q', 'n')]).firstIndex).toBe(2);
    });

    it('lands aux writes in the same batch as the call’s entries, after them, and applies a batch’s aux writes in order', async () => {
      const { store } = await open('a');
      await store.append([enqueue('q', 'warm-up')]).durable;
      const watch = watchWrites(store, { held: true });
      const r = store.append([enqueue('q', 'm1'), { kind: 'producer', producerId: 'ID:p', seq: 1 }], { aux: [put('pos', '3'), put('gone', 'soon')] });
      const later = store.append([], { aux: [put('pos', '4'), del('gone')] });
      await turn();
      expect(watch.started()).toBe(1);
      // Nothing of the call is readable before its batch is written.
      expect(await store.readAux()).toEqual([]);
      expect(await store.readQueue('q', 4, 1, 10)).toEqual([]);
      watch.release();
      await r.durable;
      await later.durable;
      expect(watch.writes).toHaveLength(1);
      const spaces = watch.writes[0]!.keys.map((k) => k[0]);
      const lastAux = spaces.lastIndexOf(SPACE_AUX);
      expect(spaces.indexOf(SPACE_AUX)).toBeGreaterThan(Math.max(spaces.lastIndexOf(SPACE_MESSAGE), spaces.lastIndexOf(0x05)));
      expect(spaces.slice(lastAux + 1).every((s) => s === SPACE_META)).toBe(true);
      expect(text(await store.readAux())).toEqual([['pos', '4']]);
      expect((await store.readQueue('q', 4, 1, 10)).map((x) => x.message.messageId)).toEqual(['m1']);
    });

    it('refuses a malformed aux op with the whole call, leaving no trace, and copies values on the way in', async () => {
      const { store } = await open('a');
      expect(() => store.append([enqueue('q', 'm')], { aux: [{ type: 'put', key: 'k' as unknown as Buffer, value: b('v') }] })).toThrow(/Buffer key/);
      expect(() => store.append([], { aux: [{ type: 'put', key: b('k'), value: undefined as unknown as Buffer }] })).toThrow(/Buffer value/);
      expect(() => store.append([], { aux: [{ type: 'nope', key: b('k') } as unknown as AuxOp] })).toThrow(/aux op type/);
      expect(store.stats().lastIndex).toBe(0);
      const value = b('before');
      const r = store.append([enqueue('q', 'm')], { aux: [{ type: 'put', key: b('k'), value }] });
      value.write('AFTER!');
      expect(r.firstIndex).toBe(1);
      await r.durable;
      expect(text(await store.readAux())).toEqual([['k', 'before']]);
    });

    it('fsyncs a batch whose call asks for it on a store opened with sync: false; an empty call with sync: true is a barrier', async () => {
      const { store } = await open('a', { sync: false });
      const watch = watchWrites(store);
      await store.append([enqueue('q', 'a')]).durable;
      await store.append([enqueue('q', 'b')], { sync: true, aux: [put('k', 'v')] }).durable;
      await store.append([], { sync: true }).durable;
      // An empty call asking nothing writes nothing.
      await store.append([]).durable;
      expect(watch.writes.map((w) => w.sync)).toEqual([false, true, true]);
      expect(store.stats().lastIndex).toBe(2);
    });

    it('keeps aux out of recovery and out of an export', async () => {
      let { store } = await open('a');
      await store.append([enqueue('q', 'a')], { aux: [put('k', 'v')] }).durable;
      const exported = await store.exportState();
      expect(exported.chunks.flat().some(([key]) => key[0] === SPACE_AUX || key[0] === SPACE_LOG)).toBe(false);
      let recovered;
      ({ store, recovered } = await reopen(store));
      expect(Object.fromEntries(recovered.queues)).toEqual({ q: 1 });
    });
  });

  describe('snapshots', () => {
    it('round-trips a master’s state into a replica with state of its own: same reads, same indexes from then on, aux kept but for the ops', async () => {
      let { store: master } = await open('master');
      await fillMaster(master);
      let masterRecovered;
      ({ store: master, recovered: masterRecovered } = await reopen(master));
      const { store: replica } = await open('replica');
      await fillReplica(replica);

      const exported = await master.exportState({ chunkBytes: 512, auxKeys: [b('none')] });
      expect(exported.chunks.length).toBeGreaterThan(3);
      expect(exported.chunks.every((c) => c.length > 0)).toBe(true);
      expect(exported.aux).toEqual([undefined]);
      const spaces = new Set(exported.chunks.flat().map(([key]) => key[0]));
      expect([...spaces].sort()).toEqual([0x00, 0x02, 0x03, 0x04, 0x05]);
      const whole = await master.exportState();
      expect(whole.chunks).toHaveLength(1);
      expect(statePairs(whole.chunks)).toEqual(statePairs(exported.chunks));

      const installed = await replica.replaceState(exported.chunks, [put('repl/pos', '42'), del('repl/epoch'), put('new', 'n')]);
      expect(installed.interruptedInstall).toBeUndefined();
      const expected = await contents(master, masterRecovered);
      expect(expected.lastIndex).toBe(master.stats().lastIndex);
      expect(await contents(replica, installed)).toEqual(expected);
      expect(installed.queues.has('other')).toBe(false);
      expect(await replica.readQueue('other', 4, 0, 10)).toEqual([]);
      expect(replica.stats()).toMatchObject({ lastIndex: expected.lastIndex, durableIndex: expected.lastIndex, pendingEntries: 0, logFirstIndex: expected.lastIndex + 1 });
      expect(text(await replica.readAux())).toEqual([['keep', 'k'], ['new', 'n'], ['repl/pos', '42']]);
      expect(statePairs((await replica.exportState()).chunks)).toEqual(statePairs(whole.chunks));

      // The replica's log starts after the snapshot; its next entries get the master's next indexes.
      await expectStoreError(replica.readLog(1, 10), 'STORE_LOG_TRIMMED');
      expect(await replica.readLog(expected.lastIndex + 1, 10)).toEqual([]);
      const next: LogEntry[] = [enqueue('q', 'next', { priority: 6 }), { kind: 'remove', key: { queue: 'q', priority: 3, seq: 4 } }];
      const onMaster = master.append(next);
      const onReplica = replica.append(next, { aux: [put('repl/pos', '43')] });
      expect(onReplica.firstIndex).toBe(onMaster.firstIndex);
      expect(onReplica.firstIndex).toBe(expected.lastIndex + 1);
      await Promise.all([onMaster.durable, onReplica.durable]);
      if (logTailEntriesMax === undefined) expect(await replica.readLog(expected.lastIndex + 1, 10)).toEqual(await master.readLog(expected.lastIndex + 1, 10));
      expect(statePairs((await replica.exportState()).chunks)).toEqual(statePairs((await master.exportState()).chunks));

      // And all of it survives a restart of each.
      const { store: replicaAgain, recovered: replicaRecovered } = await reopen(replica);
      ({ store: master, recovered: masterRecovered } = await reopen(master));
      expect(replicaRecovered.interruptedInstall).toBeUndefined();
      expect(await contents(replicaAgain, replicaRecovered)).toEqual(await contents(master, masterRecovered));
      expect(text(await replicaAgain.readAux(b('repl/')))).toEqual([['repl/pos', '43']]);
    });

    it('clears the state, keeping aux but for the ops, and numbers from 1 again', async () => {
      let { store } = await open('replica');
      await fillReplica(store);
      const cleared = await store.clearState([put('repl/pos', '0')]);
      expect(cleared).toEqual({ queues: new Map(), durableSubscriptions: [], producers: new Map(), lastIndex: 0 });
      expect(store.stats()).toMatchObject({ lastIndex: 0, durableIndex: 0, logFirstIndex: 1 });
      expect(await store.readQueue('other', 4, 0, 10)).toEqual([]);
      expect(text(await store.readAux())).toEqual([['keep', 'k'], ['repl/epoch', '1'], ['repl/pos', '0']]);
      expect(store.append([enqueue('q', 'a')]).firstIndex).toBe(1);
      let recovered;
      ({ store, recovered } = await reopen(store));
      expect(recovered).toMatchObject({ lastIndex: 1, queues: new Map([['q', 1]]) });
      expect(recovered.interruptedInstall).toBeUndefined();
    });

    it('reads the asked aux values from the same snapshot as the state, leaving out appends written after the call', async () => {
      const { store } = await open('master');
      await store.append([enqueue('q', 'a')], { aux: [put('pos', '1'), put('epoch', '7')] }).durable;
      const held = holdReads(store);
      const exporting = store.exportState({ auxKeys: [b('pos'), b('missing'), b('epoch')] });
      // Written while the export reads: it must see neither the message nor the new position.
      await store.append([enqueue('q', 'b')], { aux: [put('pos', '2'), del('epoch')] }).durable;
      held.release();
      const exported = await exporting;
      expect(exported.aux.map((v) => v?.toString())).toEqual(['1', undefined, '7']);
      const messages = exported.chunks.flat().filter(([key]) => key[0] === SPACE_MESSAGE);
      expect(messages.map(([key]) => key.equals(messageKey(SPACE_MESSAGE, { queue: 'q', priority: 4, seq: 1 })))).toEqual([true]);
      const { store: replica } = await open('replica');
      expect((await replica.replaceState(exported.chunks)).lastIndex).toBe(1);
      expect(text(await store.readAux())).toEqual([['pos', '2']]);
    });

    it('waits for appends still pending, and refuses appends and exports while it installs', async () => {
      const { store: master } = await open('master');
      await fillMaster(master);
      const { chunks } = await master.exportState();
      const { store } = await open('replica');
      const pending = store.append([enqueue('other', 'pending')], { aux: [put('before', '1')] });
      const installing = store.replaceState(chunks);
      expect(() => store.append([enqueue('q', 'during')])).toThrow(/snapshot install/);
      await expect(store.exportState()).rejects.toThrow(/snapshot install/);
      await expect(store.replaceState(chunks)).rejects.toThrow(/already running/);
      await pending.durable;
      const installed = await installing;
      expect(installed.queues.has('other')).toBe(false);
      expect(text(await store.readAux())).toEqual([['before', '1']]);
      expect(store.append([enqueue('q', 'after')]).firstIndex).toBe(installed.lastIndex + 1);
    });

    it('refuses a snapshot holding log, aux or unknown keys, or contradicting itself, before changing anything', async () => {
      const { store: master } = await open('master');
      await fillMaster(master);
      const { chunks } = await master.exportState({ chunkBytes: 1024 });
      const lastIndex = master.stats().lastIndex;
      let { store } = await open('replica');
      await fillReplica(store);
      const before = { stats: store.stats(), aux: await store.readAux(), other: await store.readQueue('other', 4, 0, 1000) };
      const meta = (id: number, value: Buffer): StatePair => [Buffer.from([SPACE_META, id]), value];
      const withPair = (pair: StatePair) => [...chunks.slice(0, -1), [...chunks[chunks.length - 1]!, pair]];
      const without = (key: Buffer) => chunks.map((c) => c.filter(([k]) => !k.equals(key)));
      const refused: Array<[RegExp, ReadonlyArray<ReadonlyArray<readonly [Buffer, Buffer]>>]> = [
        [/not in a state space \(space 1\)/, withPair([logKey(1), encodeNumber(0)])],
        [/not in a state space \(space 6\)/, withPair([auxKey(b('k')), b('v')])],
        [/not in a state space \(space 7\)/, [[[Buffer.from([7, 1]), b('v')]]]],
        [/not in a state space/, [[[Buffer.alloc(0), b('v')]]]],
        [/meta key 0004/, withPair([INSTALL_INCOMPLETE_KEY, encodeNumber(1)])],
        [/meta key 0009/, withPair(meta(9, encodeNumber(1)))],
        [/format 99/, chunks.map((c) => c.map(([k, v]): StatePair => [k, k.equals(meta(1, b(''))[0]) ? encodeNumber(99) : v]))],
        [/last log index/, without(meta(2, b(''))[0])],
        [/format version is undecodable/, chunks.map((c) => c.map(([k, v]): StatePair => [k, k.equals(meta(1, b(''))[0]) ? Buffer.from([0xc1]) : v]))],
        [/seq \d+, past its last index/, withPair([messageKey(SPACE_MESSAGE, { queue: 'q', priority: 4, seq: lastIndex + 1 }), b('')])],
        [/message key .* is malformed/, withPair([Buffer.from([SPACE_MESSAGE, 0, 5, 0x61]), b('')])],
        [/not a Buffer/, withPair(['k' as unknown as Buffer, b('v')])],
      ];
      for (const [message, bad] of refused) {
        const err = await expectStoreError(store.replaceState(bad, [put('keep', 'changed')]), 'STORE_SNAPSHOT_INVALID');
        expect(err.message).toMatch(message);
      }
      expect(store.stats()).toEqual(before.stats);
      expect(await store.readAux()).toEqual(before.aux);
      expect(await store.readQueue('other', 4, 0, 1000)).toEqual(before.other);
      // Still writable, and nothing on disk says an install began.
      await store.append([enqueue('other', 'still')]).durable;
      let recovered;
      ({ store, recovered } = await reopen(store));
      expect(recovered.interruptedInstall).toBeUndefined();
      expect(recovered.queues.get('other')).toBe(before.other.length + 1);
      // The same snapshot, whole, installs.
      expect((await store.replaceState(chunks)).lastIndex).toBe(lastIndex);
    });
  });

  describe('an install cut short', () => {
    it('is finished at open: the state is wiped, aux kept, and the store says so once', async () => {
      let { store } = await open('replica');
      await fillReplica(store);
      const dir = store.directory;
      await store.close();
      await raw(dir, (db) => db.put(INSTALL_INCOMPLETE_KEY, encodeNumber(1)));
      let recovered;
      ({ store, recovered } = await open('replica'));
      expect(recovered).toEqual({ queues: new Map(), durableSubscriptions: [], producers: new Map(), lastIndex: 0, interruptedInstall: true });
      expect(store.stats()).toMatchObject({ lastIndex: 0, logFirstIndex: 1 });
      expect(text(await store.readAux())).toEqual([['keep', 'k'], ['repl/epoch', '1'], ['repl/pos', '5']]);
      await store.close();
      const left = await raw(dir, (db) => db.keys({ gte: Buffer.from([SPACE_META]), lt: Buffer.from([SPACE_AUX]) }).all());
      expect(left.map((k) => k.toString('hex')).sort()).toEqual(['0001', '0002', '0003']);
      ({ store, recovered } = await open('replica'));
      expect(recovered.interruptedInstall).toBeUndefined();
      expect(store.append([enqueue('q', 'a')]).firstIndex).toBe(1);
    });

    it('after a failed last batch: the install fails the store, and reopening empties it with the old aux', async () => {
      const { store: master } = await open('master');
      await fillMaster(master);
      const { chunks } = await master.exportState({ chunkBytes: 256 });
      let { store } = await open('replica', { batchBytesMax: 1024 });
      await fillReplica(store);
      // Only the install's last batch is synced: the marker is a put, the wipe and pairs are not synced.
      watchWrites(store, { fail: (sync) => sync });
      const err = await expectStoreError(store.replaceState(chunks, [put('repl/pos', '99')]), 'STORE_WRITE_FAILED');
      expect(err.message).toMatch(/reopening it empties it/);
      expect(() => store.append([enqueue('q', 'a')])).toThrow(/accepts no more appends/);
      let recovered;
      ({ store, recovered } = await reopen(store));
      expect(recovered).toMatchObject({ lastIndex: 0, queues: new Map(), durableSubscriptions: [], interruptedInstall: true });
      expect(text(await store.readAux())).toEqual([['keep', 'k'], ['repl/epoch', '1'], ['repl/pos', '5']]);
      // The shell then installs a snapshot again, which works as on any store.
      expect((await store.replaceState(chunks)).lastIndex).toBe(master.stats().lastIndex);
    });
  });
});
