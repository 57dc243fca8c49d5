// Goal: a duplex bridge forwards both ways over its two connections (the remote runs no connector),
// networkTTL=2 carries demand and messages across A→B→C while the default 1 does not, stranded messages
// flow back to where consumers moved (duplex, and two one-way connectors), and bridges reconnect by
// themselves: to a restarted broker, and through masterslave: to a group's new master; method: brokers in
// this process on real sockets, brokers restarted on their port with their MemoryStore volume.
import { describe, expect, it } from 'vitest';
import { MemoryStore, MemoryVolume } from '@mini-amq/store';
import { collect, connect, connected, demand, sendAll, sleep, StallableStore, startNamedBroker, staticUri, waitFor, type TestBroker } from './helpers.js';

describe('duplex', () => {
  it('delivers to a consumer on A what is sent to B, over A\'s one connector', async () => {
    const a = await startNamedBroker('A');
    const b = await startNamedBroker('B');
    const bridge = connect(a, `${staticUri(b)}?duplex=true`);
    await connected(bridge);
    const onA = await collect(await a.client(), '/queue/back');
    const onB = await collect(await b.client(), '/queue/forth');
    await waitFor(() => b.consumers('/queue/back') === 1, () => 'the bridge consuming /queue/back on B');
    const back = await sendAll(await b.client(), '/queue/back', 5, 'b');
    const forth = await sendAll(await a.client(), '/queue/forth', 5, 'a');
    await waitFor(() => onA.bodies.length === 5 && onB.bodies.length === 5, () => `both ways (A ${onA.bodies.length}, B ${onB.bodies.length})`);
    await sleep(200);
    expect(onA.bodies).toEqual(back);
    expect(onB.bodies).toEqual(forth);
    expect(onA.messages[0]!.headers).toMatchObject({ NetworkPath: ',B,', NetworkHops: '1' });
    expect(bridge.status()[0]).toMatchObject({ duplex: true, forwarded: 5, received: 5, remoteBroker: 'B' });
  });
});

describe('networkTTL', () => {
  async function chain(ttl: number): Promise<{ a: TestBroker; c: TestBroker }> {
    const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((n) => startNamedBroker(n))) as [TestBroker, TestBroker, TestBroker];
    const ab = connect(a, `${staticUri(b)}?networkTTL=${ttl}`);
    const bc = connect(b, `${staticUri(c)}?networkTTL=${ttl}`);
    await connected(ab);
    await connected(bc);
    return { a, c };
  }

  it('with networkTTL=2, a consumer on C draws A\'s messages through B', async () => {
    const { a, c } = await chain(2);
    const onC = await collect(await c.client(), '/queue/far');
    await waitFor(() => a.consumers('/queue/far') === 1, () => 'demand from C reaching A');
    const sent = await sendAll(await a.client(), '/queue/far', 10);
    await waitFor(() => onC.bodies.length === 10, () => `10 on C (have ${onC.bodies.length})`);
    expect(onC.bodies).toEqual(sent);
    expect(onC.messages[0]!.headers).toMatchObject({ NetworkPath: ',A,B,', NetworkHops: '2' });
  });

  it('with the default networkTTL=1, demand two brokers away does not reach A', async () => {
    const { a, c } = await chain(1);
    const onC = await collect(await c.client(), '/queue/far');
    await sendAll(await a.client(), '/queue/far', 3);
    await sleep(500);
    expect(onC.bodies).toEqual([]);
    expect(a.pending('/queue/far')).toBe(3);
  });
});

