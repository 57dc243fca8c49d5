// Goal: a SEND the broker already stored from the same producer (amq-producer-id, amq-producer-seq) is
// not routed again but still gets its RECEIPT, inside transactions too, across a restart of a LevelStore
// broker, within a bounded least-recently-used set of producers; and a real FailoverClient that loses its
// RECEIPTs and re-sends gets every message delivered exactly once. Method: StompClients setting the two
// headers by hand against real brokers (MemoryStore, or LevelStore in a temporary directory), a store
// whose writes are held on a gate, and a TCP proxy that swallows what the broker answers.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FailoverClient, PRODUCER_ID_HEADER, PRODUCER_SEQ_HEADER, type StompClient } from '@mini-amq/stomp';
import { MemoryStore, type AppendResult, type LogEntry, type Store } from '@mini-amq/store';
import { producerOf, type BrokerOptions } from '../src/index.js';
import { barrier, frame, onCleanup, sleep, startTestBroker, subscribe, tempDir, waitFor, type TestBroker } from './test-helpers.js';

/** The headers a FailoverClient stamps on a SEND. */
const by = (producerId: string, seq: number, extra: Record<string, string> = {}) => ({ [PRODUCER_ID_HEADER]: producerId, [PRODUCER_SEQ_HEADER]: seq, ...extra });

