// Goal: durable topic subscriptions (client-id + activemq.subscriptionName) keep what is published while
// their subscriber is away, also across a broker restart, until UNSUBSCRIBE removes them, and misuse is
// an ERROR; method: StompClients on real brokers, the restart on a LevelStore in a temporary directory.
import { describe, expect, it } from 'vitest';
import type { StompClient } from '@mini-amq/stomp';
import { barrier, frame, messageOf, sendMany, startTestBroker, subscribe, tempDir, type TestBroker } from './test-helpers.js';

const durable = (name: string, extra: Record<string, string> = {}) => ({ id: `d-${name}`, headers: { 'activemq.subscriptionName': name, ...extra } });

/** Connects as `clientId`, subscribes durably to `topic` as `name`, and leaves. */
async function registerAndLeave(b: TestBroker, clientId: string, topic: string, name: string, extra: Record<string, string> = {}): Promise<void> {
  const c = await b.connect({ clientId });
  await subscribe(c, topic, durable(name, extra));
  await c.disconnect();
}

describe('durable topic subscriptions', () => {
  it('delivers what was published while the subscriber was away, in order, then live messages', async () => {
    const b = await startTestBroker();
    await registerAndLeave(b, 'app', '/topic/prices', 'ticker');
    const producer = await b.connect();
    await sendMany(producer, '/topic/prices', 3);
    const back = await b.connect({ clientId: 'app' });
    const inbox = await subscribe(back, '/topic/prices', durable('ticker'));
    await inbox.count(3);
    await producer.sendWithReceipt('/topic/prices', 'live');
    await inbox.count(4);
    expect(inbox.texts).toEqual(['m1', 'm2', 'm3', 'live']);
    expect(inbox.messages[0]!.destination).toBe('/topic/prices');
  });

  it('keeps a separate backlog per subscription name and client-id', async () => {
    const b = await startTestBroker();
    await registerAndLeave(b, 'app', '/topic/multi', 'one');
    await registerAndLeave(b, 'app', '/topic/multi', 'two');
    await registerAndLeave(b, 'other-app', '/topic/multi', 'one');
    await sendMany(await b.connect(), '/topic/multi', 2);
    for (const [clientId, name] of [['app', 'one'], ['app', 'two'], ['other-app', 'one']] as const) {
      const c = await b.connect({ clientId });
      const inbox = await subscribe(c, '/topic/multi', durable(name));
      await inbox.count(2);
      await barrier(c);
      expect(inbox.texts).toEqual(['m1', 'm2']);
      await c.disconnect();
    }
  });

  it('redelivers unacked messages of a durable subscriber that left, as redelivered', async () => {
    const b = await startTestBroker();
    const c = await b.connect({ clientId: 'app' });
    const inbox = await subscribe(c, '/topic/unacked', { ...durable('s'), ack: 'client' });
    await sendMany(await b.connect(), '/topic/unacked', 2, { persistent: 'true' });
    await inbox.count(2);
    await c.disconnect();
    const back = await b.connect({ clientId: 'app' });
    const again = await subscribe(back, '/topic/unacked', { ...durable('s'), ack: 'client' });
    await again.count(2);
    expect(again.messages.map((m) => m.headers.redelivered)).toEqual(['true', 'true']);
  });

  it('survives a broker restart with its pending persistent messages and its selector', async () => {
    const dataDir = await tempDir();
    const first = await startTestBroker({ dataDir });
    await registerAndLeave(first, 'app', '/topic/restart', 'keep', { selector: "kind = 'wanted'" });
    const producer = await first.connect();
    await producer.sendWithReceipt('/topic/restart', 'a', { persistent: 'true', kind: 'wanted' });
    await producer.sendWithReceipt('/topic/restart', 'skip', { persistent: 'true', kind: 'other' });
    await producer.sendWithReceipt('/topic/restart', 'b', { persistent: 'true', kind: 'wanted', 'x-h': 'v' });
    await first.close();

    const second = await startTestBroker({ dataDir });
    // Published after the restart, before the subscriber is back: the recovered selector applies.
    const p2 = await second.connect();
    await p2.sendWithReceipt('/topic/restart', 'c', { persistent: 'true', kind: 'wanted' });
    await p2.sendWithReceipt('/topic/restart', 'skip2', { persistent: 'true', kind: 'other' });
    const back = await second.connect({ clientId: 'app' });
    const inbox = await subscribe(back, '/topic/restart', durable('keep', { selector: "kind = 'wanted'" }));
    await inbox.count(3);
    await barrier(back);
    expect(inbox.texts).toEqual(['a', 'b', 'c']);
    expect(inbox.messages[1]!.headers['x-h']).toBe('v');
  });

  it('UNSUBSCRIBE with activemq.subscriptionName removes it: nothing is kept for it afterwards', async () => {
    const b = await startTestBroker();
    const c = await b.connect({ clientId: 'app' });
    await subscribe(c, '/topic/gone', durable('temp'));
    await c.request(frame('UNSUBSCRIBE', { id: 'd-temp', 'activemq.subscriptionName': 'temp' }));
    await c.disconnect();
    await sendMany(await b.connect(), '/topic/gone', 2);
    expect(b.stats('/topic/gone').pending).toBe(0);
    const back = await b.connect({ clientId: 'app' });
    const inbox = await subscribe(back, '/topic/gone', durable('temp'));
    await barrier(back);
    expect(inbox.messages).toHaveLength(0);
  });

  it('UNSUBSCRIBE naming only the subscription removes an inactive one', async () => {
    const b = await startTestBroker();
    await registerAndLeave(b, 'app', '/topic/gone2', 'old');
    await sendMany(await b.connect(), '/topic/gone2', 2);
    const c = await b.connect({ clientId: 'app' });
    await c.request(frame('UNSUBSCRIBE', { 'activemq.subscriptionName': 'old' }));
    const inbox = await subscribe(c, '/topic/gone2', durable('old'));
    await barrier(c);
    expect(inbox.messages).toHaveLength(0);
  });

  it('a plain UNSUBSCRIBE only deactivates: messages are kept for the return', async () => {
    const b = await startTestBroker();
    const c = await b.connect({ clientId: 'app' });
    const sub = c.subscribe('/topic/pause', () => {}, { ...durable('p'), receipt: true });
    await sub.ready;
    await sub.unsubscribe();
    await sendMany(await b.connect(), '/topic/pause', 2);
    const inbox = await subscribe(c, '/topic/pause', { ...durable('p'), id: 'again' });
    await inbox.count(2);
  });
});

