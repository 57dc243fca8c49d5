// Goal: STOMP over a real WebSocket works the way browser STOMP libraries expect it to: the server picks
// a STOMP sub-protocol, answers text with text and binary with binary, treats the WebSocket as a byte
// stream (a frame may span messages, a message may hold several frames), shares destinations with TCP
// clients, enforces maxFrameSize per connection, and answers a plain HTTP request instead of hanging.
// Method: the `ws` package as a bare WebSocket client speaking hand-written frames, against startBroker
// with a MemoryStore; StompClient over TCP on the other side where TCP is involved.
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { encodeFrame, frame, FrameDecoder, header, StompClient, type Frame, type Message } from '@mini-amq/stomp';
import { MemoryStore } from '@mini-amq/store';
import { startBroker, type RunningBroker } from '../src/start.js';
import { waitForValue } from './test-helpers.js';

const WAIT_MS = 5_000;

/** Polls `probe` until it returns something other than undefined/false; fails naming `what` after `timeoutMs`. */
const waitFor = <T>(what: string, probe: () => T | undefined | false, timeoutMs = WAIT_MS): Promise<T> => waitForValue(what, probe, timeoutMs);

interface Received { readonly frame: Frame; readonly binary: boolean }

/** A bare WebSocket STOMP peer: records every frame it receives and the kind of WS message it came in. */
class WsPeer {
  readonly received: Received[] = [];
  /** Kind of every WS message received, in order (a heart-beat EOL counts too). */
  readonly messageKinds: boolean[] = [];
  closeCode: number | null = null;
  decodeError: Error | null = null;
  private readonly decoder = new FrameDecoder();
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.messageKinds.push(isBinary);
      this.decoder.push(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
      for (;;) {
        let item;
        try { item = this.decoder.next(); } catch (err) { this.decodeError = err as Error; return; }
        if (item === null) return;
        if (item.command === null) continue;
        if (item.command === 'CONNECTED') this.decoder.version = (header(item, 'version') ?? '1.0') as '1.0' | '1.1' | '1.2';
        this.received.push({ frame: item, binary: isBinary });
      }
    });
    ws.on('close', (code) => { this.closeCode = code; });
    ws.on('error', () => {});
  }

  static open(url: string, protocols: string[] = ['v12.stomp']): Promise<WsPeer> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
      const peer = new WsPeer(ws);
      ws.once('open', () => resolve(peer));
      ws.once('error', reject);
    });
  }

  sendBytes(bytes: Buffer, binary: boolean): void {
    // ws sends a Buffer as a text message when binary is false (no UTF-8 check on our side).
    this.ws.send(bytes, { binary });
  }

  sendFrame(f: Frame, binary = false): void {
    this.sendBytes(encodeFrame(f, f.command === 'CONNECT' ? '1.0' : '1.2'), binary);
  }

  /** Waits for the first received frame (at or after index `from`) matching `match`. */
  async next(match: (r: Received) => boolean, what: string, from = 0): Promise<Received> {
    return waitFor(what, () => this.received.slice(from).find(match));
  }

  async connect(binary = false): Promise<Frame> {
    this.sendFrame(frame('CONNECT', { 'accept-version': '1.2', host: 'localhost' }), binary);
    return (await this.next((r) => r.frame.command === 'CONNECTED' || r.frame.command === 'ERROR', 'CONNECTED')).frame;
  }

  async receipt(id: string): Promise<Received> {
    return this.next((r) => r.frame.command === 'RECEIPT' && header(r.frame, 'receipt-id') === id, `RECEIPT ${id}`);
  }

  messages(): Received[] { return this.received.filter((r) => r.frame.command === 'MESSAGE'); }

  closed(): Promise<number> { return waitFor('the WebSocket to close', () => this.closeCode ?? undefined); }

  close(): void { this.ws.terminate(); }
}

let running: RunningBroker;
const peers: WsPeer[] = [];
const clients: StompClient[] = [];

async function peer(protocols?: string[]): Promise<WsPeer> {
  const p = await WsPeer.open(`ws://127.0.0.1:${running.wsPort}/`, protocols);
  peers.push(p);
  return p;
}