/** Sends with a receipt for each seq in `seqs`; bodies are `${producerId}-${seq}`. */
async function sendSeqs(client: StompClient, destination: string, producerId: string, seqs: Iterable<number>, extra: Record<string, string> = {}): Promise<void> {
  const all: Array<Promise<void>> = [];
  for (const seq of seqs) all.push(client.sendWithReceipt(destination, `${producerId}-${seq}`, by(producerId, seq, extra)));
  await Promise.all(all);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Every message `destination` holds now, read by a fresh consumer (and acked). */
async function drain(b: TestBroker, destination: string): Promise<string[]> {
  const c = await b.connect();
  const inbox = await subscribe(c, destination);
  await barrier(c);
  await waitFor(() => b.stats(destination).pending === 0 && b.stats(destination).inflight === 0, `${destination} to drain`);
  await barrier(c);
  return inbox.texts;
}

/** The producer entries a broker's store has logged (its windows as written). */
async function producerEntries(b: TestBroker): Promise<LogEntry[]> {
  const records = await b.broker.store!.readLog!(1, 100_000);
  return records.map((r) => r.record as LogEntry).filter((r) => r.kind === 'producer' || r.kind === 'producer-forget');
}

describe('producer de-duplication', () => {
  it('delivers the same SEND (same producer id and seq) once and receipts both', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    await c.sendWithReceipt('/queue/dedup.same', 'first', by('ID:p1', 1, { 'x-app': 'a' }));
    await c.sendWithReceipt('/queue/dedup.same', 'first again', by('ID:p1', 1, { 'x-app': 'a' }));
    const consumer = await b.connect();
    const inbox = await subscribe(consumer, '/queue/dedup.same');
    await inbox.count(1);
    await barrier(consumer);
    expect(inbox.texts).toEqual(['first']);
    // The headers stay on the message: a network bridge will forward them for the next broker to check.
    expect(inbox.messages[0]!.headers).toMatchObject({ [PRODUCER_ID_HEADER]: 'ID:p1', [PRODUCER_SEQ_HEADER]: '1', 'x-app': 'a' });
    expect(b.broker.duplicatesDropped).toBe(1);
    expect(b.stats('/queue/dedup.same').enqueued).toBe(1);
  });

  it('drops a seq at or below the highest accepted, gaps allowed, for persistent and non-persistent sends', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    for (const persistent of ['true', 'false']) {
      const q = `/queue/dedup.lower.${persistent}`;
      const id = `ID:p-${persistent}`;
      await sendSeqs(c, q, id, [1, 2, 5], { persistent });
      await sendSeqs(c, q, id, [3, 4, 5, 2, 1], { persistent });
      await sendSeqs(c, q, id, [6], { persistent });
      expect(await drain(b, q)).toEqual([`${id}-1`, `${id}-2`, `${id}-5`, `${id}-6`]);
    }
    expect(b.broker.duplicatesDropped).toBe(10);
  });

  it('keeps producers apart: the same seq from another producer id is a new message', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    await sendSeqs(c, '/queue/dedup.apart', 'ID:a', [1, 2]);
    await sendSeqs(c, '/queue/dedup.apart', 'ID:b', [1, 2]);
    await sendSeqs(c, '/queue/dedup.apart', 'ID:a', [2]);
    expect(await drain(b, '/queue/dedup.apart')).toEqual(['ID:a-1', 'ID:a-2', 'ID:b-1', 'ID:b-2']);
    expect(b.broker.duplicatesDropped).toBe(1);
  });

  it('leaves plain sends and sends with unusable headers alone', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    for (let i = 0; i < 2; i++) {
      await c.sendWithReceipt('/queue/dedup.plain', 'plain');
      await c.sendWithReceipt('/queue/dedup.plain', 'no-seq', { [PRODUCER_ID_HEADER]: 'ID:x' });
      await c.sendWithReceipt('/queue/dedup.plain', 'no-id', { [PRODUCER_SEQ_HEADER]: '1' });
      for (const seq of ['0', '-1', '1.5', 'abc', '01', '99999999999999999999', ' 1']) {
        await c.sendWithReceipt('/queue/dedup.plain', `seq ${seq}`, { [PRODUCER_ID_HEADER]: 'ID:x', [PRODUCER_SEQ_HEADER]: seq });
      }
      await c.sendWithReceipt('/queue/dedup.plain', 'empty id', by('', 1));
      await c.sendWithReceipt('/queue/dedup.plain', 'huge id', by('x'.repeat(2000), 1));
    }
    expect(await drain(b, '/queue/dedup.plain')).toHaveLength(2 * 12);
    expect(b.broker.duplicatesDropped).toBe(0);
    expect(producerOf([[PRODUCER_ID_HEADER, 'ID:x'], [PRODUCER_SEQ_HEADER, '7'], [PRODUCER_SEQ_HEADER, '8']])).toEqual({ id: 'ID:x', seq: 7 });
  });

  it('checks each send of a COMMIT in order: duplicates of earlier commits and within the transaction are dropped', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    await sendSeqs(c, '/queue/dedup.tx', 'ID:t', [1, 2], { persistent: 'true' });
    const tx = c.begin();
    for (const seq of [2, 3, 1, 4, 3, 5]) c.send('/queue/dedup.tx', `ID:t-${seq} (tx)`, by('ID:t', seq, { transaction: tx, persistent: 'true' }));
    await c.commit(tx, { receipt: true });
    // An aborted transaction leaves the window where it was: its seqs are still new afterwards.
    const aborted = c.begin();
    c.send('/queue/dedup.tx', 'ID:t-6 (aborted)', by('ID:t', 6, { transaction: aborted }));
    await c.abort(aborted, { receipt: true });
    await sendSeqs(c, '/queue/dedup.tx', 'ID:t', [6, 5]);
    expect(await drain(b, '/queue/dedup.tx')).toEqual(['ID:t-1', 'ID:t-2', 'ID:t-3 (tx)', 'ID:t-4 (tx)', 'ID:t-5 (tx)', 'ID:t-6']);
    expect(b.broker.duplicatesDropped).toBe(4);
  });

  it('does not count a send whose routing failed: the connection gets an ERROR, a resend is new', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    // Another connection's temporary queue that does not exist: refused, so nothing was accepted.
    await expect(c.sendWithReceipt('/remote-temp-queue/gone:reply', 'lost', by('ID:r', 1))).rejects.toThrow(/does not exist/);
    const again = await b.connect();
    await again.sendWithReceipt('/queue/dedup.retry', 'ID:r-1', by('ID:r', 1));
    expect(await drain(b, '/queue/dedup.retry')).toEqual(['ID:r-1']);
  });

  it("holds a duplicate's RECEIPT until the original is on disk", async () => {
    const store = new GatedStore();
    const b = await startTestBroker({ store });
    const first = await b.raw();
    await first.connect();
    const second = await b.raw();
    await second.connect();
    store.hold();
    const send = (receipt: string) => frame('SEND', { destination: '/queue/dedup.gate', persistent: 'true', receipt, ...by('ID:g', 1) }, 'gated');
    // The original on the first connection, the resend (as after a failover) on the second.
    first.write(send('original'));
    await waitFor(() => b.stats('/queue/dedup.gate').enqueued === 1, 'the original to be routed');
    second.write(send('resend'));
    await waitFor(() => b.broker.duplicatesDropped === 1, 'the resend to be dropped');
    await sleep(50);
    expect([...first.frames, ...second.frames].filter((f) => f.command === 'RECEIPT')).toEqual([]);
    store.release();
    expect((await second.next((f) => f.command === 'RECEIPT')).headers).toContainEqual(['receipt-id', 'resend']);
    expect((await first.next((f) => f.command === 'RECEIPT')).headers).toContainEqual(['receipt-id', 'original']);
  });
});