describe('durable subscription errors', () => {
  async function errorOf(c: StompClient, destination: string, headers: Record<string, string>): Promise<string> {
    const sub = c.subscribe(destination, () => {}, { headers, receipt: true });
    await expect(sub.ready).rejects.toThrow();
    await c.closed;
    return c.lastError?.message ?? '';
  }

  it('needs a client-id on CONNECT', async () => {
    const b = await startTestBroker();
    const message = await errorOf(await b.connect(), '/topic/x', { 'activemq.subscriptionName': 's' });
    expect(message).toContain('needs a client-id');
  });

  it('is refused on a queue', async () => {
    const b = await startTestBroker();
    const message = await errorOf(await b.connect({ clientId: 'c' }), '/queue/x', { 'activemq.subscriptionName': 's' });
    expect(message).toContain('is a queue');
  });

  it('cannot be active twice', async () => {
    const b = await startTestBroker();
    const c = await b.connect({ clientId: 'c' });
    await subscribe(c, '/topic/once', durable('s'));
    const message = await errorOf(c, '/topic/once', { 'activemq.subscriptionName': 's' });
    expect(message).toContain('already active');
  });

  it('is an ERROR on a raw socket too, with the receipt-id', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    await raw.connect();
    raw.write(frame('SUBSCRIBE', { destination: '/topic/raw', id: '1', 'activemq.subscriptionName': 's', receipt: 'r9' }));
    const error = await raw.error();
    expect(messageOf(error)).toContain('client-id');
    expect(error.headers).toContainEqual(['receipt-id', 'r9']);
  });
});