async function tcpClient(): Promise<StompClient> {
  const c = await StompClient.connect({ host: '127.0.0.1', port: running.stompPort! });
  clients.push(c);
  return c;
}

async function start(options: { maxFrameSize?: number } = {}): Promise<void> {
  running = await startBroker({ store: new MemoryStore(), stompPort: 0, wsPort: 0, host: '127.0.0.1', ...options });
}

beforeEach(async () => { await start(); });
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  for (const c of clients.splice(0)) c.close();
  await running.close();
});

const send = (destination: string, body: string, headers: Record<string, string> = {}): Frame =>
  frame('SEND', { destination, 'content-type': 'text/plain', ...headers, 'content-length': Buffer.byteLength(body) }, body);

describe('STOMP over WebSocket: handshake', () => {
  it('selects v12.stomp when offered and answers CONNECT with CONNECTED 1.2', async () => {
    const p = await peer(['v12.stomp']);
    expect(p.ws.protocol).toBe('v12.stomp');
    const connected = await p.connect();
    expect(connected.command).toBe('CONNECTED');
    expect(header(connected, 'version')).toBe('1.2');
    expect(header(connected, 'server')).toBe('mini-amq/0.1.0');
    expect(header(connected, 'heart-beat')).toBe('0,0');
  });

  it('picks the newest STOMP sub-protocol it knows whatever order the client offers them in', async () => {
    const p = await peer(['chat', 'v10.stomp', 'v11.stomp', 'v12.stomp']);
    expect(p.ws.protocol).toBe('v12.stomp');
    const q = await peer(['v11.stomp', 'soap']);
    expect(q.ws.protocol).toBe('v11.stomp');
  });

  it('serves a client that offers no sub-protocol at all (ActiveMQ does)', async () => {
    const p = await peer([]);
    expect(p.ws.protocol).toBe('');
    expect((await p.connect()).command).toBe('CONNECTED');
  });

  it('refuses the WebSocket connection past maximumConnections with an ERROR frame and a clean close', async () => {
    await running.close();
    running = await startBroker({ store: new MemoryStore(), stompPort: 0, wsPort: 0, host: '127.0.0.1', maximumConnections: 2 });
    const first = await peer();
    const second = await peer();
    const third = await peer();
    const error = await third.next((r) => r.frame.command === 'ERROR', 'the refusal');
    expect(header(error.frame, 'message')).toBe('maximumConnections (2) reached on the WebSocket connector');
    expect(await third.closed()).toBe(1000);
    expect((await first.connect()).command).toBe('CONNECTED');
    expect((await second.connect()).command).toBe('CONNECTED');
    expect(running.server.connectionCount).toBe(2);
  });

  it('answers a plain HTTP GET on the WebSocket port with 426 Upgrade Required, not silence', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: running.wsPort!, path: '/', timeout: 2_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { body += chunk; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('timeout', () => req.destroy(new Error('no HTTP answer within 2 s')));
      req.on('error', reject);
    });
    expect(answer.status).toBe(426);
    expect(answer.body).toBe('This port speaks STOMP over WebSocket.\n');
    // The broker still serves WebSocket clients afterwards.
    expect((await (await peer()).connect()).command).toBe('CONNECTED');
  });
});

