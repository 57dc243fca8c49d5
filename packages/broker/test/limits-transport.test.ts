// Goal: the transports keep the broker's memory bounded and its resources owned: a consumer that stops
// reading gets no more than about TRANSPORT_WRITE_BUFFER_BYTES_MAX queued towards it (the rest waits in
// its queue) and receives everything once it reads again, over TCP and WebSocket; hundreds of
// simultaneous connections work and maximumConnections refuses the one too many with an ERROR; a socket
// that never sends CONNECT is closed; and close() does not wait on a peer that never reads.
// Method: raw sockets (node:net, ws) where a client must misbehave, StompClient where it must not; the
// broker's own figures (queue stats, StompServer.connectionsInfo) to see what it holds.
import net from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { encodeFrame, frame, FrameDecoder, header, StompClient, type Frame, type Message } from '@mini-amq/stomp';
import { MemoryStore } from '@mini-amq/store';
import { Broker } from '../src/broker.js';
import { compileSelector } from '../src/selector.js';
import { CLOSE_FLUSH_MS, StompServer, type ServerSettings } from '../src/server.js';
import { startBroker, type RunningBroker } from '../src/start.js';
import { waitForValue } from './test-helpers.js';
import { TRANSPORT_WRITE_BUFFER_BYTES_MAX } from '../src/transport.js';

const WAIT_MS = 10_000;

const waitFor = <T>(what: string, probe: () => T | undefined | false, timeoutMs = WAIT_MS): Promise<T> => waitForValue(what, probe, timeoutMs);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let running: RunningBroker | null = null;
const clients: StompClient[] = [];
const sockets: Array<{ destroy(): void }> = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.destroy();
  await running?.close();
  running = null;
  for (const c of cleanups.splice(0)) await c();
});

const queueStats = (destination: string) => {
  const s = running!.broker.stats().find((q) => q.destination === destination);
  if (s === undefined) throw new Error(`no destination ${destination}`);
  return s;
};

async function tcpClient(port = running!.stompPort!): Promise<StompClient> {
  const c = await StompClient.connect({ host: '127.0.0.1', port });
  clients.push(c);
  return c;
}

/** A hand-driven peer over a raw TCP socket or WebSocket: we decide when it reads. */
interface RawPeer {
  readonly frames: Frame[];
  closed: boolean;
  send(f: Frame): void;
  pause(): void;
  resume(): void;
}

function decodeInto(decoder: FrameDecoder, frames: Frame[], chunk: Buffer): void {
  decoder.push(chunk);
  for (let item = decoder.next(); item !== null; item = decoder.next()) {
    if (item.command === null) continue;
    if (item.command === 'CONNECTED') decoder.version = '1.2';
    frames.push(item);
  }
}

async function rawTcp(port: number): Promise<RawPeer> {
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  const decoder = new FrameDecoder();
  const peer: RawPeer = {
    frames: [], closed: false,
    send: (f) => { socket.write(encodeFrame(f, f.command === 'CONNECT' ? '1.0' : '1.2')); },
    pause: () => { socket.pause(); },
    resume: () => { socket.resume(); },
  };
  socket.on('data', (chunk: Buffer) => decodeInto(decoder, peer.frames, chunk));
  socket.on('close', () => { peer.closed = true; });
  socket.on('error', () => {});
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  return peer;
}

async function rawWs(port: number): Promise<RawPeer> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['v12.stomp'], { perMessageDeflate: false });
  sockets.push({ destroy: () => ws.terminate() });
  const decoder = new FrameDecoder();
  const peer: RawPeer = {
    frames: [], closed: false,
    send: (f) => { ws.send(encodeFrame(f, f.command === 'CONNECT' ? '1.0' : '1.2')); },
    pause: () => { ws.pause(); },
    resume: () => { ws.resume(); },
  };
  ws.on('message', (data) => decodeInto(decoder, peer.frames, data as Buffer));
  ws.on('close', () => { peer.closed = true; });
  ws.on('error', () => {});
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return peer;
}

