// Goal: the broker publishes ActiveMQ's consumer advisories (`ActiveMQ.Advisory.Consumer.Queue.X` /
// `….Topic.X`) for every consumer added or removed, also when a connection drops, with the counts, the
// network flag and path a bridge needs, none about advisory or statistics destinations, and a late
// advisory subscriber is first told the consumers that exist, after its RECEIPT; method: StompClients
// and raw sockets (for exact frame order) on a real broker.
import { describe, expect, it } from 'vitest';
import { encodeFrame, type Message, type StompClient } from '@mini-amq/stomp';
import { barrier, frame, header, headersOf, messageOf, sleep, startTestBroker, subscribe, waitFor, type Inbox } from './test-helpers.js';

const QUEUE_ADVISORIES = '/topic/ActiveMQ.Advisory.Consumer.Queue';
const TOPIC_ADVISORIES = '/topic/ActiveMQ.Advisory.Consumer.Topic';
const NETWORK = { 'activemq.networkSubscription': 'true', 'amq-network-path': 'brokerB,brokerC' };

/** The facts of an advisory that tests compare: type, destination, counts and flags. */
function factsOf(m: Message): Record<string, string | undefined> {
  const h = m.headers;
  return {
    advisoryType: h.advisoryType, consumerDestination: h.consumerDestination, consumerCount: h.consumerCount,
    networkConsumerCount: h.networkConsumerCount, networkConsumer: h.networkConsumer, networkPath: h.networkPath, replay: h.replay,
  };
}

const added = (destination: string, consumers: number, network = 0, extra: Record<string, string> = {}) => ({
  advisoryType: 'ConsumerAdded', consumerDestination: destination, consumerCount: String(consumers),
  networkConsumerCount: String(network), networkConsumer: 'false', networkPath: undefined, replay: undefined, ...extra,
});
const removed = (destination: string, consumers: number, network = 0, extra: Record<string, string> = {}) => ({
  ...added(destination, consumers, network, extra), advisoryType: 'ConsumerRemoved',
});

/** Subscribes `client` (id `id`) to `destination` and returns its handle once the RECEIPT is in. */
async function consumer(client: StompClient, destination: string, id: string, headers: Record<string, string> = {}) {
  const sub = client.subscribe(destination, () => {}, { id, headers, receipt: true });
  await sub.ready;
  return sub;
}

