// Goal: the statistics destinations answer as ActiveMQ's StatisticsBrokerPlugin does, in JSON: a SEND to
// /queue/ActiveMQ.Statistics.Broker (or the topic) with a reply-to gets one message back with the broker's
// figures and every destination's, /queue/ActiveMQ.Statistics.Destination.<name> the figures of one queue
// (or of every match of a wildcard), and a request without a reply-to an ERROR. Method: StompClients over
// real sockets asking on a temporary queue of their own, with counts checked after sends and acks.
import { describe, expect, it } from 'vitest';
import type { Message, StompClient } from '@mini-amq/stomp';
import { matchesWildcard, type BrokerStatistics, type DestinationStatistics } from '../src/index.js';
import { barrier, frame, messageOf, sendMany, startTestBroker, subscribe, type Inbox } from './test-helpers.js';

/** Asks `statsDestination` with a reply-to of the client's own temporary queue and returns the answer. */
async function ask(client: StompClient, statsDestination: string, headers: Record<string, string> = {}): Promise<Message> {
  const replies = await replyInbox(client);
  const before = replies.messages.length;
  await client.sendWithReceipt(statsDestination, '', { 'reply-to': '/temp-queue/stats', ...headers });
  return (await replies.count(before + 1))[before]!;
}

const inboxes = new WeakMap<StompClient, Inbox>();
async function replyInbox(client: StompClient): Promise<Inbox> {
  let inbox = inboxes.get(client);
  if (inbox === undefined) inboxes.set(client, (inbox = await subscribe(client, '/temp-queue/stats')));
  return inbox;
}

const json = <T>(m: Message): T => JSON.parse(m.text) as T;
const row = (s: BrokerStatistics, destination: string) => s.destinations.find((d) => d.destination === destination);

describe('/queue/ActiveMQ.Statistics.Broker', () => {
  it('answers one JSON message to the reply-to with the broker and its destinations, counts following sends and acks', async () => {
    const b = await startTestBroker({ brokerName: 'stats-broker', group: 'east' });
    const producer = await b.connect();
    await sendMany(producer, '/queue/st.orders', 3);
    await sendMany(producer, '/queue/st.idle', 2, { persistent: 'true' });
    const consumer = await b.connect();
    const inbox = await subscribe(consumer, '/queue/st.orders', { ack: 'client-individual' });
    const got = await inbox.count(3);
    got[0]!.ack();
    await barrier(consumer);
    const asker = await b.connect();

    const answer = await ask(asker, '/queue/ActiveMQ.Statistics.Broker');
    expect(answer.headers['content-type']).toBe('application/json');
    // Delivered on the asker's own temporary queue, under the name it subscribed with.
    expect(answer.destination).toBe('/temp-queue/stats');
    const s = json<BrokerStatistics>(answer);
    expect(s).toMatchObject({
      brokerName: 'stats-broker', role: 'standalone', group: 'east', version: '0.1.0',
      connections: 3, stompPort: b.stompPort, wsPort: null, duplicatesDropped: 0,
    });
    expect(s.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(row(s, '/queue/st.orders')).toEqual({ destination: '/queue/st.orders', pending: 0, inflight: 2, consumers: 1, enqueued: 3, dequeued: 1, memoryBytes: expect.any(Number) });
    expect(row(s, '/queue/st.idle')).toMatchObject({ pending: 2, inflight: 0, consumers: 0, enqueued: 2, dequeued: 0 });
    // Sorted by name; the statistics destinations themselves are not destinations.
    expect(s.destinations.map((d) => d.destination)).toEqual([...s.destinations.map((d) => d.destination)].sort());
    expect(s.destinations.some((d) => d.destination.includes('ActiveMQ.Statistics'))).toBe(false);
    expect(b.broker.stats().some((d) => d.destination.includes('ActiveMQ.Statistics'))).toBe(false);

    // The rest acked: the next answer says so.
    got[1]!.ack();
    got[2]!.ack();
    await barrier(consumer);
    const after = json<BrokerStatistics>(await ask(asker, '/topic/ActiveMQ.Statistics.Broker'));
    expect(row(after, '/queue/st.orders')).toMatchObject({ pending: 0, inflight: 0, enqueued: 3, dequeued: 3, memoryBytes: 0 });
  });

  it('reports the duplicates dropped and defaults to no group', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const dup = { 'amq-producer-id': 'ID:dup', 'amq-producer-seq': '1' };
    await c.sendWithReceipt('/queue/st.dup', 'x', dup);
    await c.sendWithReceipt('/queue/st.dup', 'x', dup);
    const s = json<BrokerStatistics>(await ask(c, '/queue/ActiveMQ.Statistics.Broker'));
    expect(s).toMatchObject({ group: null, duplicatesDropped: 1, brokerName: 'localhost' });
    expect(row(s, '/queue/st.dup')).toMatchObject({ enqueued: 1, pending: 1 });
  });

  it('answers to any reply-to, routed like a message, with the correlation-id of the request', async () => {
    const b = await startTestBroker();
    const listener = await b.connect();
    const replies = await subscribe(listener, '/queue/st.replies');
    const c = await b.connect();
    await c.sendWithReceipt('/queue/ActiveMQ.Statistics.Broker', '', { 'reply-to': '/queue/st.replies', 'correlation-id': 'req-7' });
    const [answer] = await replies.count(1);
    expect(answer!.headers).toMatchObject({ 'correlation-id': 'req-7', 'content-type': 'application/json', destination: '/queue/st.replies' });
    // Not persistent: a status request leaves nothing on disk.
    expect(answer!.headers.persistent).toBe('false');
    expect(json<BrokerStatistics>(answer!).brokerName).toBe('localhost');
  });

  it('refuses a request without a reply-to with an ERROR that says so', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    await raw.connect();
    raw.write(frame('SEND', { destination: '/queue/ActiveMQ.Statistics.Broker', receipt: 'r1' }, ''));
    const error = await raw.error();
    expect(messageOf(error)).toMatch(/needs a reply-to header/);
    expect(b.broker.stats()).toEqual([]);
  });

  it('refuses a reply-to that is itself a statistics destination, and a composite including one', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    await expect(c.sendWithReceipt('/queue/ActiveMQ.Statistics.Broker', '', { 'reply-to': '/topic/ActiveMQ.Statistics.Broker' })).rejects.toThrow(/itself a statistics destination/);
    const d = await b.connect();
    await expect(d.sendWithReceipt('/queue/a,/queue/ActiveMQ.Statistics.Broker', '', { 'reply-to': '/queue/r' })).rejects.toThrow(/composite/);
  });
});