describe('STOMP over WebSocket: closing', () => {
  it('receipts DISCONNECT and completes the closing handshake at once (code 1000)', async () => {
    const p = await peer();
    await p.connect();
    p.sendFrame(send('/queue/ws.bye', 'before disconnect'));
    p.sendFrame(frame('DISCONNECT', { receipt: 'bye' }));
    await p.receipt('bye');
    // The broker pauses reading after DISCONNECT; its Close frame must still get the client's answer read.
    expect(await waitFor('the WebSocket to close', () => p.closeCode ?? undefined, 1_000)).toBe(1000);
    await waitFor('the broker to drop the connection', () => running.server.connectionCount === 0, 1_000);
    expect(running.broker.stats().find((s) => s.destination === '/queue/ws.bye')?.enqueued).toBe(1);
  });

  it('closes after an ERROR for a bad frame and ignores whatever the client sends after it', async () => {
    const p = await peer();
    await p.connect();
    p.sendBytes(Buffer.concat([
      encodeFrame(frame('BOGUS', {}), '1.2'),
      encodeFrame(send('/queue/ws.after-error', 'must not be routed'), '1.2'),
    ]), false);
    p.sendFrame(send('/queue/ws.after-error', 'nor this'));
    const error = await p.next((r) => r.frame.command === 'ERROR', 'ERROR');
    expect(header(error.frame, 'message')).toBe('unknown STOMP command "BOGUS"');
    expect(await waitFor('the WebSocket to close', () => p.closeCode ?? undefined, 1_000)).toBe(1000);
    await waitFor('the broker to drop the connection', () => running.server.connectionCount === 0, 1_000);
    expect(running.broker.stats().find((s) => s.destination === '/queue/ws.after-error')).toBeUndefined();
  });
});

describe('STOMP over WebSocket: frames and message kinds', () => {
  it('round-trips SEND and SUBSCRIBE, answering text messages with text messages', async () => {
    const p = await peer();
    await p.connect(false);
    p.sendFrame(frame('SUBSCRIBE', { destination: '/queue/ws.text', id: 's1', ack: 'auto', receipt: 'r-sub' }));
    expect((await p.receipt('r-sub')).binary).toBe(false);
    p.sendFrame(send('/queue/ws.text', 'héllo wörld', { 'x-custom': 'a:b\\c' }));
    const m = await p.next((r) => r.frame.command === 'MESSAGE', 'MESSAGE');
    expect(m.binary).toBe(false);
    expect(m.frame.body.toString('utf8')).toBe('héllo wörld');
    expect(header(m.frame, 'destination')).toBe('/queue/ws.text');
    expect(header(m.frame, 'subscription')).toBe('s1');
    expect(header(m.frame, 'x-custom')).toBe('a:b\\c');
    expect(header(m.frame, 'content-type')).toBe('text/plain');
    expect(header(m.frame, 'content-length')).toBe(String(Buffer.byteLength('héllo wörld')));
    expect(header(m.frame, 'message-id')).toMatch(/^ID:localhost-/);
    expect(p.messageKinds.every((binary) => !binary)).toBe(true);
  });

  it('answers binary messages with binary messages, and follows the kind the client last used', async () => {
    const p = await peer();
    expect((await p.connect(true)).command).toBe('CONNECTED');
    expect(p.received[0]!.binary).toBe(true);
    p.sendFrame(frame('SUBSCRIBE', { destination: '/queue/ws.bin', id: 's1', receipt: 'r-sub' }), true);
    expect((await p.receipt('r-sub')).binary).toBe(true);
    const body = Buffer.from([0, 1, 2, 0xff, 0xfe, 0]);
    p.sendFrame(frame('SEND', { destination: '/queue/ws.bin', 'content-length': body.length }, body), true);
    const m = await p.next((r) => r.frame.command === 'MESSAGE', 'binary MESSAGE');
    expect(m.binary).toBe(true);
    expect(m.frame.body).toEqual(body);

    // Switch to text: the next answers come as text.
    p.sendFrame(send('/queue/ws.bin', 'now text', { receipt: 'r-text' }), false);
    expect((await p.receipt('r-text')).binary).toBe(false);
    const m2 = await p.next((r) => r.frame.command === 'MESSAGE' && r.frame.body.toString() === 'now text', 'text MESSAGE');
    expect(m2.binary).toBe(false);
  });

  it('sends a body that is not valid UTF-8 as a binary message even to a client using text messages', async () => {
    // RFC 6455 §8.1: a text message must be UTF-8; a client receiving one that is not closes with 1007.
    const p = await peer();
    await p.connect(false);
    p.sendFrame(frame('SUBSCRIBE', { destination: '/queue/ws.mixed', id: 's1', receipt: 'r-sub' }));
    await p.receipt('r-sub');
    const tcp = await tcpClient();
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]);
    await tcp.sendWithReceipt('/queue/ws.mixed', bytes);
    await tcp.sendWithReceipt('/queue/ws.mixed', 'plain text after it');
    await waitFor('two MESSAGEs (or a close)', () => p.messages().length === 2 || p.closeCode !== null);
    expect(p.closeCode).toBeNull();
    const [binary, text] = p.messages();
    expect(binary!.frame.body).toEqual(bytes);
    expect(binary!.binary).toBe(true);
    expect(text!.frame.body.toString()).toBe('plain text after it');
    expect(text!.binary).toBe(false);
  });

  it('decodes a frame split across two WebSocket messages and two frames packed in one', async () => {
    const p = await peer();
    await p.connect();
    // SUBSCRIBE cut in the middle of a header line, then the rest.
    const sub = encodeFrame(frame('SUBSCRIBE', { destination: '/queue/ws.split', id: 's1', receipt: 'r-sub' }), '1.2');
    p.sendBytes(sub.subarray(0, 17), false);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(p.received.some((r) => r.frame.command === 'RECEIPT')).toBe(false); // nothing answered from half a frame
    p.sendBytes(sub.subarray(17), false);
    await p.receipt('r-sub');

    // Two SENDs (and a heart-beat EOL between them) in one message.
    p.sendBytes(Buffer.concat([
      encodeFrame(send('/queue/ws.split', 'first'), '1.2'), Buffer.from('\n'),
      encodeFrame(send('/queue/ws.split', 'second', { receipt: 'r-2' }), '1.2'),
    ]), false);
    await p.receipt('r-2');
    // A SEND whose body (with a NUL in it, so content-length matters) is cut across two messages.
    const third = encodeFrame(frame('SEND', { destination: '/queue/ws.split', 'content-length': 7 }, Buffer.from('thi\0rd!')), '1.2');
    p.sendBytes(third.subarray(0, third.length - 4), false);
    p.sendBytes(third.subarray(third.length - 4), false);

    await waitFor('three MESSAGEs', () => p.messages().length === 3);
    expect(p.messages().map((r) => r.frame.body.toString('latin1'))).toEqual(['first', 'second', 'thi\0rd!']);
    expect(p.received.some((r) => r.frame.command === 'ERROR')).toBe(false);
  });
});