describe('the window in the store', () => {
  it('survives a restart: 1..100 sent, the broker restarted, 90..110 sent again, the consumer gets 1..110 once', async () => {
    const dataDir = await tempDir();
    const first = await startTestBroker({ dataDir });
    await sendSeqs(await first.connect(), '/queue/dedup.restart', 'ID:r', range(1, 100), { persistent: 'true' });
    await first.close();

    const second = await startTestBroker({ dataDir });
    expect(second.broker.producers.peek('ID:r')?.seq).toBe(100);
    await sendSeqs(await second.connect(), '/queue/dedup.restart', 'ID:r', range(90, 110), { persistent: 'true' });
    expect(second.broker.duplicatesDropped).toBe(11);
    expect(await drain(second, '/queue/dedup.restart')).toEqual(range(1, 110).map((seq) => `ID:r-${seq}`));
  });

  it('writes the window only with stored messages: non-persistent sends move it in memory alone', async () => {
    const dataDir = await tempDir();
    const first = await startTestBroker({ dataDir });
    const c = await first.connect();
    await sendSeqs(c, '/queue/dedup.np', 'ID:np', [1, 2, 3]);
    await sendSeqs(c, '/topic/dedup.nobody', 'ID:np', [4], { persistent: 'true' }); // stored nowhere
    expect(await producerEntries(first)).toEqual([]);
    await sendSeqs(c, '/queue/dedup.np', 'ID:np', [5], { persistent: 'true' });
    await sendSeqs(c, '/queue/dedup.np', 'ID:np', [6]);
    expect(await producerEntries(first)).toEqual([{ kind: 'producer', producerId: 'ID:np', seq: 5 }]);
    await first.close();

    // The non-persistent messages are gone with the restart, and so is their part of the window.
    const second = await startTestBroker({ dataDir });
    await sendSeqs(await second.connect(), '/queue/dedup.np', 'ID:np', [3, 5, 6]);
    // (The recovered 5 is paged in from disk while 6 waits in memory, so their order is not the point.)
    expect((await drain(second, '/queue/dedup.np')).sort()).toEqual(['ID:np-5', 'ID:np-6']);
    expect(second.broker.duplicatesDropped).toBe(2);
  });

  it('writes one window per producer per commit, with the highest seq', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const tx = c.begin();
    for (const seq of [1, 2, 3]) c.send('/queue/dedup.one', `a${seq}`, by('ID:a', seq, { transaction: tx, persistent: 'true' }));
    c.send('/queue/dedup.one', 'b1', by('ID:b', 1, { transaction: tx, persistent: 'true' }));
    await c.commit(tx, { receipt: true });
    expect(await producerEntries(b)).toEqual([{ kind: 'producer', producerId: 'ID:a', seq: 3 }, { kind: 'producer', producerId: 'ID:b', seq: 1 }]);
  });
});

describe('the bound on producers tracked', () => {
  it('forgets the least recently used producer, on disk too; a duplicate counts as a use', async () => {
    const dataDir = await tempDir();
    const options: BrokerOptions = { dataDir, maxFailoverProducersToTrack: 2 };
    const first = await startTestBroker(options);
    const c = await first.connect();
    const p = { persistent: 'true' };
    await sendSeqs(c, '/queue/dedup.lru', 'ID:a', [1], p);
    await sendSeqs(c, '/queue/dedup.lru', 'ID:b', [1], p);
    await sendSeqs(c, '/queue/dedup.lru', 'ID:a', [1], p); // a duplicate: a is now the most recently used
    await sendSeqs(c, '/queue/dedup.lru', 'ID:c', [1], p); // so b goes
    expect(first.broker.producers.ids()).toEqual(['ID:a', 'ID:c']);
    await sendSeqs(c, '/queue/dedup.lru', 'ID:b', [1], p); // forgotten, so taken as new: the price of the bound
    expect(first.broker.producers.ids()).toEqual(['ID:c', 'ID:b']);
    expect(await producerEntries(first)).toEqual([
      { kind: 'producer', producerId: 'ID:a', seq: 1 },
      { kind: 'producer', producerId: 'ID:b', seq: 1 },
      { kind: 'producer-forget', producerId: 'ID:b' },
      { kind: 'producer', producerId: 'ID:c', seq: 1 },
      { kind: 'producer-forget', producerId: 'ID:a' },
      { kind: 'producer', producerId: 'ID:b', seq: 1 },
    ]);
    await first.close();

    const second = await startTestBroker(options);
    expect(second.broker.producers.ids()).toEqual(['ID:c', 'ID:b']);
    await sendSeqs(await second.connect(), '/queue/dedup.lru', 'ID:b', [1], p);
    expect(second.broker.duplicatesDropped).toBe(1);
    expect(await drain(second, '/queue/dedup.lru')).toEqual(['ID:a-1', 'ID:b-1', 'ID:c-1', 'ID:b-1']);
    await second.close();

    // A lower bound at the next start forgets the oldest windows on disk as well.
    const third = await startTestBroker({ dataDir, maxFailoverProducersToTrack: 1 });
    expect(third.broker.producers.ids()).toEqual(['ID:b']);
    expect((await producerEntries(third)).at(-1)).toEqual({ kind: 'producer-forget', producerId: 'ID:c' });
  });

  it('forgets on disk even when the send that pushes a producer out is not persistent, before that producer returns', async () => {
    const b = await startTestBroker({ maxFailoverProducersToTrack: 1 });
    const raw = await b.raw();
    await raw.connect();
    const send = (id: string, persistent: boolean, receipt: string) =>
      encodeFrame(frame('SEND', { destination: '/queue/dedup.np-evict', persistent, receipt, ...by(id, 1) }, `${id}-1`), '1.2');
    raw.write(send('ID:a', true, 'r1'));
    await raw.next((f) => f.command === 'RECEIPT');
    // In one read: b (not persistent) pushes a out, whose forget waits for a write; then a is back at once.
    raw.write(Buffer.concat([send('ID:b', false, 'r2'), send('ID:a', true, 'r3')]));
    await raw.next((f) => f.command === 'RECEIPT');
    await raw.next((f) => f.command === 'RECEIPT');
    expect(await producerEntries(b)).toEqual([
      { kind: 'producer', producerId: 'ID:a', seq: 1 },
      { kind: 'producer-forget', producerId: 'ID:a' },
      { kind: 'producer', producerId: 'ID:a', seq: 1 },
    ]);
    expect(b.broker.producers.ids()).toEqual(['ID:a']);
  });

  it('refuses a bound outside 1..PRODUCER_WINDOWS_MAX', async () => {
    await expect(startTestBroker({ maxFailoverProducersToTrack: 0 })).rejects.toThrow(/maxFailoverProducersToTrack must be an integer/);
  });
});