async function subscribeRaw(peer: RawPeer, destination: string): Promise<void> {
  peer.send(frame('CONNECT', { 'accept-version': '1.2', host: 'localhost' }));
  peer.send(frame('SUBSCRIBE', { destination, id: 'slow', ack: 'auto', receipt: 'subscribed' }));
  await waitFor('the SUBSCRIBE receipt', () => peer.frames.some((f) => f.command === 'RECEIPT'));
}

describe('a consumer that stops reading', () => {
  const COUNT = 20_000;
  const BODY = Buffer.alloc(1024, 'm');

  async function slowReader(kind: 'tcp' | 'ws'): Promise<void> {
    running = await startBroker({ store: new MemoryStore(), stompPort: 0, wsPort: 0, host: '127.0.0.1' });
    const destination = `/queue/slow.${kind}`;
    const reader = kind === 'tcp' ? await rawTcp(running.stompPort!) : await rawWs(running.wsPort!);
    await subscribeRaw(reader, destination);
    reader.pause();
    const readerInfo = () => running!.server.connectionsInfo().find((c) => c.kind === kind)!;

    const producer = await tcpClient();
    for (let i = 0; i < COUNT; i++) {
      if (!producer.send(destination, BODY, { n: i })) await producer.waitDrain();
    }
    await producer.sendWithReceipt(destination, 'last', { n: COUNT });
    expect(queueStats(destination).enqueued).toBe(COUNT + 1);

    // The broker fills the reader's socket, then stops and keeps the rest in the queue.
    await waitFor('the broker to stop writing to the reader', () => !readerInfo().writable);
    const stopped = queueStats(destination).dequeued;
    await sleep(200);
    const held = queueStats(destination);
    expect(held.dequeued).toBe(stopped); // nothing more dispatched while the reader does not read
    expect(held.pending + held.dequeued).toBe(COUNT + 1);
    expect(held.pending).toBeGreaterThan(0);
    expect(held.dequeued).toBeLessThan(COUNT);
    // What the broker holds towards the reader in user space: the limit plus at most the frame that crossed it.
    const info = readerInfo();
    expect(info.bufferedBytes).toBeGreaterThanOrEqual(TRANSPORT_WRITE_BUFFER_BYTES_MAX);
    expect(info.bufferedBytes).toBeLessThan(TRANSPORT_WRITE_BUFFER_BYTES_MAX + BODY.length + 512);
    // The queue still holds the rest, accounted for (about 1 KiB each).
    expect(held.memoryBytes).toBeGreaterThanOrEqual(held.pending * BODY.length);

    reader.resume();
    const messages = (): Frame[] => reader.frames.filter((f) => f.command === 'MESSAGE');
    await waitFor(`all ${COUNT + 1} messages at the reader`, () => reader.frames.length === COUNT + 3 && messages()); // + CONNECTED, RECEIPT
    expect(messages().map((f) => Number(header(f, 'n')))).toEqual(Array.from({ length: COUNT + 1 }, (_, i) => i));
    expect(messages().slice(0, COUNT).every((f) => f.body.equals(BODY))).toBe(true);
    expect(messages()[COUNT]!.body.toString()).toBe('last');
    expect(queueStats(destination)).toMatchObject({ pending: 0, inflight: 0, dequeued: COUNT + 1 });
    expect(readerInfo().bufferedBytes).toBe(0);
    expect(reader.closed).toBe(false);
  }

  it('over TCP: the broker stops dispatching at about 1 MiB queued to it, and delivers everything once it reads again', async () => {
    await slowReader('tcp');
  });

  it('over WebSocket: the same bound and the same complete delivery', async () => {
    await slowReader('ws');
  });

  it('does not hold up other consumers of the same queue', async () => {
    running = await startBroker({ store: new MemoryStore(), stompPort: 0, wsPort: 0, host: '127.0.0.1' });
    const destination = '/queue/slow.shared';
    const reader = await rawTcp(running.stompPort!);
    await subscribeRaw(reader, destination);
    reader.pause();
    const fast = await tcpClient();
    let fastGot = 0;
    await fast.subscribe(destination, () => { fastGot++; }, { receipt: true }).ready;
    const producer = await tcpClient();
    for (let i = 0; i < COUNT; i++) {
      if (!producer.send(destination, BODY)) await producer.waitDrain();
    }
    await producer.sendWithReceipt(destination, 'last');
    // Everything the stalled reader could not take went to the one that reads.
    await waitFor('every message delivered to one consumer or the other', () => queueStats(destination).pending === 0);
    expect(queueStats(destination).dequeued).toBe(COUNT + 1);
    expect(fastGot).toBeGreaterThan(COUNT / 2);
  });

  it('does not keep close() waiting: the broker stops within its flush time even though the reader never reads', async () => {
    running = await startBroker({ store: new MemoryStore(), stompPort: 0, wsPort: 0, host: '127.0.0.1' });
    const reader = await rawTcp(running.stompPort!);
    await subscribeRaw(reader, '/queue/slow.close');
    reader.pause();
    const producer = await tcpClient();
    for (let i = 0; i < 8_000; i++) if (!producer.send('/queue/slow.close', BODY)) await producer.waitDrain();
    await producer.sendWithReceipt('/queue/slow.close', 'last');
    await waitFor('the reader to be stalled', () => running!.server.connectionsInfo().some((c) => !c.writable));
    const started = Date.now();
    await running.close();
    const took = Date.now() - started;
    running = null;
    expect(took).toBeGreaterThanOrEqual(CLOSE_FLUSH_MS - 100); // it did give the reader its chance
    expect(took).toBeLessThan(CLOSE_FLUSH_MS + 1_500); // and then let go (the connection's own timer is 5 s)
    reader.resume();
    await waitFor('the reader to see the close', () => reader.closed, 2_000);
  });
});