describe('STOMP over WebSocket and TCP share destinations', () => {
  it('delivers a message sent over TCP to a WebSocket subscriber, and one sent over WebSocket to a TCP subscriber', async () => {
    const p = await peer();
    await p.connect();
    p.sendFrame(frame('SUBSCRIBE', { destination: '/queue/to.ws', id: 'ws-sub', receipt: 'r-sub' }));
    await p.receipt('r-sub');
    const tcp = await tcpClient();
    await tcp.sendWithReceipt('/queue/to.ws', 'from tcp', { 'x-origin': 'tcp', persistent: 'true' });
    const atWs = await p.next((r) => r.frame.command === 'MESSAGE', 'MESSAGE at the WebSocket peer');
    expect(atWs.frame.body.toString()).toBe('from tcp');
    expect(header(atWs.frame, 'x-origin')).toBe('tcp');
    expect(header(atWs.frame, 'persistent')).toBe('true');
    expect(header(atWs.frame, 'destination')).toBe('/queue/to.ws');

    const atTcp: Message[] = [];
    const sub = tcp.subscribe('/queue/to.tcp', (m) => atTcp.push(m), { receipt: true });
    await sub.ready;
    p.sendFrame(send('/queue/to.tcp', 'from ws', { 'x-origin': 'ws', receipt: 'r-send' }));
    await p.receipt('r-send');
    await waitFor('the MESSAGE at the TCP client', () => atTcp.length === 1);
    expect(atTcp[0]!.text).toBe('from ws');
    expect(atTcp[0]!.headers['x-origin']).toBe('ws');
    expect(atTcp[0]!.headers['content-type']).toBe('text/plain');
    expect(atTcp[0]!.destination).toBe('/queue/to.tcp');
  });

  it('delivers a topic publish to WebSocket and TCP subscribers alike', async () => {
    const p = await peer();
    await p.connect();
    p.sendFrame(frame('SUBSCRIBE', { destination: '/topic/mixed', id: 'ws-sub', receipt: 'r-sub' }));
    await p.receipt('r-sub');
    const tcp = await tcpClient();
    const atTcp: Message[] = [];
    await tcp.subscribe('/topic/mixed', (m) => atTcp.push(m), { receipt: true }).ready;
    p.sendFrame(send('/topic/mixed', 'fan out', { receipt: 'r-pub' }));
    await p.receipt('r-pub');
    await waitFor('both subscribers to get the publish', () => atTcp.length === 1 && p.messages().length === 1);
    expect(atTcp[0]!.text).toBe('fan out');
    expect(p.messages()[0]!.frame.body.toString()).toBe('fan out');
  });
});

