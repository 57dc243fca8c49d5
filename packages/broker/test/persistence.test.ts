// Goal: message priority and expiry work as in ActiveMQ, and persistent messages (only those) survive a
// broker restart with their order and headers; method: real brokers, the restart ones on a LevelStore
// in a temporary directory that is closed and reopened by a second broker.
import { describe, expect, it } from 'vitest';
import { barrier, sendMany, sleep, startTestBroker, subscribe, tempDir } from './test-helpers.js';

describe('priority', () => {
  it('delivers higher priority first among messages queued before the consumer subscribed, FIFO within one', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    const sent = [4, 0, 9, 4, 7, 1, 9, 5];
    for (const [i, p] of sent.entries()) await producer.sendWithReceipt('/queue/prio', `p${p}-${i}`, { priority: p });
    const inbox = await subscribe(await b.connect(), '/queue/prio');
    await inbox.count(sent.length);
    expect(inbox.texts).toEqual(['p9-2', 'p9-6', 'p7-4', 'p5-7', 'p4-0', 'p4-3', 'p1-5', 'p0-1']);
    expect(inbox.messages.map((m) => m.headers.priority)).toEqual(['9', '9', '7', '5', '4', '4', '1', '0']);
  });

  it('orders persistent messages by priority too', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    for (let p = 0; p <= 9; p++) await producer.sendWithReceipt('/queue/prio.p', `p${p}`, { priority: p, persistent: 'true' });
    const inbox = await subscribe(await b.connect(), '/queue/prio.p');
    await inbox.count(10);
    expect(inbox.texts).toEqual(['p9', 'p8', 'p7', 'p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0']);
  });
});

describe('expiry', () => {
  it('never delivers a message whose expires is in the past, and keeps delivering the rest', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    await producer.sendWithReceipt('/queue/exp', 'stale', { expires: Date.now() - 1_000 });
    await producer.sendWithReceipt('/queue/exp', 'fresh', { expires: Date.now() + 60_000 });
    await producer.sendWithReceipt('/queue/exp', 'forever');
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/exp');
    await inbox.count(2);
    await barrier(c);
    expect(inbox.texts).toEqual(['fresh', 'forever']);
    // A non-persistent expired message is simply dropped ([ActiveMQ DLQ] processNonPersistent=false).
    const dlqReader = await b.connect();
    const dlq = await subscribe(dlqReader, '/queue/ActiveMQ.DLQ');
    await barrier(dlqReader);
    expect(dlq.messages).toHaveLength(0);
  });

  it('expires a message that waited in the queue past its time', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    await producer.sendWithReceipt('/queue/exp.wait', 'short-lived', { expires: Date.now() + 150 });
    await sleep(200); // its lifetime is up while it waits for a consumer
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/exp.wait');
    await barrier(c);
    expect(inbox.messages).toHaveLength(0);
    expect(b.stats('/queue/exp.wait')).toMatchObject({ pending: 0, inflight: 0 });
  });

  it('moves an expired persistent message to ActiveMQ.DLQ, where it no longer expires', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    await producer.sendWithReceipt('/queue/exp.p', 'stale', { expires: Date.now() - 1_000, persistent: 'true', 'x-id': 'e1' });
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/exp.p');
    const dlq = await subscribe(await b.connect(), '/queue/ActiveMQ.DLQ');
    const [dead] = await dlq.count(1);
    await barrier(c);
    expect(inbox.messages).toHaveLength(0);
    expect(dead!.headers).toMatchObject({ 'original-destination': '/queue/exp.p', 'x-id': 'e1', expires: '0' });
    expect(dead!.text).toBe('stale');
  });

  it('refuses an expires header that is not a number', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    await expect(c.sendWithReceipt('/queue/exp.bad', 'x', { expires: 'tomorrow' })).rejects.toThrow(/expires must be an integer/);
  });
});

describe('restart', () => {
  it('keeps persistent messages across a restart, in order, with their headers; non-persistent ones are gone', async () => {
    const dataDir = await tempDir();
    const first = await startTestBroker({ dataDir });
    const producer = await first.connect();
    await producer.sendWithReceipt('/queue/durable', 'p1', { persistent: 'true', 'x-a': '1', 'content-type': 'text/plain', 'reply-to': '/queue/r' });
    await producer.sendWithReceipt('/queue/durable', 'n1');
    await producer.sendWithReceipt('/queue/durable', Buffer.from([0, 1, 2]), { persistent: 'true', 'x-a': '2', priority: 4 });
    await producer.sendWithReceipt('/queue/durable', 'p3', { persistent: 'true', 'x-multi': 'a:b\nc' });
    await producer.sendWithReceipt('/queue/other', 'p-other', { persistent: 'true' });
    // Read the ids as the first broker delivered them, through a browser that consumes nothing.
    const browser = await first.connect();
    const browsed = await subscribe(browser, '/queue/durable', { headers: { browser: 'true' } });
    await browsed.count(5);
    const ids = browsed.messages.filter((m) => m.headers.browser !== 'end' && m.headers.persistent === 'true').map((m) => m.messageId);
    expect(ids).toHaveLength(3);
    await first.close();

    const second = await startTestBroker({ dataDir });
    const c = await second.connect();
    const inbox = await subscribe(c, '/queue/durable', { ack: 'client' });
    await inbox.count(3);
    await barrier(c);
    expect(inbox.messages).toHaveLength(3);
    const [m1, m2, m3] = inbox.messages;
    expect(m1!.text).toBe('p1');
    expect(m1!.headers).toMatchObject({ 'x-a': '1', 'content-type': 'text/plain', 'reply-to': '/queue/r', persistent: 'true', destination: '/queue/durable' });
    expect(m2!.body.equals(Buffer.from([0, 1, 2]))).toBe(true);
    expect(m2!.headers['x-a']).toBe('2');
    expect(m3!.headers['x-multi']).toBe('a:b\nc');
    expect(inbox.messages.map((m) => m.messageId)).toEqual(ids);
    const other = await subscribe(c, '/queue/other');
    expect((await other.count(1))[0]!.text).toBe('p-other');
  });

  it('does not bring back messages acknowledged before the restart, and redelivers unacked ones as redelivered', async () => {
    const dataDir = await tempDir();
    const first = await startTestBroker({ dataDir });
    const c = await first.connect();
    await sendMany(c, '/queue/acked', 4, { persistent: 'true' });
    const inbox = await subscribe(c, '/queue/acked', { ack: 'client-individual' });
    const got = await inbox.count(4);
    got[0]!.ack();
    got[2]!.ack();
    await barrier(c);
    // NACK the 4th once so its redelivery count is on disk.
    got[3]!.nack();
    await inbox.count(5);
    await barrier(c);
    await first.close();

    const second = await startTestBroker({ dataDir });
    const c2 = await second.connect();
    const again = await subscribe(c2, '/queue/acked');
    await again.count(2);
    await barrier(c2);
    expect(again.texts).toEqual(['m2', 'm4']);
    expect(again.messages[1]!.headers.redelivered).toBe('true');
  });
});
