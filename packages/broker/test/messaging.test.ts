// Goal: SEND and SUBSCRIBE move messages as ActiveMQ does (a queue message to exactly one consumer, a
// topic message to every subscriber) and MESSAGE frames carry the headers [STOMP 1.2: MESSAGE] and
// ActiveMQ's STOMP docs promise, user headers verbatim; method: StompClients and raw sockets on a
// real broker, checking the decoded MESSAGE frames.
import { describe, expect, it } from 'vitest';
import {
  barrier, frame, header, headersOf, Inbox, sendMany, startTestBroker, subscribe, waitFor,
} from './test-helpers.js';

const numbers = (inbox: Inbox): number[] => inbox.texts.map((t) => Number(t.slice(1)));
const isIncreasing = (xs: number[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1]! < x);

describe('queues', () => {
  it('gives each message to exactly one of several consumers, spread over them, in order per consumer', async () => {
    const b = await startTestBroker();
    const consumers = await Promise.all([b.connect(), b.connect(), b.connect()]);
    const inboxes = await Promise.all(consumers.map((c) => subscribe(c, '/queue/work', { headers: { 'activemq.prefetchSize': '1' } })));
    // With prefetch 1 and auto ack every consumer can take the next message once it has written the last.
    const producer = await b.connect();
    await sendMany(producer, '/queue/work', 60);
    await waitFor(() => inboxes.reduce((n, i) => n + i.messages.length, 0) >= 60, 'all 60 messages');
    await Promise.all(consumers.map(barrier));
    const all = inboxes.flatMap(numbers).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    for (const inbox of inboxes) {
      expect(inbox.messages.length).toBeGreaterThan(0);
      expect(isIncreasing(numbers(inbox))).toBe(true);
    }
  });

  it('keeps messages sent before anyone subscribed and delivers them in order to the first consumer', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    await sendMany(producer, '/queue/backlog', 5);
    expect(b.stats('/queue/backlog').pending).toBe(5);
    const inbox = await subscribe(await b.connect(), '/queue/backlog');
    await inbox.count(5);
    expect(inbox.texts).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });

  it('sends to every destination of a comma-separated (composite) list', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const a = await subscribe(c, '/queue/comp.a');
    const t = await subscribe(c, '/topic/comp.t');
    await c.sendWithReceipt('/queue/comp.a,/topic/comp.t', 'both');
    const [ma] = await a.count(1);
    const [mt] = await t.count(1);
    expect(ma!.destination).toBe('/queue/comp.a');
    expect(mt!.destination).toBe('/topic/comp.t');
  });
});

