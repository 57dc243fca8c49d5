// Goal: StompClient speaks STOMP correctly to a broker over real TCP sockets; method: a scripted fake
// broker (test/fake-broker.ts) records every frame the client sends and answers as each test needs.
import { afterEach, describe, expect, it } from 'vitest';
import { frame, header, RECEIPTS_PENDING_MAX, StompClient, StompError, type ConnectOptions, type Frame, type Message } from '@mini-amq/stomp';
import { startFakeBroker, type FakeBroker, type FakeBrokerOptions, freePort } from './fake-broker.js';
import { rejection } from './assertions.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: FakeBrokerOptions = {}, connect: ConnectOptions = {}): Promise<{ broker: FakeBroker; client: StompClient }> {
  const broker = await startFakeBroker('tcp', options);
  cleanups.push(() => broker.close());
  const client = await StompClient.connect(`tcp://127.0.0.1:${broker.port}`, connect);
  cleanups.push(() => client.close());
  return { broker, client };
}

const headersOf = (f: Frame): Record<string, string> => Object.fromEntries(f.headers);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


/** Settles-or-not probe: true if `p` settled within one macrotask turn after `ms`. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  await sleep(ms);
  return settled;
}


describe('connect', () => {
  it('sends CONNECT with the negotiation headers and exposes what CONNECTED said', async () => {
    const { broker, client } = await setup({ version: '1.2' }, {
      login: 'admin', passcode: 'secret', clientId: 'c-1', connectHeaders: { 'activemq.prefetchSize': '1' },
    });
    const connect = await broker.waitForFrame((f) => f.command === 'CONNECT');
    expect(connect.headers).toEqual([
      ['accept-version', '1.0,1.1,1.2'], ['host', 'localhost'], ['login', 'admin'], ['passcode', 'secret'],
      ['client-id', 'c-1'], ['heart-beat', '0,0'], ['activemq.prefetchSize', '1'],
    ]);
    expect(client.version).toBe('1.2');
    expect(client.server).toBe('fake-broker/1.0');
    expect(client.session).toBe('session-1');
    expect(client.connectedHeaders).toEqual({ version: '1.2', server: 'fake-broker/1.0', session: 'session-1', 'heart-beat': '0,0' });
    expect(client.isOpen).toBe(true);
  });

  it('takes a CONNECTED without a version header as STOMP 1.0', async () => {
    const { client } = await setup({ version: null });
    expect(client.version).toBe('1.0');
  });

  it('accepts the address as parts', async () => {
    const broker = await startFakeBroker('tcp');
    cleanups.push(() => broker.close());
    const client = await StompClient.connect({ host: '127.0.0.1', port: broker.port });
    cleanups.push(() => client.close());
    expect(client.uri).toBe(`tcp://127.0.0.1:${broker.port}`);
  });

  it('rejects with STOMP_SERVER_ERROR carrying the ERROR message when the broker refuses', async () => {
    const broker = await startFakeBroker('tcp', {
      onFrame: (f, c) => {
        c.send(frame('ERROR', { message: 'User name [admin] or password is invalid.' }, 'details'));
        c.end();
        return true;
      },
    });
    cleanups.push(() => broker.close());
    const err = await rejection(StompClient.connect(`tcp://127.0.0.1:${broker.port}`, { login: 'admin' }));
    expect(err.code).toBe('STOMP_SERVER_ERROR');
    expect(err.message).toBe('User name [admin] or password is invalid.');
    expect(err.frame?.body.toString()).toBe('details');
  });

  it('rejects with STOMP_CONNECT_FAILED when nothing listens', async () => {
    const port = await freePort();
    const err = await rejection(StompClient.connect(`tcp://127.0.0.1:${port}`));
    expect(err.code).toBe('STOMP_CONNECT_FAILED');
    expect(err.message).toMatch(new RegExp(`^cannot connect to tcp://127.0.0.1:${port}: connect ECONNREFUSED`));
  });

  it('rejects with STOMP_CONNECT_FAILED when no CONNECTED comes in time', async () => {
    const broker = await startFakeBroker('tcp', { onFrame: () => true });
    cleanups.push(() => broker.close());
    const started = Date.now();
    const err = await rejection(StompClient.connect(`tcp://127.0.0.1:${broker.port}`, { connectTimeoutMs: 200 }));
    expect(err.code).toBe('STOMP_CONNECT_FAILED');
    expect(err.message).toBe(`no CONNECTED from tcp://127.0.0.1:${broker.port} within 200 ms`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('rejects a version it did not offer', async () => {
    const broker = await startFakeBroker('tcp', { version: '1.1' });
    cleanups.push(() => broker.close());
    const err = await rejection(StompClient.connect(`tcp://127.0.0.1:${broker.port}`, { acceptVersion: '1.2' }));
    expect(err.code).toBe('STOMP_CONNECT_FAILED');
    expect(err.message).toBe(`tcp://127.0.0.1:${broker.port} chose STOMP version "1.1", not one we offered (1.2)`);
  });

  it('rejects a bad URI with STOMP_BAD_URI', async () => {
    expect((await rejection(StompClient.connect('tcp://nohost'))).code).toBe('STOMP_BAD_URI');
  });
});

describe('send and receipts', () => {
  it('send adds content-length and stringifies header values; binary bodies arrive intact', async () => {
    const { broker, client } = await setup();
    const body = Buffer.from([0, 1, 2, 0, 255]);
    expect(client.send('/queue/a', body, { persistent: true, priority: 7, 'content-length': 999, destination: '/queue/ignored' })).toBe(true);
    client.send('/queue/a', 'héllo');
    const [binary, textual] = await Promise.all([
      broker.waitForFrame((f) => f.command === 'SEND' && header(f, 'persistent') !== undefined),
      broker.waitForFrame((f) => f.command === 'SEND' && header(f, 'persistent') === undefined),
    ]);
    expect(binary.headers).toEqual([['destination', '/queue/a'], ['persistent', 'true'], ['priority', '7'], ['content-length', '5']]);
    expect(binary.body).toEqual(body);
    expect(headersOf(textual)['content-length']).toBe('6');
    expect(textual.body.toString('utf8')).toBe('héllo');
  });

  it('escapes header values for 1.2 on the wire', async () => {
    const { broker, client } = await setup({ version: '1.2' });
    client.send('/queue/a', '', { 'key:with:colons': 'line\nbreak' });
    const sent = await broker.waitForFrame((f) => f.command === 'SEND');
    expect(header(sent, 'key:with:colons')).toBe('line\nbreak'); // the broker's decoder un-escaped it
  });

  it('sendWithReceipt resolves only when its RECEIPT arrives, each with its own receipt id', async () => {
    const held: Array<() => void> = [];
    const { broker, client } = await setup({
      onFrame: (f, c) => {
        if (f.command !== 'SEND') return false;
        held.push(() => c.send(frame('RECEIPT', { 'receipt-id': header(f, 'receipt') })));
        return true;
      },
    });
    const first = client.sendWithReceipt('/queue/a', 'one');
    const second = client.sendWithReceipt('/queue/a', 'two');
    const sent = await Promise.all([1, 2].map((n) => broker.waitForFrame((f) => f.command === 'SEND' && f.body.toString() === (n === 1 ? 'one' : 'two'))));
    const ids = sent.map((f) => header(f, 'receipt'));
    expect(new Set(ids).size).toBe(2);
    expect(await settledWithin(first, 50)).toBe(false);
    held[1]?.(); // answer the second first
    await second;
    expect(await settledWithin(first, 20)).toBe(false);
    held[0]?.();
    await first;
  });

  it('an ERROR naming a receipt rejects that request; the close then rejects the rest', async () => {
    const { client } = await setup({
      onFrame: (f, c) => {
        if (f.command !== 'SEND') return false;
        if (f.body.toString() === 'bad') {
          c.send(frame('ERROR', { 'receipt-id': header(f, 'receipt'), message: 'destination /queue/x is not allowed' }));
          setTimeout(() => c.end(), 30);
        }
        return true; // no receipt for the others
      },
    });
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    const other = client.sendWithReceipt('/queue/a', 'fine');
    const bad = await rejection(client.sendWithReceipt('/queue/x', 'bad'));
    expect(bad.code).toBe('STOMP_SERVER_ERROR');
    expect(bad.message).toBe('destination /queue/x is not allowed');
    expect(await settledWithin(other, 5)).toBe(false);
    const closed = await rejection(other);
    expect(closed.code).toBe('STOMP_CONNECTION_CLOSED');
    expect(closed.cause).toBe(bad);
    expect(errors).toEqual([bad]);
    expect(client.lastError).toBe(bad);
  });

  it('an ERROR without receipt-id rejects every pending receipt', async () => {
    const { client } = await setup({
      onFrame: (f, c) => {
        if (f.command === 'SEND' && f.body.toString() === 'last') c.send(frame('ERROR', { message: 'broker is shutting down' }));
        return f.command === 'SEND';
      },
    });
    const pending = [client.sendWithReceipt('/queue/a', '1'), client.sendWithReceipt('/queue/a', 'last')];
    for (const p of pending) expect((await rejection(p)).message).toBe('broker is shutting down');
  });

  it('a connection closed by the broker rejects pending receipts with STOMP_CONNECTION_CLOSED', async () => {
    const { client } = await setup({ onFrame: (f, c) => { if (f.command === 'SEND') c.destroy(); return f.command === 'SEND'; } });
    const err = await rejection(client.sendWithReceipt('/queue/a', 'x'));
    expect(err.code).toBe('STOMP_CONNECTION_CLOSED');
    expect(err.message).toMatch(/^connection to tcp:\/\/127\.0\.0\.1:\d+ closed before RECEIPT r-\d+ arrived$/);
    await client.closed;
    expect(client.lastError?.message).toMatch(/closed by the broker|lost: /);
  });

  it('request() sends any frame with a receipt and resolves with the RECEIPT frame', async () => {
    const { broker, client } = await setup();
    const receipt = await client.request(frame('SEND', { destination: '/queue/a', receipt: 'mine' }, 'x'));
    const sent = await broker.waitForFrame((f) => f.command === 'SEND');
    expect(sent.headers.filter(([k]) => k === 'receipt')).toHaveLength(1); // the caller's receipt header replaced
    expect(receipt.command).toBe('RECEIPT');
    expect(header(receipt, 'receipt-id')).toBe(header(sent, 'receipt'));
  });

  it('refuses more than RECEIPTS_PENDING_MAX outstanding receipts', async () => {
    const { client } = await setup({ onFrame: (f) => f.command === 'SEND' }); // never answers
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < RECEIPTS_PENDING_MAX; i++) {
      const p = client.sendWithReceipt('/queue/a', '');
      p.catch(() => {});
      pending.push(p);
    }
    const err = await rejection(client.sendWithReceipt('/queue/a', ''));
    expect(err.code).toBe('STOMP_TOO_MANY_RECEIPTS');
    expect(err.message).toBe(`${RECEIPTS_PENDING_MAX} receipts are already pending on ${client.uri}`);
  });

  it('sendRaw reaches the broker byte for byte (malformed input gets the broker\'s ERROR)', async () => {
    const { client } = await setup();
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    client.sendRaw(Buffer.from('SEND\nno-colon-here\n\n\0'));
    await client.closed;
    expect(errors).toHaveLength(1);
    expect((errors[0] as StompError).code).toBe('STOMP_SERVER_ERROR');
    expect(errors[0]?.message).toBe(`header line has no ':' separator: "no-colon-here"`);
  });
});

describe('subscriptions and acks', () => {
  it('routes MESSAGE frames by subscription id and exposes their fields (1.2)', async () => {
    const { broker, client } = await setup({ version: '1.2' });
    const a: Message[] = [];
    const b: Message[] = [];
    const subA = client.subscribe('/queue/a', (m) => a.push(m), { ack: 'client-individual', headers: { selector: "color = 'red'", id: 'ignored' } });
    const subB = client.subscribe('/topic/b', (m) => b.push(m), { id: 'my-sub' });
    const subscribeA = await broker.waitForFrame((f) => f.command === 'SUBSCRIBE' && header(f, 'destination') === '/queue/a');
    expect(subscribeA.headers).toEqual([['destination', '/queue/a'], ['id', subA.id], ['ack', 'client-individual'], ['selector', "color = 'red'"]]);
    expect(subB.id).toBe('my-sub');
    const conn = broker.connections[0];
    conn?.send({
      command: 'MESSAGE',
      headers: [['subscription', subA.id], ['message-id', 'ID:1'], ['destination', '/queue/a'], ['ack', 'ack:1'], ['x', 'first'], ['x', 'second'], ['content-length', '3']],
      body: Buffer.from([0, 1, 0]),
    });
    conn?.send(frame('MESSAGE', { subscription: 'my-sub', 'message-id': 'ID:2', destination: '/topic/b' }, 'hello'));
    await waitUntil(() => a.length === 1 && b.length === 1);
    const m = a[0] as Message;
    expect([m.destination, m.messageId, m.subscription, m.ackId]).toEqual(['/queue/a', 'ID:1', subA.id, 'ack:1']);
    expect(m.headers.x).toBe('first');
    expect(m.headers['ack']).toBe('ack:1'); // escaped on the wire as ack\c1, un-escaped for us
    expect(m.body).toEqual(Buffer.from([0, 1, 0]));
    expect(b[0]?.text).toBe('hello');
    expect(b[0]?.ackId).toBe('ID:2'); // no ack header: falls back to message-id
    m.ack();
    m.nack('tx-9');
    const ack = await broker.waitForFrame((f) => f.command === 'ACK');
    const nack = await broker.waitForFrame((f) => f.command === 'NACK');
    expect(ack.headers).toEqual([['id', 'ack:1']]);
    expect(nack.headers).toEqual([['id', 'ack:1'], ['transaction', 'tx-9']]);
  });

  it('ACK uses message-id and subscription in 1.1, message-id alone in 1.0; NACK is refused in 1.0', async () => {
    for (const version of ['1.1', '1.0'] as const) {
      const { broker, client } = await setup({ version });
      const got: Message[] = [];
      const sub = client.subscribe('/queue/a', (m) => got.push(m), { ack: 'client' });
      await broker.waitForFrame((f) => f.command === 'SUBSCRIBE');
      broker.connections[0]?.send(frame('MESSAGE', { subscription: sub.id, 'message-id': 'ID:7', destination: '/queue/a' }));
      await waitUntil(() => got.length === 1);
      got[0]?.ack('tx-1');
      const ack = await broker.waitForFrame((f) => f.command === 'ACK');
      if (version === '1.1') expect(ack.headers).toEqual([['message-id', 'ID:7'], ['subscription', sub.id], ['transaction', 'tx-1']]);
      else expect(ack.headers).toEqual([['message-id', 'ID:7'], ['transaction', 'tx-1']]);
      if (version === '1.0') {
        let caught: unknown;
        try { got[0]?.nack(); } catch (err) { caught = err; }
        expect((caught as StompError).code).toBe('STOMP_UNSUPPORTED');
      }
    }
  });

  it('routes by destination when a 1.0 broker leaves out the subscription header', async () => {
    const { broker, client } = await setup({ version: null });
    const got: Message[] = [];
    client.subscribe('/queue/a', (m) => got.push(m));
    await broker.waitForFrame((f) => f.command === 'SUBSCRIBE');
    broker.connections[0]?.send(frame('MESSAGE', { 'message-id': 'ID:1', destination: '/queue/a' }, 'x'));
    await waitUntil(() => got.length === 1);
    expect(got[0]?.text).toBe('x');
  });

  it('subscribe with receipt resolves ready on the RECEIPT; unsubscribe waits for its own', async () => {
    const { broker, client } = await setup();
    const got: Message[] = [];
    const unrouted: Message[] = [];
    client.on('message', (m) => unrouted.push(m));
    const sub = client.subscribe('/queue/a', (m) => got.push(m), { receipt: true });
    await sub.ready;
    const subscribe = await broker.waitForFrame((f) => f.command === 'SUBSCRIBE');
    expect(header(subscribe, 'receipt')).toMatch(/^r-\d+$/);
    await sub.unsubscribe();
    const unsubscribe = await broker.waitForFrame((f) => f.command === 'UNSUBSCRIBE');
    expect(header(unsubscribe, 'id')).toBe(sub.id);
    expect(header(unsubscribe, 'receipt')).toMatch(/^r-\d+$/);
    broker.connections[0]?.send(frame('MESSAGE', { subscription: sub.id, 'message-id': 'late', destination: '/queue/a' }));
    await waitUntil(() => unrouted.length === 1);
    expect(got).toHaveLength(0);
  });

  it('refuses a subscription id already in use', async () => {
    const { client } = await setup();
    client.subscribe('/queue/a', () => {}, { id: 's' });
    expect(() => client.subscribe('/queue/b', () => {}, { id: 's' })).toThrow('subscription id "s" is already in use on this connection');
  });
});

describe('transactions', () => {
  it('BEGIN, transactional SEND and ACK, COMMIT and ABORT (with and without receipt)', async () => {
    const { broker, client } = await setup();
    const tx = client.begin();
    client.send('/queue/a', 'in tx', { transaction: tx });
    client.commit(tx);
    const named = client.begin('mine');
    await client.abort(named, { receipt: true });
    const tx3 = client.begin();
    await client.commit(tx3, { receipt: true });
    await waitUntil(() => (broker.connections[0]?.frames.length ?? 0) >= 8);
    const seen = broker.connections[0]?.frames.slice(1).map((f) => [f.command, header(f, 'transaction')]);
    expect(seen).toEqual([['BEGIN', tx], ['SEND', tx], ['COMMIT', tx], ['BEGIN', 'mine'], ['ABORT', 'mine'], ['BEGIN', tx3], ['COMMIT', tx3]]);
    expect(tx).not.toBe(tx3);
  });
});

describe('heart-beats', () => {
  it('sends EOLs at the negotiated interval while idle', async () => {
    const { broker, client } = await setup({ heartBeat: '0,40' }, { heartBeat: [40, 0] });
    expect(client.heartBeats).toEqual({ sendMs: 40, expectMs: 0 });
    const connect = await broker.waitForFrame((f) => f.command === 'CONNECT');
    expect(header(connect, 'heart-beat')).toBe('40,0');
    await sleep(400);
    // At least one per 40 ms; at most one per 20 ms tick.
    const beats = broker.connections[0]?.heartBeats ?? 0;
    expect(beats).toBeGreaterThanOrEqual(8);
    expect(beats).toBeLessThanOrEqual(21);
  });

  it('closes with STOMP_TIMEOUT when the broker goes silent for twice the interval', async () => {
    const { client } = await setup({ heartBeat: '50,0' }, { heartBeat: [0, 50] });
    expect(client.heartBeats).toEqual({ sendMs: 0, expectMs: 50 });
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    const started = Date.now();
    await client.closed;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(1_000);
    expect((client.lastError as StompError).code).toBe('STOMP_TIMEOUT');
    expect(client.lastError?.message).toMatch(/^no data from tcp:\/\/127\.0\.0\.1:\d+ for \d+ ms; heart-beats were due every 50 ms$/);
    expect(errors).toEqual([client.lastError]);
  });

  it('stays open while the broker heart-beats', async () => {
    const { broker, client } = await setup({ heartBeat: '50,0' }, { heartBeat: [0, 50] });
    const timer = setInterval(() => broker.connections[0]?.sendRaw(Buffer.from('\n')), 30);
    cleanups.push(() => clearInterval(timer));
    await sleep(400);
    expect(client.isOpen).toBe(true);
    expect(client.lastError).toBeNull();
  });

  it('uses no heart-beats in STOMP 1.0', async () => {
    const { client } = await setup({ version: null, heartBeat: '50,50' }, { heartBeat: [50, 50] });
    expect(client.heartBeats).toEqual({ sendMs: 0, expectMs: 0 });
  });
});

describe('closing', () => {
  it('disconnect sends DISCONNECT with a receipt, waits for it, then closes cleanly', async () => {
    const { broker, client } = await setup();
    const closes: Array<Error | null> = [];
    client.on('close', (e) => closes.push(e));
    await client.disconnect();
    const disconnect = await broker.waitForFrame((f) => f.command === 'DISCONNECT');
    expect(header(disconnect, 'receipt')).toMatch(/^r-\d+$/);
    expect(client.isClosed).toBe(true);
    expect(client.lastError).toBeNull();
    expect(closes).toEqual([null]);
    await client.disconnect(); // a second call is harmless
  });

  it('disconnect gives up waiting for the RECEIPT after timeoutMs and closes anyway', async () => {
    const { client } = await setup({ onFrame: (f) => f.command === 'DISCONNECT' });
    const started = Date.now();
    await client.disconnect({ timeoutMs: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(client.isClosed).toBe(true);
    expect((client.lastError as StompError).code).toBe('STOMP_TIMEOUT');
  });

  it('an ERROR with nobody listening does not crash; lastError and closed tell the story', async () => {
    const { broker, client } = await setup();
    broker.connections[0]?.send(frame('ERROR', { message: 'boom' }));
    broker.connections[0]?.end();
    await client.closed;
    expect((client.lastError as StompError).code).toBe('STOMP_SERVER_ERROR');
    expect(client.lastError?.message).toBe('boom');
  });

  it('undecodable bytes from the broker close the client with the decoder error', async () => {
    const { broker, client } = await setup();
    broker.connections[0]?.sendRaw(Buffer.from('MESSAGE\nbroken header\n\n\0'));
    await client.closed;
    expect((client.lastError as StompError).code).toBe('STOMP_MALFORMED_FRAME');
  });

  it('after close(), methods throw or reject with STOMP_CONNECTION_CLOSED and unsubscribe resolves', async () => {
    const { client } = await setup();
    const sub = client.subscribe('/queue/a', () => {});
    client.close();
    await client.closed;
    expect(client.lastError).toBeNull();
    let caught: unknown;
    try { client.send('/queue/a', 'x'); } catch (err) { caught = err; }
    expect((caught as StompError).code).toBe('STOMP_CONNECTION_CLOSED');
    expect((await rejection(client.sendWithReceipt('/queue/a', 'x'))).code).toBe('STOMP_CONNECTION_CLOSED');
    expect((await rejection(client.waitDrain())).code).toBe('STOMP_CONNECTION_CLOSED');
    await sub.unsubscribe();
  });
});

describe('flow control', () => {
  it('send returns false when the write buffer is full and waitDrain resolves once it empties', async () => {
    const { broker, client } = await setup();
    broker.connections[0]?.pause();
    const body = Buffer.alloc(256 * 1024, 0x61);
    let sends = 0;
    // Writes are corked per tick, so keep going across ticks until the kernel buffers are full too.
    for (let round = 0; round < 200; round++) {
      while (sends < 2_000 && client.send('/queue/a', body)) sends++;
      sends++; // the send that returned false went out as well
      await sleep(20);
      if (!client.writable) break;
    }
    expect(client.writable).toBe(false);
    let drained = false;
    client.once('drain', () => { drained = true; });
    const waited = client.waitDrain();
    expect(await settledWithin(waited, 50)).toBe(false);
    broker.connections[0]?.resume();
    await waited;
    expect(drained).toBe(true);
    expect(client.writable).toBe(true);
    await waitUntil(() => (broker.connections[0]?.frames.length ?? 0) === sends + 1); // + CONNECT
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}
