// Goal: wildcard topic subscriptions route as ActiveMQ's destination wildcards say (`.` separates
// elements, `*` one element, `>` one or more trailing ones), each subscription gets a message once, and
// wildcards where one destination is needed (SEND, queues) are refused with an ERROR naming the
// destination; method: StompClients and raw sockets on a real broker, a restart on a LevelStore.
import { describe, expect, it } from 'vitest';
import type { StompClient } from '@mini-amq/stomp';
import { WILDCARD_SUBSCRIPTIONS_MAX, matchesWildcard } from '../src/index.js';
import { barrier, frame, messageOf, startTestBroker, subscribe, tempDir, waitFor, type Inbox, type TestBroker } from './test-helpers.js';

/** Sends each body to its topic with a receipt, in order. */
async function publish(c: StompClient, sends: ReadonlyArray<readonly [topic: string, body: string]>): Promise<void> {
  for (const [topic, body] of sends) await c.sendWithReceipt(topic, body);
}

/** Waits until every inbox has had the chance to receive what was sent before now. */
async function settle(...clients: StompClient[]): Promise<void> {
  for (const c of clients) await barrier(c);
}

/** The ERROR a raw connection gets for `f`, after which the broker closes it. */
async function errorFor(b: TestBroker, f: ReturnType<typeof frame>): Promise<string> {
  const raw = await b.raw();
  await raw.connect();
  raw.write(f);
  return messageOf(await raw.error());
}

describe('wildcard matching', () => {
  it('follows ActiveMQ: * is one element, > one or more trailing elements', () => {
    expect(matchesWildcard('prices.*.eur', 'prices.stock.eur')).toBe(true);
    expect(matchesWildcard('prices.*.eur', 'prices.stock.usd')).toBe(false);
    expect(matchesWildcard('prices.*.eur', 'prices.eur')).toBe(false);
    expect(matchesWildcard('prices.>', 'prices.stock.eur')).toBe(true);
    expect(matchesWildcard('prices.>', 'prices')).toBe(false);
    expect(matchesWildcard('*', 'prices')).toBe(true);
    expect(matchesWildcard('*', 'prices.stock')).toBe(false);
  });
});

describe('wildcard topic subscriptions', () => {
  it('deliver what is sent to matching concrete topics, and nothing else', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const all = await subscribe(c, '/topic/prices.>');
    const eur = await subscribe(c, '/topic/prices.*.eur');
    const one = await subscribe(c, '/topic/*');
    const exact = await subscribe(c, '/topic/prices.stock.eur');
    const producer = await b.connect();
    await publish(producer, [
      ['/topic/prices.stock.eur', 'stock-eur'],
      ['/topic/prices.stock.usd', 'stock-usd'],
      ['/topic/prices.bond.eur', 'bond-eur'],
      ['/topic/prices', 'bare'],
      ['/topic/prices.bond.eur.x', 'deep'],
      ['/topic/other.stock.eur', 'other'],
    ]);
    await all.count(4);
    await settle(c);
    expect(all.texts).toEqual(['stock-eur', 'stock-usd', 'bond-eur', 'deep']);
    expect(eur.texts).toEqual(['stock-eur', 'bond-eur']);
    expect(one.texts).toEqual(['bare']);
    expect(exact.texts).toEqual(['stock-eur']);
    // A MESSAGE names the topic it was sent to, not the pattern that took it.
    expect(all.messages.map((m) => m.destination)).toEqual(['/topic/prices.stock.eur', '/topic/prices.stock.usd', '/topic/prices.bond.eur', '/topic/prices.bond.eur.x']);
  });

  it('give each subscription a message once, also several matching subscriptions on one connection', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inboxes: Inbox[] = [];
    for (const [id, topic] of [['a', '/topic/fx.>'], ['b', '/topic/fx.*'], ['c', '/topic/fx.>'], ['d', '/topic/fx.usd']] as const) {
      inboxes.push(await subscribe(c, topic, { id }));
    }
    await publish(await b.connect(), [['/topic/fx.usd', 'one'], ['/topic/fx.usd', 'two']]);
    for (const inbox of inboxes) await inbox.count(2);
    await settle(c);
    for (const inbox of inboxes) expect(inbox.texts).toEqual(['one', 'two']);
  });

  it('apply selectors and noLocal as exact subscriptions do', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const wanted = await subscribe(c, '/topic/sel.>', { headers: { selector: "kind = 'wanted'" } });
    const notMine = await subscribe(c, '/topic/sel.>', { id: 'nl', headers: { 'activemq.noLocal': 'true' } });
    await c.sendWithReceipt('/topic/sel.a', 'own', { kind: 'wanted' });
    const other = await b.connect();
    await other.sendWithReceipt('/topic/sel.b', 'skip', { kind: 'other' });
    await other.sendWithReceipt('/topic/sel.c', 'take', { kind: 'wanted' });
    await wanted.count(2);
    await notMine.count(2);
    await settle(c);
    expect(wanted.texts).toEqual(['own', 'take']);
    expect(notMine.texts).toEqual(['skip', 'take']);
  });

  it('reach a topic first published to before the pattern existed (the route cache is renewed)', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const early = await subscribe(c, '/topic/early.>');
    const producer = await b.connect();
    await producer.sendWithReceipt('/topic/late.a', 'before');
    const late = await subscribe(c, '/topic/late.*');
    await producer.sendWithReceipt('/topic/late.a', 'after');
    await late.count(1);
    await settle(c);
    expect(late.texts).toEqual(['after']);
    expect(early.texts).toEqual([]);
  });

  it('stop on UNSUBSCRIBE and when the connection drops, and show under their pattern meanwhile', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const got: string[] = [];
    const sub = c.subscribe('/topic/gone.>', (m) => got.push(m.text), { receipt: true });
    await sub.ready;
    const dropped = await b.connect();
    await subscribe(dropped, '/topic/gone.*');
    expect(b.stats('/topic/gone.>').consumers).toBe(1);
    const producer = await b.connect();
    await producer.sendWithReceipt('/topic/gone.a', 'one');
    await waitFor(() => got.length === 1, 'the first message');
    await sub.unsubscribe();
    dropped.close();
    await waitFor(() => b.stats('/topic/gone.*').consumers === 0 && b.stats('/topic/gone.>').consumers === 0, 'both subscriptions to go');
    await producer.sendWithReceipt('/topic/gone.a', 'two');
    await settle(c);
    expect(got).toEqual(['one']);
    expect(b.broker.stats().filter((s) => s.destination.startsWith('/topic/gone.') && s.destination !== '/topic/gone.a')).toEqual([]);
  });

  it('may be durable: what is published while away is kept, also across a restart', async () => {
    const dataDir = await tempDir();
    const first = await startTestBroker({ dataDir });
    const durable = { id: 'd', headers: { 'activemq.subscriptionName': 'all-orders' } };
    const away = await first.connect({ clientId: 'app' });
    await subscribe(away, '/topic/orders.>', durable);
    await away.disconnect();
    const producer = await first.connect();
    await producer.sendWithReceipt('/topic/orders.eu', 'a', { persistent: 'true' });
    await producer.sendWithReceipt('/topic/shipments.eu', 'not-mine', { persistent: 'true' });
    await first.close();
    const second = await startTestBroker({ dataDir });
    await (await second.connect()).sendWithReceipt('/topic/orders.us.west', 'b', { persistent: 'true' });
    const back = await second.connect({ clientId: 'app' });
    const inbox = await subscribe(back, '/topic/orders.>', durable);
    await inbox.count(2);
    await settle(back);
    expect(inbox.texts).toEqual(['a', 'b']);
  });
});