describe('stranded messages', () => {
  /** A consumer on B that takes one message and never acks it, so the rest wait on B. */
  async function slowConsumer(b: TestBroker) {
    const client = await b.client();
    await client.subscribe('/queue/s', () => {}, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' }, receipt: true }).ready;
    return client;
  }

  async function strandAndReturn(a: TestBroker, b: TestBroker, toB: ReturnType<typeof connect>): Promise<void> {
    const slow = await slowConsumer(b);
    await demand(toB, '/queue/s');
    const sent = await sendAll(await a.client(), '/queue/s', 10, 's', { persistent: 'true' });
    await waitFor(() => b.pending('/queue/s') === 10 && a.pending('/queue/s') === 0, () => `the 10 drawn to B (B ${b.pending('/queue/s')}, A ${a.pending('/queue/s')})`);
    // The consumer leaves B; one appears on A: B's messages come back.
    slow.close();
    const onA = await collect(await a.client(), '/queue/s');
    await waitFor(() => onA.bodies.length === 10, () => `the 10 back on A (have ${onA.bodies.length}; B has ${b.pending('/queue/s')})`);
    await sleep(300);
    expect([...onA.bodies].sort()).toEqual([...sent].sort());
    expect(b.pending('/queue/s')).toBe(0);
  }

  it('flow back over a duplex bridge once the consumer moves from B to A', async () => {
    const a = await startNamedBroker('A');
    const b = await startNamedBroker('B');
    const bridge = connect(a, `${staticUri(b)}?duplex=true`);
    await connected(bridge);
    await strandAndReturn(a, b, bridge);
  });

  it('flow back over two one-way connectors as well', async () => {
    const a = await startNamedBroker('A');
    const b = await startNamedBroker('B');
    const ab = connect(a, staticUri(b));
    const ba = connect(b, staticUri(a));
    await connected(ab);
    await connected(ba);
    await strandAndReturn(a, b, ab);
  });
});

describe('reconnecting', () => {
  it('reconnects to a restarted remote broker and forwards again', async () => {
    const a = await startNamedBroker('A');
    const volume = new MemoryVolume();
    let b = await startNamedBroker('B', new MemoryStore({ volume }));
    const port = b.running.stompPort!;
    const bridge = connect(a, staticUri(b));
    await connected(bridge);
    await b.running.close();
    await waitFor(() => bridge.status()[0]!.state === 'connecting', () => 'the bridge noticing');
    b = await startNamedBroker('B', new MemoryStore({ volume }), port);
    await connected(bridge);
    const onB = await collect(await b.client(), '/queue/r');
    const sent = await sendAll(await a.client(), '/queue/r', 5);
    await waitFor(() => onB.bodies.length === 5, () => `5 on the restarted B (have ${onB.bodies.length})`);
    expect(onB.bodies).toEqual(sent);
  });

  it('re-sends what a remote broker that went down had not receipted, which it stores once', async () => {
    const a = await startNamedBroker('A');
    const volume = new MemoryVolume();
    const stalled = new StallableStore({ volume });
    let b = await startNamedBroker('B', stalled);
    const port = b.running.stompPort!;
    const bridge = connect(a, staticUri(b));
    await connected(bridge);
    await (await b.client()).subscribe('/queue/x', () => {}, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' }, receipt: true }).ready;
    await demand(bridge, '/queue/x');
    stalled.stall();
    const sent = await sendAll(await a.client(), '/queue/x', 20, 'x', { persistent: 'true' });
    await waitFor(() => b.pending('/queue/x') === 20, () => `20 on B, unreceipted (B ${b.pending('/queue/x')})`);
    expect(bridge.status()[0]!.forwarded).toBe(0);
    await b.running.close(); // its receipts still held back: they never go out
    b = await startNamedBroker('B', new MemoryStore({ volume }), port);
    // The bridge re-sends the 20 with their producer id and seq: B answers but keeps what it had.
    await waitFor(() => bridge.status()[0]!.forwarded === 20, () => `the 20 receipted (${JSON.stringify(bridge.status())})`);
    await waitFor(() => a.pending('/queue/x') === 0, () => 'A acked them');
    const onB = await collect(await b.client(), '/queue/x');
    await waitFor(() => onB.bodies.length === 20, () => `20 on B (have ${onB.bodies.length})`);
    await sleep(300);
    expect([...onB.bodies].sort()).toEqual([...sent].sort());
    expect(b.running.broker.duplicatesDropped).toBe(20);
  });

  it('masterslave: follows the group to its new master', async () => {
    const a = await startNamedBroker('A');
    const first = await startNamedBroker('G');
    // The other member's port, free until it becomes master.
    const spare = await startNamedBroker('spare');
    const sparePort = spare.running.stompPort!;
    await spare.running.close();
    const group = `masterslave:(${first.url},tcp://127.0.0.1:${sparePort})`;
    const bridge = connect(a, group);
    await connected(bridge);
    expect(bridge.status()[0]).toMatchObject({ remote: `failover:(${first.url},tcp://127.0.0.1:${sparePort})`, remoteBroker: 'G' });
    await first.running.close();
    const second = await startNamedBroker('G', new MemoryStore(), sparePort);
    await connected(bridge);
    const onSecond = await collect(await second.client(), '/queue/g');
    const sent = await sendAll(await a.client(), '/queue/g', 5);
    await waitFor(() => onSecond.bodies.length === 5, () => `5 on the new master (have ${onSecond.bodies.length})`);
    expect(onSecond.bodies).toEqual(sent);
  });
});
