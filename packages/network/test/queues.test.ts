// Goal: queue messages cross a bridge on demand only: a consumer on B draws A's messages over, none move
// without one, forwarding stops when it leaves (the rest stay on A), closing a bridge mid-flight loses
// nothing, filters and static inclusions hold, and decreaseNetworkConsumerPriority prefers A's own
// consumers; method: two or three brokers in this process, real sockets, a connector on A.
import { describe, expect, it } from 'vitest';
import { collect, connect, connected, demand, sendAll, sleep, StallableStore, startNamedBroker, staticUri, waitFor } from './helpers.js';

describe('queue forwarding on demand', () => {
  it('forwards A\'s messages to a consumer on B, in order, once, and reports them', async () => {
    const a = await startNamedBroker('A');
    const b = await startNamedBroker('B');
    const bridge = connect(a, staticUri(b));
    await connected(bridge);
    const onB = await collect(await b.client(), '/queue/orders');
    await demand(bridge, '/queue/orders');
    const sent = await sendAll(await a.client(), '/queue/orders', 50, 'm', { persistent: 'true' });
    await waitFor(() => onB.bodies.length >= 50, () => `50 on B, have ${onB.bodies.length}`);
    await sleep(100);
    expect(onB.bodies).toEqual(sent);
    expect(onB.messages[0]!.headers).toMatchObject({ persistent: 'true', NetworkPath: ',A,', NetworkHops: '1' });
    await waitFor(() => a.pending('/queue/orders') === 0, () => 'A drained');
    expect(bridge.status()).toEqual([{
      connector: 'bridge', remote: b.url, state: 'connected', remoteBroker: 'B', duplex: false, forwarded: 50, received: 0, demand: ['/queue/orders'],
    }]);
  });

  it('forwards nothing without demand, and stops when the consumer leaves: the rest stay on A', async () => {
    const a = await startNamedBroker('A');
    const b = await startNamedBroker('B');
    const bridge = connect(a, staticUri(b));
    await connected(bridge);
    const producer = await a.client();
    await sendAll(producer, '/queue/q', 5, 'early');
    await sleep(300);
    expect(a.pending('/queue/q')).toBe(5);
    expect(b.pending('/queue/q')).toBe(0);
    const onB = await collect(await b.client(), '/queue/q');
    await waitFor(() => onB.bodies.length === 5, () => `the 5 on B, have ${onB.bodies.length}`);
    await onB.unsubscribe();
    await demand(bridge, '/queue/q', false);
    await sendAll(producer, '/queue/q', 7, 'late');
    await sleep(300);
    expect(a.pending('/queue/q')).toBe(7);
    expect(onB.bodies).toEqual(['early1', 'early2', 'early3', 'early4', 'early5']);
  });

  it('loses nothing when the bridge is closed mid-flight: what B did not receipt is still on A', async () => {
    const a = await startNamedBroker('A');
    const b = await startNamedBroker('B');
    const bridge = connect(a, staticUri(b));
    await connected(bridge);
    const onB = await collect(await b.client(), '/queue/flow');
    await demand(bridge, '/queue/flow');
    const producer = await a.client();
    const sent = Array.from({ length: 3000 }, (_, i) => `f${i + 1}`);
    const sending = Promise.all(sent.map((body) => producer.sendWithReceipt('/queue/flow', body, { persistent: 'true' })));
    await waitFor(() => onB.bodies.length >= 200, () => `some on B (have ${onB.bodies.length})`);
    await bridge.close();
    await sending;
    expect(bridge.status()[0]!.state).toBe('stopped');
    await sleep(200);
    const onBCount = onB.bodies.length;
    expect(onBCount).toBeLessThan(sent.length);
    // What stayed on A, read by a consumer there.
    const onA = await collect(await a.client(), '/queue/flow');
    await waitFor(() => onB.bodies.length + onA.bodies.length >= sent.length, () => `all accounted for (B ${onB.bodies.length}, A ${onA.bodies.length})`);
    await sleep(200);
    expect(new Set([...onB.bodies, ...onA.bodies])).toEqual(new Set(sent));
    // At most a redelivery: a message B had stored but not yet receipted when the bridge let go.
    expect(onB.bodies.length + onA.bodies.length - sent.length).toBeLessThanOrEqual(10);
    expect(onB.bodies.length).toBe(onBCount);
  });

  it('keeps on A every message B has not receipted when the bridge is closed', async () => {
    const a = await startNamedBroker('A');
    const store = new StallableStore();
    const b = await startNamedBroker('B', store);
    const bridge = connect(a, staticUri(b));
    await connected(bridge);
    // A consumer on B that takes one message and never acks: B's receipts then wait for its disk.
    await (await b.client()).subscribe('/queue/held', () => {}, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' }, receipt: true }).ready;
    await demand(bridge, '/queue/held');
    store.stall();
    await sendAll(await a.client(), '/queue/held', 20, 'h', { persistent: 'true' });
    await waitFor(() => b.pending('/queue/held') === 20, () => `the 20 sent on to B, unreceipted (B has ${b.pending('/queue/held')})`);
    expect(bridge.status()[0]!.forwarded).toBe(0);
    await bridge.close();
    expect(a.pending('/queue/held')).toBe(20);
    store.release();
  });

  it('forwards only what the filters allow, and statically included destinations without demand', async () => {
    const a = await startNamedBroker('A');
    const b = await startNamedBroker('B');
    const bridge = connect(a, staticUri(b), {
      excludedDestinations: ['/queue/orders.secret'],
      dynamicallyIncludedDestinations: ['/queue/orders.>', '/topic/prices.*'],
      staticallyIncludedDestinations: ['/queue/always', '/topic/news', '/queue/orders.secret'],
    });
    await connected(bridge);
    const consumer = await b.client();
    const collectors = new Map<string, Awaited<ReturnType<typeof collect>>>();
    for (const d of ['/queue/orders.eu', '/queue/orders.secret', '/queue/other', '/topic/prices.eur', '/topic/other']) collectors.set(d, await collect(consumer, d));
    const news = await collect(consumer, '/topic/news');
    await demand(bridge, '/topic/prices.eur');
    await demand(bridge, '/queue/orders.eu');
    const producer = await a.client();
    for (const d of [...collectors.keys(), '/queue/always', '/topic/news']) await producer.sendWithReceipt(d, `to ${d}`);
    await waitFor(() => b.pending('/queue/always') === 1 && news.bodies.length === 1, () => 'the static ones on B');
    await waitFor(() => collectors.get('/queue/orders.eu')!.bodies.length === 1 && collectors.get('/topic/prices.eur')!.bodies.length === 1, () => 'the included ones on B');
    await sleep(300);
    expect(bridge.status()[0]!.demand).toEqual(['/queue/orders.eu', '/topic/prices.eur']);
    expect(collectors.get('/queue/orders.secret')!.bodies).toEqual([]);
    expect(collectors.get('/queue/other')!.bodies).toEqual([]);
    expect(collectors.get('/topic/other')!.bodies).toEqual([]);
    expect(a.pending('/queue/orders.secret')).toBe(1);
    expect(a.pending('/queue/other')).toBe(1);
  });

  it('with decreaseNetworkConsumerPriority, A\'s own consumer is served first while it has room', async () => {
    const a = await startNamedBroker('A');
    const b = await startNamedBroker('B');
    const bridge = connect(a, staticUri(b), { decreaseNetworkConsumerPriority: true });
    await connected(bridge);
    const onA = await collect(await a.client(), '/queue/work');
    const onB = await collect(await b.client(), '/queue/work');
    await demand(bridge, '/queue/work');
    await sendAll(await a.client(), '/queue/work', 200);
    await waitFor(() => onA.bodies.length === 200, () => `200 on A (A ${onA.bodies.length}, B ${onB.bodies.length})`);
    expect(onB.bodies).toEqual([]);
  });

  it('without it, A\'s consumer and the bridge share the queue', async () => {
    const a = await startNamedBroker('A');
    const b = await startNamedBroker('B');
    const bridge = connect(a, staticUri(b));
    await connected(bridge);
    const onA = await collect(await a.client(), '/queue/work');
    const onB = await collect(await b.client(), '/queue/work');
    await demand(bridge, '/queue/work');
    await sendAll(await a.client(), '/queue/work', 200);
    await waitFor(() => onA.bodies.length + onB.bodies.length === 200, () => `200 consumed (A ${onA.bodies.length}, B ${onB.bodies.length})`);
    expect(onB.bodies.length).toBeGreaterThan(20);
    expect(onA.bodies.length).toBeGreaterThan(20);
  });
});