describe('STOMP over WebSocket: frame size limits', () => {
  const LIMIT = 64 * 1024;
  beforeEach(async () => {
    await running.close();
    await start({ maxFrameSize: LIMIT });
  });

  it('closes a client whose single WebSocket message exceeds maxFrameSize, and only that client', async () => {
    const bystander = await peer();
    await bystander.connect();
    bystander.sendFrame(frame('SUBSCRIBE', { destination: '/queue/limits', id: 's1', receipt: 'r-sub' }));
    await bystander.receipt('r-sub');

    const big = await peer();
    await big.connect();
    await waitFor('two connections', () => running.server.connectionCount === 2);
    big.sendFrame(send('/queue/limits', 'x'.repeat(LIMIT + 1024)));
    // ws enforces maxPayload before the message is even assembled: close 1009 (message too big).
    expect(await big.closed()).toBe(1009);
    await waitFor('the broker to drop the oversize connection', () => running.server.connectionCount === 1);
    expect(big.messages()).toEqual([]);

    // Nothing of the oversize frame was delivered, and everyone else carries on.
    const tcp = await tcpClient();
    await tcp.sendWithReceipt('/queue/limits', 'small enough');
    const m = await bystander.next((r) => r.frame.command === 'MESSAGE', 'MESSAGE at the bystander');
    expect(m.frame.body.toString()).toBe('small enough');
    expect(bystander.messages()).toHaveLength(1);
    expect(bystander.closeCode).toBeNull();
  });

  it('sends an ERROR and closes when a frame spread over small WebSocket messages exceeds maxFrameSize', async () => {
    const bystander = await peer();
    await bystander.connect();
    const big = await peer();
    await big.connect();
    const oversize = encodeFrame(send('/queue/limits', 'y'.repeat(LIMIT * 2)), '1.2');
    const piece = 16 * 1024;
    for (let at = 0; at < oversize.length && big.closeCode === null; at += piece) big.sendBytes(oversize.subarray(at, at + piece), false);
    const error = await big.next((r) => r.frame.command === 'ERROR', 'ERROR for the oversize frame');
    expect(header(error.frame, 'message')).toMatch(/frame|size|bytes|exceed/i);
    await big.closed();
    await waitFor('the broker to drop the oversize connection', () => running.server.connectionCount === 1);

    bystander.sendFrame(send('/queue/limits.ok', 'fine', { receipt: 'r-ok' }));
    await bystander.receipt('r-ok');
    expect(bystander.closeCode).toBeNull();
    expect(running.broker.stats().find((s) => s.destination === '/queue/limits')?.enqueued ?? 0).toBe(0);
  });

  it('accepts a frame just under maxFrameSize', async () => {
    const p = await peer();
    await p.connect();
    p.sendFrame(frame('SUBSCRIBE', { destination: '/queue/limits.fit', id: 's1', receipt: 'r-sub' }));
    await p.receipt('r-sub');
    const body = 'z'.repeat(LIMIT - 512);
    p.sendFrame(send('/queue/limits.fit', body));
    const m = await p.next((r) => r.frame.command === 'MESSAGE', 'MESSAGE with the near-limit body');
    expect(m.frame.body.length).toBe(body.length);
  });
});