describe('/queue/ActiveMQ.Statistics.Destination.<name>', () => {
  it('answers with the figures of that queue, zeros for one that does not exist (without creating it)', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    await sendMany(c, '/queue/st.one', 4);
    const one = json<DestinationStatistics>(await ask(c, '/queue/ActiveMQ.Statistics.Destination.st.one'));
    expect(one).toEqual({ destination: '/queue/st.one', pending: 4, inflight: 0, consumers: 0, enqueued: 4, dequeued: 0, memoryBytes: expect.any(Number) });
    expect(one.memoryBytes).toBeGreaterThan(0);
    const none = json<DestinationStatistics>(await ask(c, '/queue/ActiveMQ.Statistics.Destination.st.none'));
    expect(none).toEqual({ destination: '/queue/st.none', pending: 0, inflight: 0, consumers: 0, enqueued: 0, dequeued: 0, memoryBytes: 0 });
    expect(b.broker.stats().some((d) => d.destination === '/queue/st.none')).toBe(false);
  });

  it('asks about topics through the topic form, and answers a wildcard with an array of every match', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const sub = await b.connect();
    await subscribe(sub, '/topic/st.prices.eu');
    await subscribe(sub, '/topic/st.prices.us');
    await sendMany(c, '/topic/st.prices.eu', 2);
    await sendMany(c, '/queue/st.prices.eu', 1);
    await barrier(sub);
    const topic = json<DestinationStatistics>(await ask(c, '/topic/ActiveMQ.Statistics.Destination.st.prices.eu'));
    expect(topic).toMatchObject({ destination: '/topic/st.prices.eu', consumers: 1, enqueued: 2, dequeued: 2 });
    const all = json<DestinationStatistics[]>(await ask(c, '/topic/ActiveMQ.Statistics.Destination.st.prices.*'));
    expect(all.map((d) => d.destination)).toEqual(['/topic/st.prices.eu', '/topic/st.prices.us']);
    const queues = json<DestinationStatistics[]>(await ask(c, '/queue/ActiveMQ.Statistics.Destination.st.>'));
    expect(queues.map((d) => d.destination)).toEqual(['/queue/st.prices.eu']);
    expect(json<DestinationStatistics[]>(await ask(c, '/queue/ActiveMQ.Statistics.Destination.nothing.>'))).toEqual([]);
  });

  it('matches ActiveMQ wildcards element by element', () => {
    expect(matchesWildcard('a.*', 'a.b')).toBe(true);
    expect(matchesWildcard('a.*', 'a.b.c')).toBe(false);
    expect(matchesWildcard('a.*', 'a')).toBe(false);
    expect(matchesWildcard('a.>', 'a.b.c')).toBe(true);
    expect(matchesWildcard('a.>', 'a')).toBe(false);
    expect(matchesWildcard('*.b.>', 'x.b.y')).toBe(true);
    expect(matchesWildcard('>', 'anything.at.all')).toBe(true);
    expect(matchesWildcard('a.b', 'a.b')).toBe(true);
    expect(matchesWildcard('a.b', 'a.bc')).toBe(false);
  });
});
