// Goal: clients written by others work against the broker unchanged: @stomp/stompjs (the browser STOMP
// library, here over a real WebSocket from the `ws` package) with heart-beats, receipts,
// client-individual acks, NACK and transactions; stompit (a Node STOMP client) over TCP with
// client-individual acks and a graceful DISCONNECT; and a persistent message crossing from one library
// to the other through a broker restart. Method: the libraries' public APIs only; every body and header
// the receiving library reports is compared exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Client, type IFrame, type IMessage, type StompHeaders } from '@stomp/stompjs';
// @ts-expect-error stompit ships no type declarations; the few calls used here are typed below.
import stompitModule from 'stompit';
import { MemoryStore } from '@mini-amq/store';
import { startBroker, type RunningBroker } from '../src/start.js';
import { waitForValue } from './test-helpers.js';

const WAIT_MS = 5_000;

const waitFor = <T>(what: string, probe: () => T | undefined | false, timeoutMs = WAIT_MS): Promise<T> => waitForValue(what, probe, timeoutMs);

/** A promise with a deadline, so a callback that never comes fails the test instead of hanging it. */
function within<T>(what: string, executor: (resolve: (v: T) => void, reject: (e: Error) => void) => void, timeoutMs = WAIT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    executor((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

// ---- stompjs ------------------------------------------------------------------------------------

interface StompJs {
  readonly client: Client;
  readonly connected: IFrame;
  readonly errors: IFrame[];
  readonly closes: number[];
  heartbeatsReceived: number;
}

const stompJsClients: Client[] = [];

async function stompJs(wsPort: number, tune: (c: Client) => void = () => {}): Promise<StompJs> {
  const errors: IFrame[] = [];
  const closes: number[] = [];
  const state = { heartbeatsReceived: 0 };
  const client = new Client({
    webSocketFactory: () => new WebSocket(`ws://127.0.0.1:${wsPort}/stomp`, ['v12.stomp', 'v11.stomp', 'v10.stomp']) as unknown as globalThis.WebSocket,
    connectHeaders: { host: 'localhost' },
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    debug: () => {},
    onStompError: (f) => { errors.push(f); },
    onWebSocketClose: (evt: { code: number }) => { closes.push(evt.code); },
    onHeartbeatReceived: () => { state.heartbeatsReceived++; },
  });
  tune(client);
  stompJsClients.push(client);
  const connected = await within<IFrame>('stompjs to connect', (resolve, reject) => {
    client.onConnect = resolve;
    client.onWebSocketError = () => reject(new Error('WebSocket error while connecting'));
    client.activate();
  });
  return Object.assign(state, { client, connected, errors, closes });
}

/** Publishes with a `receipt` header and resolves when stompjs sees the RECEIPT. */
function publishWithReceipt(client: Client, receipt: string, destination: string, body: string | Uint8Array, headers: StompHeaders = {}): Promise<IFrame> {
  return within<IFrame>(`RECEIPT ${receipt}`, (resolve) => {
    client.watchForReceipt(receipt, resolve);
    if (typeof body === 'string') client.publish({ destination, body, headers: { ...headers, receipt } });
    else client.publish({ destination, binaryBody: body, headers: { ...headers, receipt } });
  });
}

// ---- stompit ------------------------------------------------------------------------------------

interface StompitMessage {
  readonly headers: Record<string, string>;
  readString(encoding: string, callback: (err: Error | null, body?: string) => void): void;
}
interface StompitWritable { write(chunk: string | Buffer): void; end(cb?: () => void): void }
interface StompitClient {
  send(headers: Record<string, string>, options?: { onReceipt?: () => void }): StompitWritable;
  subscribe(headers: Record<string, string>, listener: (err: Error | null, message: StompitMessage) => void): { unsubscribe(): void };
  ack(message: StompitMessage, headers?: Record<string, string>, options?: { onReceipt?: () => void }): void;
  nack(message: StompitMessage, headers?: Record<string, string>, options?: { onReceipt?: () => void }): void;
  disconnect(callback?: (err: Error | null) => void): void;
  destroy(err?: Error): void;
  on(event: 'error', listener: (err: Error) => void): void;
  headers?: Record<string, string>;
}
interface Stompit {
  connect(options: { host: string; port: number; connectHeaders: Record<string, string>; timeout?: number }, cb: (err: Error | null, client: StompitClient) => void): void;
}
const stompit = stompitModule as Stompit;
const stompitClients: StompitClient[] = [];

async function stompitConnect(port: number): Promise<StompitClient> {
  const client = await within<StompitClient>('stompit to connect', (resolve, reject) => {
    stompit.connect({ host: '127.0.0.1', port, timeout: 3_000, connectHeaders: { host: 'localhost', 'heart-beat': '0,0' } }, (err, c) => {
      if (err) reject(err); else resolve(c);
    });
  });
  client.on('error', () => {});
  stompitClients.push(client);
  return client;
}

function stompitSend(client: StompitClient, headers: Record<string, string>, body: string): Promise<void> {
  return within<void>(`stompit RECEIPT for a SEND to ${headers.destination}`, (resolve) => {
    const frame = client.send(headers, { onReceipt: () => resolve() });
    frame.write(body);
    frame.end();
  });
}

function readBody(message: StompitMessage): Promise<string> {
  return within<string>('stompit to read a body', (resolve, reject) => {
    message.readString('utf-8', (err, body) => { if (err) reject(err); else resolve(body ?? ''); });
  });
}

// ---- the broker ---------------------------------------------------------------------------------

let running: RunningBroker | null = null;
const dirs: string[] = [];

afterEach(async () => {
  for (const c of stompJsClients.splice(0)) await c.deactivate({ force: true }).catch(() => {});
  for (const c of stompitClients.splice(0)) c.destroy();
  await running?.close();
  running = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Headers every MESSAGE from the broker carries, whatever the client sent. */
const brokerHeaders = (destination: string, subscription: string, persistent: boolean) => ({
  destination,
  subscription,
  'message-id': expect.stringMatching(/^ID:localhost-[0-9a-f]{8}-\d+$/),
  persistent: String(persistent),
  priority: '4',
  timestamp: expect.stringMatching(/^\d{13}$/),
  expires: '0',
});

describe('@stomp/stompjs over WebSocket', () => {
  beforeEach(async () => {
    running = await startBroker({ store: new MemoryStore(), stompPort: 0, wsPort: 0, host: '127.0.0.1' });
  });

  it('connects with STOMP 1.2 over v12.stomp and negotiates heart-beats that keep an idle connection alive', async () => {
    const s = await stompJs(running!.wsPort!, (c) => {
      c.heartbeatIncoming = 200; // the broker must beat every 200 ms
      c.heartbeatOutgoing = 500; // we promise a beat every 500 ms; the broker allows 1.5x that
      c.heartbeatToleranceMultiplier = 10; // a loaded test machine must not fail this test
    });
    expect(s.client.webSocket?.protocol).toBe('v12.stomp');
    expect(s.connected.headers).toEqual({
      version: '1.2', server: 'mini-amq/0.1.0', session: expect.stringMatching(/^ID:localhost-/), 'heart-beat': '200,500',
    });
    // Idle for a while: the broker beats, stompjs beats, and neither side gives up on the other.
    await waitFor('five heart-beats from the broker', () => s.heartbeatsReceived >= 5, 3_000);
    await new Promise((resolve) => setTimeout(resolve, 600)); // by now well over 1.5 x 500 ms of client silence but for beats
    expect(s.client.connected).toBe(true);
    expect(s.closes).toEqual([]);
    expect(running!.server.connectionCount).toBe(1);
    await publishWithReceipt(s.client, 'still-alive', '/queue/hb', 'x');
  });

  it('subscribes with client-individual acks, publishes with receipts, acks, nacks and sees the redelivery', async () => {
    const s = await stompJs(running!.wsPort!);
    const got: IMessage[] = [];
    await within<IFrame>('SUBSCRIBE receipt', (resolve) => {
      s.client.watchForReceipt('sub-1', resolve);
      s.client.subscribe('/queue/interop.ci', (m) => got.push(m), { id: 'ci', ack: 'client-individual', receipt: 'sub-1' });
    });
    // (No `\\c` in x-tricky: stompjs 7.5 un-escapes `\c` before `\\`, so it would read an escaped `\c` as `\:`.)
    const receipt = await publishWithReceipt(s.client, 'send-1', '/queue/interop.ci', 'one', { 'content-type': 'text/plain', 'x-n': '1', 'x-tricky': 'a:b\\x\ny' });
    expect(receipt.command).toBe('RECEIPT');
    expect(receipt.headers).toEqual({ 'receipt-id': 'send-1' });
    await publishWithReceipt(s.client, 'send-2', '/queue/interop.ci', 'two', { 'x-n': '2' });
    await publishWithReceipt(s.client, 'send-3', '/queue/interop.ci', new Uint8Array([0, 1, 2, 255]), { 'x-n': '3' });
    await waitFor('three messages', () => got.length === 3);

    const [one, two, three] = got as [IMessage, IMessage, IMessage];
    expect(one.body).toBe('one');
    expect(one.headers).toEqual({
      ...brokerHeaders('/queue/interop.ci', 'ci', false),
      ack: expect.any(String), 'content-type': 'text/plain', 'x-n': '1', 'x-tricky': 'a:b\\x\ny', 'content-length': '3',
    });
    expect(two.body).toBe('two');
    expect(two.headers['x-n']).toBe('2');
    expect(three.isBinaryBody).toBe(true);
    expect([...three.binaryBody]).toEqual([0, 1, 2, 255]);
    expect(three.headers['content-length']).toBe('4');
    expect(new Set([one.headers.ack, two.headers.ack, three.headers.ack]).size).toBe(3);

    // client-individual: acking the last one leaves the first two unacked.
    three.ack();
    await waitFor('the ack of the third to land', () => running!.broker.stats().find((q) => q.destination === '/queue/interop.ci')?.dequeued === 1);
    expect(running!.broker.stats().find((q) => q.destination === '/queue/interop.ci')).toMatchObject({ inflight: 2, pending: 0, dequeued: 1 });
    one.ack();
    two.nack();
    const again = await waitFor('the NACKed message redelivered', () => got.slice(3).find((m) => m.headers['x-n'] === '2'));
    expect(again.body).toBe('two');
    expect(again.headers.redelivered).toBe('true');
    expect(again.headers['message-id']).toBe(two.headers['message-id']);
    expect(again.headers.ack).not.toBe(two.headers.ack);
    again.ack();
    await waitFor('every message acked', () => running!.broker.stats().find((q) => q.destination === '/queue/interop.ci')?.dequeued === 3);
    expect(got).toHaveLength(4);
    expect(s.errors).toEqual([]);
  });

  it('holds transactional sends until COMMIT, drops them on ABORT, and applies acks at COMMIT', async () => {
    const s = await stompJs(running!.wsPort!);
    const got: IMessage[] = [];
    await within<IFrame>('SUBSCRIBE receipt', (resolve) => {
      s.client.watchForReceipt('sub', resolve);
      s.client.subscribe('/queue/interop.tx', (m) => got.push(m), { id: 'tx-sub', ack: 'client-individual', receipt: 'sub' });
    });

    const tx = s.client.begin('tx-1');
    expect(tx.id).toBe('tx-1');
    s.client.publish({ destination: '/queue/interop.tx', body: 'in tx a', headers: { transaction: tx.id } });
    s.client.publish({ destination: '/queue/interop.tx', body: 'in tx b', headers: { transaction: tx.id } });
    await publishWithReceipt(s.client, 'outside', '/queue/interop.tx', 'outside');
    await waitFor('the message sent outside the transaction', () => got.length === 1);
    expect(got.map((m) => m.body)).toEqual(['outside']); // the transaction's sends are held
    await within<IFrame>('COMMIT receipt', (resolve) => {
      s.client.watchForReceipt('commit-1', resolve);
      s.client.commit(tx.id); // stompjs offers no headers on commit(); the receipt comes from a second frame below
      s.client.publish({ destination: '/queue/interop.tx.marker', body: '', headers: { receipt: 'commit-1' } });
    });
    await waitFor('the committed messages', () => got.length === 3);
    expect(got.map((m) => m.body)).toEqual(['outside', 'in tx a', 'in tx b']);

    const aborted = s.client.begin('tx-2');
    s.client.publish({ destination: '/queue/interop.tx', body: 'never', headers: { transaction: aborted.id } });
    got[0]!.ack({ transaction: aborted.id }); // an ack inside the aborted transaction does not count
    aborted.abort();

    const acks = s.client.begin('tx-3');
    got[1]!.ack({ transaction: acks.id });
    got[2]!.ack({ transaction: acks.id });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const q = (): { dequeued: number; inflight: number } => running!.broker.stats().find((x) => x.destination === '/queue/interop.tx')!;
    expect(q()).toMatchObject({ dequeued: 0, inflight: 3 }); // acks in an open transaction are not applied yet
    acks.commit();
    await waitFor('the committed acks', () => q().dequeued === 2);
    expect(q().inflight).toBe(1);
    got[0]!.ack();
    await waitFor('the last ack', () => q().dequeued === 3);
    expect(got.map((m) => m.body)).toEqual(['outside', 'in tx a', 'in tx b']); // 'never' never came
    expect(s.errors).toEqual([]);
  });

  it('deactivates gracefully: DISCONNECT is receipted and the WebSocket closes in a round trip, not on a timer', async () => {
    const s = await stompJs(running!.wsPort!);
    await publishWithReceipt(s.client, 'before', '/queue/interop.bye', 'last words');
    await within<void>('stompjs to deactivate', (resolve) => { void s.client.deactivate().then(resolve); }, 1_500);
    expect(s.closes).toEqual([1000]);
    await waitFor('the broker to drop the connection', () => running!.server.connectionCount === 0, 1_500);
    expect(running!.broker.stats().find((q) => q.destination === '/queue/interop.bye')?.pending).toBe(1);
  });

  it('reports an ERROR for a bad frame through onStompError, and the broker closes only that client', async () => {
    const bad = await stompJs(running!.wsPort!);
    const good = await stompJs(running!.wsPort!);
    bad.client.ack('no-such-ack-id', 'no-such-sub');
    const error = await waitFor('onStompError', () => bad.errors[0]);
    expect(error.headers.message).toBe('ACK for unknown ack id "no-such-ack-id" (never delivered, or already acked)');
    await waitFor('the bad client to be closed', () => bad.closes.length === 1);
    await publishWithReceipt(good.client, 'ok', '/queue/interop.fine', 'fine');
    expect(good.errors).toEqual([]);
  });
});

describe('stompit over TCP', () => {
  beforeEach(async () => {
    running = await startBroker({ store: new MemoryStore(), stompPort: 0, wsPort: 0, host: '127.0.0.1' });
  });

  it('connects, sends with a receipt, subscribes with client-individual acks, acks and disconnects gracefully', async () => {
    const client = await stompitConnect(running!.stompPort!);
    expect(running!.server.connectionCount).toBe(1);
    await stompitSend(client, { destination: '/queue/interop.stompit', 'content-type': 'text/plain', 'x-from': 'stompit', 'x-colon': 'a:b' }, 'first');
    await stompitSend(client, { destination: '/queue/interop.stompit', 'x-from': 'stompit' }, 'second');

    const got: Array<{ message: StompitMessage; body: string }> = [];
    client.subscribe({ destination: '/queue/interop.stompit', id: 'st', ack: 'client-individual' }, (err, message) => {
      if (err) return;
      void readBody(message).then((body) => got.push({ message, body }));
    });
    await waitFor('two messages', () => got.length === 2);
    expect(got.map((g) => g.body)).toEqual(['first', 'second']);
    expect(got[0]!.message.headers).toEqual({
      ...brokerHeaders('/queue/interop.stompit', 'st', false),
      // stompit hands content-length over as a number.
      ack: expect.any(String), 'content-type': 'text/plain', 'x-from': 'stompit', 'x-colon': 'a:b', 'content-length': 5,
    });
    const stats = (): { dequeued: number; inflight: number } => running!.broker.stats().find((q) => q.destination === '/queue/interop.stompit')!;
    expect(stats()).toMatchObject({ inflight: 2, dequeued: 0 });
    // Ack the second only (client-individual), with a receipt, then the first.
    await within<void>('ACK receipt', (resolve) => client.ack(got[1]!.message, {}, { onReceipt: () => resolve() }));
    expect(stats()).toMatchObject({ inflight: 1, dequeued: 1 });
    await within<void>('ACK receipt', (resolve) => client.ack(got[0]!.message, {}, { onReceipt: () => resolve() }));
    expect(stats()).toMatchObject({ inflight: 0, dequeued: 2 });

    await within<void>('stompit to disconnect', (resolve, reject) => client.disconnect((err) => (err ? reject(err) : resolve())));
    await waitFor('the broker to drop the connection', () => running!.server.connectionCount === 0);
  });

  it('puts an unacked message back for the next consumer when stompit disconnects without acking', async () => {
    const first = await stompitConnect(running!.stompPort!);
    await stompitSend(first, { destination: '/queue/interop.unacked' }, 'keep me');
    const seen: string[] = [];
    first.subscribe({ destination: '/queue/interop.unacked', id: 'a', ack: 'client-individual' }, (err, message) => {
      if (!err) void readBody(message).then((b) => seen.push(b));
    });
    await waitFor('the first delivery', () => seen.length === 1);
    await within<void>('stompit to disconnect', (resolve, reject) => first.disconnect((err) => (err ? reject(err) : resolve())));

    const second = await stompitConnect(running!.stompPort!);
    const again: StompitMessage[] = [];
    second.subscribe({ destination: '/queue/interop.unacked', id: 'b', ack: 'client-individual' }, (err, message) => { if (!err) again.push(message); });
    const m = await waitFor('the redelivery', () => again[0]);
    expect(await readBody(m)).toBe('keep me');
    expect(m.headers.redelivered).toBe('true');
  });
});

describe('a persistent message crosses between stompit and stompjs through a broker restart', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mini-amq-interop-'));
    dirs.push(dataDir);
  });
  const start = async (): Promise<RunningBroker> =>
    startBroker({ dataDir, stompPort: 0, wsPort: 0, host: '127.0.0.1', syncWrites: false });

  it('stompit sends over TCP, the broker restarts, stompjs receives it over WebSocket', async () => {
    running = await start();
    const producer = await stompitConnect(running.stompPort!);
    await stompitSend(producer, { destination: '/queue/interop.durable', persistent: 'true', 'content-type': 'text/plain;charset=utf-8', 'x-id': 'st-1' }, 'größer als 1 €');
    await within<void>('stompit to disconnect', (resolve) => producer.disconnect(() => resolve()));
    stompitClients.length = 0;
    await running.close();

    running = await start();
    const s = await stompJs(running.wsPort!);
    const got: IMessage[] = [];
    s.client.subscribe('/queue/interop.durable', (m) => { got.push(m); m.ack(); }, { id: 'd', ack: 'client-individual' });
    const m = await waitFor('the persisted message', () => got[0]);
    expect(m.body).toBe('größer als 1 €');
    expect(m.headers).toEqual({
      ...brokerHeaders('/queue/interop.durable', 'd', true),
      ack: expect.any(String), 'content-type': 'text/plain;charset=utf-8', 'x-id': 'st-1',
      'content-length': String(Buffer.byteLength('größer als 1 €')),
    });
    await waitFor('the ack', () => running!.broker.stats().find((q) => q.destination === '/queue/interop.durable')?.dequeued === 1);
    await s.client.deactivate();
  });

  it('stompjs sends over WebSocket, the broker restarts, stompit receives it over TCP', async () => {
    running = await start();
    const s = await stompJs(running.wsPort!);
    await publishWithReceipt(s.client, 'p-1', '/queue/interop.durable2', 'from the browser', { persistent: 'true', 'x-id': 'js-1', 'content-type': 'text/plain' });
    await s.client.deactivate();
    await running.close();

    running = await start();
    const consumer = await stompitConnect(running.stompPort!);
    const got: StompitMessage[] = [];
    consumer.subscribe({ destination: '/queue/interop.durable2', id: 'd2', ack: 'client-individual' }, (err, message) => { if (!err) got.push(message); });
    const m = await waitFor('the persisted message', () => got[0]);
    expect(await readBody(m)).toBe('from the browser');
    expect(m.headers).toEqual({
      ...brokerHeaders('/queue/interop.durable2', 'd2', true),
      ack: expect.any(String), 'x-id': 'js-1', 'content-type': 'text/plain', 'content-length': 16,
    });
    await within<void>('ACK receipt', (resolve) => consumer.ack(m, {}, { onReceipt: () => resolve() }));
    expect(running.broker.stats().find((q) => q.destination === '/queue/interop.durable2')).toMatchObject({ dequeued: 1, pending: 0, inflight: 0 });
  });
});