describe('consumer advisories', () => {
  it('tell ConsumerAdded and ConsumerRemoved on a queue with the count after the change, also when a connection drops', async () => {
    const b = await startTestBroker({ brokerName: 'brokerA' });
    const watcher = await b.connect();
    const advisories = await subscribe(watcher, `${QUEUE_ADVISORIES}.orders`);
    const first = await b.connect();
    const firstSub = await consumer(first, '/queue/orders', 'c1');
    const second = await b.connect();
    await consumer(second, '/queue/orders', 'c2');
    await advisories.count(2);
    await firstSub.unsubscribe();
    await advisories.count(3);
    second.close(); // no DISCONNECT, no UNSUBSCRIBE: the socket just goes
    await advisories.count(4);
    await barrier(watcher);
    expect(advisories.messages.map(factsOf)).toEqual([
      added('/queue/orders', 1), added('/queue/orders', 2), removed('/queue/orders', 1), removed('/queue/orders', 0),
    ]);
    const [m] = advisories.messages;
    expect(m!.headers).toMatchObject({
      destination: `${QUEUE_ADVISORIES}.orders`, type: 'Advisory', 'content-type': 'application/json', persistent: 'false',
      consumerId: `${first.session}:c1`, originBrokerName: 'brokerA',
    });
    expect(advisories.messages[3]!.headers.consumerId).toBe(`${second.session}:c2`);
    expect(JSON.parse(m!.text)).toEqual({
      advisoryType: 'ConsumerAdded', consumerDestination: '/queue/orders', consumerCount: 1, networkConsumerCount: 0,
      consumerId: `${first.session}:c1`, networkConsumer: false, originBrokerName: 'brokerA',
    });
  });

  it('tell about topic consumers, durable and wildcard ones included, on the Topic advisory topics', async () => {
    const b = await startTestBroker();
    const watcher = await b.connect();
    const advisories = await subscribe(watcher, `${TOPIC_ADVISORIES}.>`);
    const c = await b.connect({ clientId: 'app' });
    await consumer(c, '/topic/news', 'plain');
    await consumer(c, '/topic/news', 'durable', { 'activemq.subscriptionName': 'keep' });
    await consumer(c, '/topic/news.>', 'wild');
    await advisories.count(3);
    await c.disconnect();
    await advisories.count(6);
    await barrier(watcher);
    expect(advisories.messages.map(factsOf)).toEqual([
      added('/topic/news', 1), added('/topic/news', 2), added('/topic/news.>', 1),
      removed('/topic/news', 1), removed('/topic/news', 0), removed('/topic/news.>', 0),
    ]);
    expect(advisories.messages.map((m) => m.destination).slice(0, 3)).toEqual([
      `${TOPIC_ADVISORIES}.news`, `${TOPIC_ADVISORIES}.news`, `${TOPIC_ADVISORIES}.news.>`,
    ]);
  });

  it('mark network consumers and carry their path, and count them apart', async () => {
    const b = await startTestBroker();
    const watcher = await b.connect();
    const advisories = await subscribe(watcher, `${QUEUE_ADVISORIES}.>`);
    const bridge = await b.connect();
    const local = await b.connect();
    const bridged = await consumer(bridge, '/queue/jobs', 'n1', NETWORK);
    await consumer(local, '/queue/jobs', 'l1');
    await consumer(bridge, '/queue/jobs', 'p1', { 'amq-network-path': 'brokerX' });
    await bridged.unsubscribe();
    await advisories.count(4);
    await barrier(watcher);
    expect(advisories.messages.map(factsOf)).toEqual([
      added('/queue/jobs', 1, 1, { networkConsumer: 'true', networkPath: 'brokerB,brokerC' }),
      added('/queue/jobs', 2, 1),
      // A path without the network flag is passed on as given; the consumer does not count as a network one.
      added('/queue/jobs', 3, 1, { networkPath: 'brokerX' }),
      removed('/queue/jobs', 2, 0, { networkConsumer: 'true', networkPath: 'brokerB,brokerC' }),
    ]);
    expect(JSON.parse(advisories.messages[0]!.text)).toMatchObject({ networkConsumer: true, networkPath: ['brokerB', 'brokerC'], networkConsumerCount: 1 });
  });

  it('are not published about advisory topics, statistics destinations or temporary destinations', async () => {
    const b = await startTestBroker();
    const watcher = await b.connect();
    const everything = await subscribe(watcher, '/topic/ActiveMQ.Advisory.>');
    const c = await b.connect();
    await consumer(c, `${QUEUE_ADVISORIES}.orders`, 'a1');
    await consumer(c, '/topic/ActiveMQ.Advisory.>', 'a2');
    await consumer(c, '/queue/ActiveMQ.Statistics.Broker', 's1');
    await consumer(c, '/topic/ActiveMQ.Statistics.Destination.x', 's2');
    await consumer(c, '/temp-queue/replies', 't1');
    await consumer(c, '/queue/marker', 'm1');
    await everything.count(1);
    await c.disconnect();
    await everything.count(2);
    await barrier(watcher);
    expect(everything.messages.map(factsOf)).toEqual([added('/queue/marker', 1), removed('/queue/marker', 0)]);
  });

  it('emit consumer-added and consumer-removed with the consumer and the counts', async () => {
    const b = await startTestBroker();
    const events: Array<[string, string, number | undefined]> = [];
    b.broker.on('consumer-added', (e) => events.push(['added', e.destination, e.counts?.consumers]));
    b.broker.on('consumer-removed', (e) => events.push(['removed', e.destination, e.counts?.consumers]));
    const c = await b.connect();
    await consumer(c, '/queue/ev', 'x');
    await consumer(c, '/temp-topic/t', 'y');
    c.close();
    await waitFor(() => events.length === 4, 'four consumer events');
    expect(events).toEqual([['added', '/queue/ev', 1], ['added', expect.stringMatching(/^\/remote-temp-topic\//), undefined],
      ['removed', '/queue/ev', 0], ['removed', expect.stringMatching(/^\/remote-temp-topic\//), undefined]]);
  });

  it('go through the topic path: a slow advisory subscriber holds back the connection whose consumers it is told about', async () => {
    const LIMIT = 8 * 1024;
    const b = await startTestBroker({ destinationMemoryLimit: LIMIT });
    const watcher = await b.connect();
    const slow = await subscribe(watcher, `${QUEUE_ADVISORIES}.>`, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' } });
    const churner = await b.connect();
    const COUNT = 200;
    for (let i = 0; i < COUNT; i++) churner.sendFrame(frame('SUBSCRIBE', { destination: '/queue/churn', id: `s${i}` }));
    const pattern = `${QUEUE_ADVISORIES}.>`;
    await waitFor(() => b.stats(pattern).memoryBytes >= LIMIT, 'the advisory subscription to fill');
    await sleep(200); // a connection that was not held back would add its other consumers in this time
    expect(b.stats('/queue/churn').consumers).toBeLessThan(COUNT / 4);
    expect(slow.messages).toHaveLength(1);
    slow.onMessage = (m) => m.ack();
    slow.messages[0]!.ack();
    await slow.count(COUNT);
    expect(b.stats('/queue/churn').consumers).toBe(COUNT);
    expect(slow.messages.map((m) => m.headers.consumerCount)).toEqual(Array.from({ length: COUNT }, (_, i) => String(i + 1)));
  });

  it('refuse bad network headers with an ERROR', async () => {
    const b = await startTestBroker();
    for (const [headers, expected] of [
      [{ 'activemq.networkSubscription': 'yes' }, 'activemq.networkSubscription must be true or false, got "yes"'],
      [{ 'amq-network-path': 'a,,b' }, 'amq-network-path must list broker names separated by commas, got "a,,b"'],
      [{ 'amq-network-path': Array.from({ length: 65 }, (_, i) => `b${i}`).join(',') }, 'names 65 brokers; at most 64'],
    ] as const) {
      const raw = await b.raw();
      await raw.connect();
      raw.write(frame('SUBSCRIBE', { destination: '/queue/x', id: '1', ...headers }));
      expect(messageOf(await raw.error())).toContain(expected);
    }
    expect(b.stats('/queue/x').consumers).toBe(0);
  });
});

describe('advisory replay to a new advisory subscriber', () => {
  /** Consumers: 2 on /queue/a (one a network consumer), 1 on /queue/b, 1 on /topic/c; /queue/gone had one. */
  async function populated() {
    const b = await startTestBroker();
    const c = await b.connect({ clientId: 'app' });
    await consumer(c, '/queue/a', 'a-net', NETWORK);
    await consumer(c, '/queue/a', 'a-local');
    await consumer(c, '/queue/b', 'b-net', NETWORK);
    await consumer(c, '/topic/c', 'c');
    await (await consumer(c, '/queue/gone', 'g')).unsubscribe();
    return { b, c };
  }
  const byDestination = (inbox: Inbox) => inbox.messages.map(factsOf).sort((x, y) => x.consumerDestination!.localeCompare(y.consumerDestination!));

  it('replays the current state of an exact advisory topic, marked replay:true, then goes live', async () => {
    const { b, c } = await populated();
    const watcher = await b.connect();
    const inbox = await subscribe(watcher, `${QUEUE_ADVISORIES}.a`);
    await inbox.count(1);
    // The local consumer is the one named, so networkConsumer:false says local demand exists.
    expect(factsOf(inbox.messages[0]!)).toEqual(added('/queue/a', 2, 1, { replay: 'true' }));
    expect(inbox.messages[0]!.headers.consumerId).toBe(`${c.session}:a-local`);
    await consumer(c, '/queue/a', 'a-more');
    await inbox.count(2);
    expect(factsOf(inbox.messages[1]!)).toEqual(added('/queue/a', 3, 1));
  });

  it('replays every matching destination to a wildcard advisory subscription, none that has no consumers', async () => {
    const { b } = await populated();
    const watcher = await b.connect();
    const queues = await subscribe(watcher, `${QUEUE_ADVISORIES}.>`);
    const all = await subscribe(watcher, '/topic/ActiveMQ.Advisory.Consumer.>');
    await queues.count(2);
    await all.count(3);
    await barrier(watcher);
    expect(byDestination(queues)).toEqual([
      added('/queue/a', 2, 1, { replay: 'true' }),
      // Only network consumers: the replay names one, with its path, for a bridge's loop guard.
      added('/queue/b', 1, 1, { replay: 'true', networkConsumer: 'true', networkPath: 'brokerB,brokerC' }),
    ]);
    expect(byDestination(all).map((f) => f.consumerDestination)).toEqual(['/queue/a', '/queue/b', '/topic/c']);
    expect(all.messages.find((m) => m.headers.consumerDestination === '/topic/c')!.destination).toBe(`${TOPIC_ADVISORIES}.c`);
  });

  it('sends the RECEIPT of the SUBSCRIBE first, then the replay, then live advisories', async () => {
    const { b } = await populated();
    const raw = await b.raw();
    await raw.connect();
    // One write: the live ConsumerAdded (this connection's own /queue/a consumer) is made before the RECEIPT goes out.
    raw.write(Buffer.concat([
      frame('SUBSCRIBE', { destination: `${QUEUE_ADVISORIES}.a`, id: 'adv', receipt: 'r1' }),
      frame('SUBSCRIBE', { destination: '/queue/a', id: 'live' }),
    ].map((f) => encodeFrame(f, '1.2'))));
    const receipt = await raw.next();
    const replayed = await raw.next();
    const live = await raw.next();
    expect(receipt.command).toBe('RECEIPT');
    expect(header(receipt, 'receipt-id')).toBe('r1');
    expect(headersOf(replayed)).toMatchObject({ replay: 'true', consumerCount: '2', subscription: 'adv' });
    expect(replayed.command).toBe('MESSAGE');
    expect(live.command).toBe('MESSAGE');
    expect(headersOf(live)).toMatchObject({ advisoryType: 'ConsumerAdded', consumerCount: '3', subscription: 'adv' });
    expect(headersOf(live).replay).toBeUndefined();
  });

  it('is not sent to subscriptions that do not name advisory topics, nor through a selector that refuses it', async () => {
    const { b, c } = await populated();
    const watcher = await b.connect();
    const everything = await subscribe(watcher, '/topic/>');
    const removals = await subscribe(watcher, `${QUEUE_ADVISORIES}.>`, { headers: { selector: "advisoryType = 'ConsumerRemoved'" } });
    await consumer(c, '/queue/b', 'b-more');
    await everything.count(2);
    await barrier(watcher);
    // `/topic/>` takes live advisories (they are topics like any other), its own first, but no replay.
    expect(everything.messages.map(factsOf)).toEqual([added('/topic/>', 1), added('/queue/b', 2, 1)]);
    expect(removals.messages).toEqual([]);
  });
});