describe('topics', () => {
  it('copies each message to every subscriber, in order', async () => {
    const b = await startTestBroker();
    const subscribers = await Promise.all([b.connect(), b.connect(), b.connect()]);
    const inboxes = await Promise.all(subscribers.map((c) => subscribe(c, '/topic/news')));
    await sendMany(await b.connect(), '/topic/news', 10);
    for (const inbox of inboxes) {
      await inbox.count(10);
      expect(inbox.texts).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 1}`));
    }
  });

  it('keeps nothing for a topic nobody subscribes to', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    await producer.sendWithReceipt('/topic/void', 'lost');
    const c = await b.connect();
    const inbox = await subscribe(c, '/topic/void');
    await producer.sendWithReceipt('/topic/void', 'seen');
    await inbox.count(1);
    await barrier(c);
    expect(inbox.texts).toEqual(['seen']);
  });

  it('gives two subscriptions of one connection a copy each, told apart by the subscription header', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const s1 = await subscribe(c, '/topic/twice', { id: 's1' });
    const s2 = await subscribe(c, '/topic/twice', { id: 's2' });
    await c.sendWithReceipt('/topic/twice', 'x');
    expect((await s1.count(1))[0]!.subscription).toBe('s1');
    expect((await s2.count(1))[0]!.subscription).toBe('s2');
  });
});

describe('MESSAGE headers', () => {
  it('carries message-id, destination, subscription, ack (1.2 client mode), the JMS headers and user headers', async () => {
    const b = await startTestBroker();
    const consumer = await b.connect();
    const inbox = await subscribe(consumer, '/queue/hdr', { id: 'sub-7', ack: 'client-individual' });
    const producer = await b.connect();
    await producer.sendWithReceipt('/queue/hdr', 'hello', {
      'content-type': 'text/plain;charset=utf-8', persistent: 'true', priority: 7, expires: 0,
      'reply-to': '/queue/answers', 'correlation-id': 'c-1', type: 'greeting', 'x-user': 'u1',
    });
    const [m] = await inbox.count(1);
    const h = m!.headers;
    expect(h['message-id']).toMatch(/^ID:/);
    expect(h).toMatchObject({
      destination: '/queue/hdr', subscription: 'sub-7', 'content-length': '5',
      'content-type': 'text/plain;charset=utf-8', persistent: 'true', priority: '7', expires: '0',
      'reply-to': '/queue/answers', 'correlation-id': 'c-1', type: 'greeting', 'x-user': 'u1',
    });
    expect(h.ack).toBeTruthy();
    expect(h.redelivered).toBeUndefined();
    expect(Number(h.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(m!.text).toBe('hello');
  });

  it('defaults to non-persistent, priority 4, expires 0', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/defaults');
    await c.sendWithReceipt('/queue/defaults', 'd');
    const [m] = await inbox.count(1);
    expect(m!.headers).toMatchObject({ persistent: 'false', priority: '4', expires: '0' });
  });

  it('has no ack header in auto mode, nor before 1.2', async () => {
    const b = await startTestBroker();
    const auto12 = await subscribe(await b.connect(), '/topic/ackhdr', { ack: 'auto' });
    const client11 = await subscribe(await b.connect({ acceptVersion: '1.1' }), '/topic/ackhdr', { ack: 'client' });
    const client12 = await subscribe(await b.connect(), '/topic/ackhdr', { ack: 'client' });
    await (await b.connect()).sendWithReceipt('/topic/ackhdr', 'x');
    expect((await auto12.count(1))[0]!.headers.ack).toBeUndefined();
    expect((await client11.count(1))[0]!.headers.ack).toBeUndefined();
    expect((await client12.count(1))[0]!.headers.ack).toBeTruthy();
  });

  it('gives every message its own message-id', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/ids');
    await sendMany(c, '/queue/ids', 50);
    await inbox.count(50);
    expect(new Set(inbox.messages.map((m) => m.messageId)).size).toBe(50);
  });

  it('keeps the first of repeated headers [STOMP 1.2: Repeated Header Entries], the destination too', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const first = await subscribe(c, '/queue/rep.first');
    const raw = await b.raw();
    await raw.connect();
    raw.write({ command: 'SEND', headers: [['destination', '/queue/rep.first'], ['destination', '/queue/rep.second'], ['x-rep', 'one'], ['x-rep', 'two'], ['receipt', 'r1']], body: Buffer.from('body') });
    await raw.next((f) => f.command === 'RECEIPT');
    const [m] = await first.count(1);
    expect(m!.frame.headers.filter(([k]) => k === 'x-rep')).toEqual([['x-rep', 'one']]);
    expect(b.stats('/queue/rep.second').enqueued).toBe(0);
  });

  it('round-trips 1.2-escaped header names and values (colon, newline, backslash, CR) to 1.2 and 1.1 consumers', async () => {
    const b = await startTestBroker();
    const c12 = await subscribe(await b.connect(), '/topic/esc');
    const c11 = await subscribe(await b.connect({ acceptVersion: '1.1' }), '/topic/esc');
    const raw = await b.raw();
    await raw.connect();
    const sent: Array<[string, string]> = [['colon', 'a:b'], ['newline', 'line1\nline2'], ['backslash', 'c:\\dir'], ['we:ird', 'name'], ['cr', 'x\ry']];
    // Written by hand so the test does not rely on the encoder it shares with the broker.
    raw.write('SEND\ndestination:/topic/esc\nreceipt:r\ncolon:a\\cb\nnewline:line1\\nline2\nbackslash:c\\c\\\\dir\nwe\\cird:name\ncr:x\\ry\n\nbody\0');
    expect((await raw.next()).command).toBe('RECEIPT');
    const [m12] = await c12.count(1);
    for (const [k, v] of sent) expect(header(m12!.frame, k)).toBe(v);
    const [m11] = await c11.count(1);
    for (const [k, v] of sent.filter(([k]) => k !== 'cr')) expect(header(m11!.frame, k)).toBe(v);
  });

  it('passes bodies with NUL octets intact when content-length is given', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/binary');
    const body = Buffer.from([0, 1, 0, 2, 255, 0, 0x0a, 0]);
    await c.sendWithReceipt('/queue/binary', body);
    const [m] = await inbox.count(1);
    expect(m!.body.equals(body)).toBe(true);
    expect(m!.headers['content-length']).toBe(String(body.length));
  });

  it('adds content-length to a message sent without one (NUL-terminated body)', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/nocl');
    const raw = await b.raw();
    await raw.connect();
    raw.write('SEND\ndestination:/queue/nocl\nreceipt:r\n\nplain text\0');
    await raw.next();
    const [m] = await inbox.count(1);
    expect(m!.text).toBe('plain text');
    expect(m!.headers['content-length']).toBe('10');
  });

  it('accepts CRLF line endings from a 1.2 client [STOMP 1.2: Augmented BNF]', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/crlf');
    const raw = await b.raw();
    raw.write('CONNECT\r\naccept-version:1.2\r\nhost:localhost\r\n\r\n\0');
    expect((await raw.next()).command).toBe('CONNECTED');
    raw.write('SEND\r\ndestination:/queue/crlf\r\nx-h:v\r\nreceipt:r\r\n\r\nok\0\r\n');
    expect((await raw.next()).command).toBe('RECEIPT');
    const [m] = await inbox.count(1);
    expect(m!.headers['x-h']).toBe('v');
    expect(m!.text).toBe('ok');
  });

  it('delivers to a 1.0 consumer a message whose headers 1.0 cannot carry, and keeps serving everyone', async () => {
    const b = await startTestBroker();
    const raw10 = await b.raw();
    await raw10.connect({ login: 'old' });
    raw10.write(frame('SUBSCRIBE', { destination: '/queue/legacy', receipt: 's' }));
    await raw10.next((f) => f.command === 'RECEIPT');
    const producer = await b.connect();
    // A 1.2 producer may send a newline in a value and a colon in a name; 1.0 has no escaping for them.
    await producer.sendWithReceipt('/queue/legacy', 'one', { 'x-multi': 'a\nb', 'x:colon': 'v', 'x-ok': 'fine' });
    await producer.sendWithReceipt('/queue/legacy', 'two');
    const m1 = await raw10.next((f) => f.command === 'MESSAGE');
    const m2 = await raw10.next((f) => f.command === 'MESSAGE');
    expect(m1.body.toString()).toBe('one');
    expect(headersOf(m1)['x-ok']).toBe('fine');
    expect(m2.body.toString()).toBe('two');
    // The broker is still up for others.
    const other = await b.connect();
    await other.sendWithReceipt('/queue/legacy.after', 'x');
  });
});