describe('wildcard refusals', () => {
  it('refuses a SEND to a wildcard topic, naming the destination', async () => {
    const b = await startTestBroker();
    expect(await errorFor(b, frame('SEND', { destination: '/topic/prices.>' }, 'x'))).toBe('cannot SEND to /topic/prices.>: it names a wildcard (* or >), not one destination');
  });

  it('refuses a SEND to a wildcard queue, as part of a composite destination and inside a transaction', async () => {
    const b = await startTestBroker();
    expect(await errorFor(b, frame('SEND', { destination: '/queue/jobs.*' }, 'x'))).toContain('cannot SEND to /queue/jobs.*: it names a wildcard');
    expect(await errorFor(b, frame('SEND', { destination: '/queue/ok,/topic/a.*' }, 'x'))).toContain('cannot SEND to /topic/a.*: it names a wildcard');
    const raw = await b.raw();
    await raw.connect();
    raw.write(frame('BEGIN', { transaction: 't' }));
    raw.write(frame('SEND', { destination: '/topic/x.>', transaction: 't' }, 'x'));
    expect(messageOf(await raw.error())).toContain('cannot SEND to /topic/x.>: it names a wildcard');
    expect(b.stats('/queue/ok').enqueued).toBe(0);
  });

  it('refuses a wildcard SUBSCRIBE on a queue (and a queue browser)', async () => {
    const b = await startTestBroker();
    expect(await errorFor(b, frame('SUBSCRIBE', { destination: '/queue/jobs.>', id: '1' })))
      .toBe('wildcard subscriptions are supported on topics only (got /queue/jobs.>)');
    expect(await errorFor(b, frame('SUBSCRIBE', { destination: '/queue/jobs.*', id: '1', browser: 'true' })))
      .toContain('wildcard subscriptions are supported on topics only');
  });

  it('refuses a pattern with > before its last element', async () => {
    const b = await startTestBroker();
    expect(await errorFor(b, frame('SUBSCRIBE', { destination: '/topic/a.>.b', id: '1' }))).toContain('must be its last element');
  });

  it(`holds at most WILDCARD_SUBSCRIPTIONS_MAX (${WILDCARD_SUBSCRIPTIONS_MAX}) wildcard subscriptions`, async () => {
    const b = await startTestBroker();
    const filled = [];
    for (let i = 0; i < WILDCARD_SUBSCRIPTIONS_MAX; i++) filled.push(b.broker.subscribeTopic({ kind: 'topic', name: `fill.${i}.>` }, null, 'test', false));
    expect(await errorFor(b, frame('SUBSCRIBE', { destination: '/topic/one.more.>', id: '1' }))).toContain(`${WILDCARD_SUBSCRIPTIONS_MAX} wildcard topic subscriptions`);
    // Exact subscriptions are not affected, and one freed place is usable again.
    const c = await b.connect();
    await subscribe(c, '/topic/exact');
    b.broker.unsubscribeTopic({ kind: 'topic', name: 'fill.0.>' }, filled[0]!);
    const inbox = await subscribe(c, '/topic/one.more.>');
    await c.sendWithReceipt('/topic/one.more.time', 'yes');
    await inbox.count(1);
  });
});