describe('with a FailoverClient', () => {
  it('re-sends what lost its RECEIPT with the connection, and the consumer still gets each message once', async () => {
    const b = await startTestBroker();
    const consumer = await b.connect();
    const inbox = await subscribe(consumer, '/queue/dedup.failover');
    const proxy = await startProxy(b.stompPort!);
    const client = await FailoverClient.connect(`failover:(tcp://127.0.0.1:${proxy.port})?initialReconnectDelay=10&maxReconnectDelay=50`);
    client.on('error', () => {});
    onCleanup(() => client.close());

    const sent = range(1, 5).map((i) => client.sendWithReceipt('/queue/dedup.failover', `m${i}`, { persistent: 'true' }));
    // The broker stored all five; their RECEIPTs went into the proxy and no further.
    await waitFor(() => b.stats('/queue/dedup.failover').enqueued === 5, 'five messages stored');
    proxy.cut();
    await Promise.all(sent);
    expect(b.broker.duplicatesDropped).toBe(5);
    await inbox.count(5);
    await barrier(consumer);
    expect(inbox.texts).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });
});

/**
 * A MemoryStore whose `durable` promises wait, while held, for `release()`: the disk is slow for as long as
 * the test says.
 */
class GatedStore implements Store {
  private readonly inner = new MemoryStore();
  private gate: Promise<void> | null = null;
  private open_: (() => void) | null = null;

  hold(): void {
    this.gate = new Promise((resolve) => { this.open_ = resolve; });
  }

  release(): void {
    this.open_?.();
    this.gate = null;
  }

  open() { return this.inner.open(); }
  append(entries: readonly LogEntry[]): AppendResult {
    const r = this.inner.append(entries);
    const gate = this.gate;
    return gate === null ? r : { firstIndex: r.firstIndex, durable: r.durable.then(() => gate) };
  }
  readQueue(queue: string, priority: number, afterSeq: number, limit: number) { return this.inner.readQueue(queue, priority, afterSeq, limit); }
  close() { this.release(); return this.inner.close(); }
}

/**
 * A TCP proxy to the broker. Its first connection passes the broker's CONNECTED and swallows everything
 * after it (every RECEIPT is lost); `cut()` then drops that connection, and later ones pass everything.
 */
async function startProxy(brokerPort: number): Promise<{ port: number; cut(): void }> {
  const pairs: Array<[net.Socket, net.Socket]> = [];
  let accepted = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(brokerPort, '127.0.0.1');
    const swallow = ++accepted === 1;
    let connected = false;
    pairs.push([client, upstream]);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!swallow) { client.write(chunk); return; }
      if (connected) return;
      const end = chunk.indexOf(0);
      client.write(end === -1 ? chunk : chunk.subarray(0, end + 1));
      connected = end !== -1;
    });
    for (const [a, z] of [[client, upstream], [upstream, client]] as const) {
      a.on('error', () => {});
      a.on('close', () => z.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => {
    for (const [a, z] of pairs) { a.destroy(); z.destroy(); }
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => { for (const [a, z] of pairs.splice(0)) { a.destroy(); z.destroy(); } },
  };
}