describe('many connections', () => {
  const N = 200;

  it(`serves ${N} simultaneous TCP connections and fans a topic out to all of them`, async () => {
    running = await startBroker({ store: new MemoryStore(), stompPort: 0, wsPort: 0, host: '127.0.0.1' });
    const received = new Array<Message[]>(N);
    const many = await Promise.all(Array.from({ length: N }, async (_, i) => {
      const c = await tcpClient();
      received[i] = [];
      await c.subscribe('/topic/everyone', (m) => received[i]!.push(m), { receipt: true }).ready;
      return c;
    }));
    expect(running.server.connectionCount).toBe(N);
    const publisher = await tcpClient();
    await publisher.sendWithReceipt('/topic/everyone', 'hello all', { 'x-seq': 1 });
    await waitFor('every subscriber to get the publish', () => received.every((r) => r.length === 1));
    expect(received.every((r) => r[0]!.text === 'hello all' && r[0]!.headers['x-seq'] === '1')).toBe(true);
    // And each of them can still talk: a send from every connection lands on a queue.
    await Promise.all(many.map((c, i) => c.sendWithReceipt('/queue/from.everyone', String(i))));
    expect(queueStats('/queue/from.everyone').enqueued).toBe(N);
    await Promise.all(many.map((c) => c.disconnect()));
    await waitFor('the broker to drop them all', () => running!.server.connectionCount === 1);
  });

  it('refuses the connection past maximumConnections with an ERROR that says so, and keeps the others', async () => {
    running = await startBroker({ store: new MemoryStore(), stompPort: 0, wsPort: 0, host: '127.0.0.1', maximumConnections: N });
    const many = await Promise.all(Array.from({ length: N }, () => tcpClient()));
    expect(running.server.connectionCount).toBe(N);
    let refusal: unknown;
    try { await StompClient.connect({ host: '127.0.0.1', port: running.stompPort! }, { connectTimeoutMs: 3_000 }); } catch (err) { refusal = err; }
    expect((refusal as { code?: string }).code).toBe('STOMP_SERVER_ERROR');
    expect((refusal as Error).message).toBe(`maximumConnections (${N}) reached on the STOMP connector`);
    // The WebSocket connector counts its own connections.
    const ws = await StompClient.connect({ scheme: 'ws', host: '127.0.0.1', port: running.wsPort!, path: '/' });
    clients.push(ws);
    await ws.sendWithReceipt('/queue/limit', 'via ws');
    // The 200 are unharmed; when one leaves, a newcomer gets its place.
    await Promise.all(many.map((c) => c.sendWithReceipt('/queue/limit', 'still here')));
    await many[0]!.disconnect();
    await waitFor('a free place', () => running!.server.connectionCount === N); // N - 1 TCP + 1 WS
    const newcomer = await tcpClient();
    await newcomer.sendWithReceipt('/queue/limit', 'newcomer');
    expect(queueStats('/queue/limit').enqueued).toBe(N + 2);
    // The refused socket was let go at once, not held until a timer: nothing keeps close() waiting.
    for (const c of clients.splice(0)) c.close();
    await waitFor('every connection gone', () => running!.server.connectionCount === 0);
    const started = Date.now();
    await running.close();
    running = null;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('a socket that never sends CONNECT', () => {
  /** A server with a short connect timeout (startBroker does not expose it; StompServer does). */
  async function startServer(connectTimeoutMs: number): Promise<StompServer> {
    const log = pino({ level: 'silent' });
    const store = new MemoryStore();
    const broker = new Broker(
      { brokerName: 'localhost', maximumRedeliveries: 6, deadLetterQueue: 'ActiveMQ.DLQ', destinationMemoryLimit: 64 * 1024 * 1024 },
      store, log, (selector, lookup) => selector.matches(lookup),
    );
    broker.compileStoredSelector = (text) => (text === '' ? null : compileSelector(text));
    await broker.recover();
    const settings: ServerSettings = {
      host: '127.0.0.1', stompPort: 0, wsPort: 0, maximumConnections: 1000, users: [], maxFrameSize: 1024 * 1024,
      defaultPrefetch: 1000, connectTimeoutMs,
    };
    const server = new StompServer(broker, settings, log);
    await server.listen();
    cleanups.push(async () => { await server.close(); await store.close(); });
    return server;
  }

  it('is sent an ERROR and closed once the connect timeout passes, over TCP and WebSocket', async () => {
    const server = await startServer(300);
    const silentTcp = await rawTcp(server.stompPort!);
    const silentWs = await rawWs(server.wsPort!);
    // One that sends half a CONNECT and stalls is no better.
    const halfway = await rawTcp(server.stompPort!);
    (sockets.at(-1) as net.Socket).write('CONNECT\naccept-version:1.2\n');
    await waitFor('three connections', () => server.connectionCount === 3);
    await sleep(150);
    expect(server.connectionCount).toBe(3); // not before the timeout
    for (const peer of [silentTcp, silentWs, halfway]) {
      await waitFor('the ERROR and the close', () => peer.closed, 2_000);
      expect(peer.frames.map((f) => [f.command, header(f, 'message')])).toEqual([['ERROR', 'no CONNECT frame within 300 ms']]);
    }
    await waitFor('the broker to drop them', () => server.connectionCount === 0, 1_000);
  });

  it('leaves a client that did connect alone after the timeout', async () => {
    const server = await startServer(100);
    const client = await tcpClient(server.stompPort!);
    const ws = await StompClient.connect({ scheme: 'ws', host: '127.0.0.1', port: server.wsPort!, path: '/' });
    clients.push(ws);
    await sleep(300);
    expect(client.isOpen && ws.isOpen).toBe(true);
    await client.sendWithReceipt('/queue/connected', 'fine');
    await ws.sendWithReceipt('/queue/connected', 'fine too');
    expect(server.connectionCount).toBe(2);
  });
});
