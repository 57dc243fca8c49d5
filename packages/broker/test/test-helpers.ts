/**
 * Shared fixtures of the broker protocol tests: a broker on a free port with a MemoryStore (or a
 * LevelStore in a temporary directory), StompClients that close themselves after each test, a raw
 * socket speaking exact STOMP bytes, and bounded waits on conditions instead of fixed sleeps.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import {
  encodeFrame, frame, FrameDecoder, header, StompClient, StompError,
  type ConnectOptions, type Frame, type Message, type StompVersion, type SubscribeOptions,
} from '@mini-amq/stomp';
import { MemoryStore } from '@mini-amq/store';
import { startBroker, type BrokerOptions, type RunningBroker } from '../src/index.js';

/** How long a condition may take before a wait fails the test; generous for a loaded CI machine. */
export const WAIT_MS = 5_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try { await c(); } catch { /* a cleanup must not hide the test's own failure */ }
  }
});

/** Runs `fn` after the current test, last registered first. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every few ms until it is true; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Polls `probe` until it gives a value (not undefined or false) and returns it; bounded like waitFor. */
export async function waitForValue<T>(what: string, probe: () => T | undefined | false, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export interface TestBroker extends RunningBroker {
  readonly url: string;
  /** Connects a StompClient that is closed after the test. */
  connect(options?: ConnectOptions): Promise<StompClient>;
  /** Opens a raw socket that is destroyed after the test. */
  raw(): Promise<RawStomp>;
  /** The stats row of one destination (zeros when it does not exist). */
  stats(destination: string): { pending: number; inflight: number; consumers: number; enqueued: number; dequeued: number; memoryBytes: number };
}

/** A broker on a free loopback port, STOMP over TCP only, MemoryStore unless `dataDir` or `store` says otherwise. */
export async function startTestBroker(options: BrokerOptions = {}): Promise<TestBroker> {
  const store = options.store ?? (options.dataDir === undefined ? new MemoryStore() : undefined);
  const running = await startBroker({ stompPort: 0, wsPort: null, host: '127.0.0.1', ...options, store });
  onCleanup(() => running.close());
  const url = `tcp://127.0.0.1:${running.stompPort}`;
  return {
    ...running,
    url,
    connect: (o: ConnectOptions = {}) => connectClient(url, o),
    raw: () => RawStomp.open(running.stompPort!),
    stats: (destination: string) => {
      const row = running.broker.stats().find((s) => s.destination === destination);
      return row ?? { pending: 0, inflight: 0, consumers: 0, enqueued: 0, dequeued: 0, memoryBytes: 0 };
    },
  };
}

/** A LevelStore directory removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mini-amq-broker-test-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function connectClient(url: string, options: ConnectOptions = {}): Promise<StompClient> {
  const client = await StompClient.connect(url, { acceptVersion: '1.2', ...options });
  client.on('error', () => {}); // kept in lastError; tests look there
  onCleanup(() => client.close());
  return client;
}

/** The rejection `p` ends with (fails the test when it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<StompError> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof StompError)) throw err;
    return err;
  }
  throw new Error('expected a rejection');
}

/** Messages received on one subscription, with a wait for a count. */
export class Inbox {
  readonly messages: Message[] = [];
  /** Called for each message as it arrives (to ack, reply...). */
  onMessage: (m: Message) => void = () => {};
  readonly handler = (m: Message): void => { this.messages.push(m); this.onMessage(m); };

  get texts(): string[] { return this.messages.map((m) => m.text); }

  async count(n: number, timeoutMs = WAIT_MS): Promise<Message[]> {
    await waitFor(() => this.messages.length >= n, `${n} messages (have ${this.messages.length})`, timeoutMs);
    return this.messages.slice(0, n);
  }
}

/** Subscribes with a receipt and returns an inbox; the subscription is in place when this resolves. */
export async function subscribe(client: StompClient, destination: string, options: SubscribeOptions = {}): Promise<Inbox> {
  const inbox = new Inbox();
  const sub = client.subscribe(destination, inbox.handler, { ...options, receipt: true });
  await sub.ready;
  return inbox;
}

let barrierSeq = 0;
/**
 * A round trip on `client`'s connection: once it returns, every MESSAGE the broker wrote to this
 * connection before handling the barrier has been received. It begins and aborts a transaction, which
 * changes nothing.
 */
export async function barrier(client: StompClient): Promise<void> {
  const tx = `barrier-${++barrierSeq}`;
  await client.request(frame('BEGIN', { transaction: tx }));
  await client.request(frame('ABORT', { transaction: tx }));
}

/** Sends `n` messages with receipts; bodies are `${prefix}${i}` from 1. */
export async function sendMany(client: StompClient, destination: string, n: number, headers: Record<string, string | number | boolean> = {}, prefix = 'm'): Promise<void> {
  const all: Array<Promise<void>> = [];
  for (let i = 1; i <= n; i++) all.push(client.sendWithReceipt(destination, `${prefix}${i}`, headers));
  await Promise.all(all);
}

/**
 * A raw STOMP connection: frames are written exactly as given and every frame the broker sends is
 * decoded and kept, so tests can check the bytes a real client would see.
 */
export class RawStomp {
  readonly frames: Frame[] = [];
  /** EOL heart-beats received. */
  heartBeats = 0;
  /** When the broker closed the socket (or it failed). */
  readonly closed: Promise<void>;
  isClosed = false;
  version: StompVersion = '1.0';
  private readonly decoder = new FrameDecoder();
  private readonly taken = new Set<number>();
  decodeError: Error | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => { this.isClosed = true; resolve(); }));
  }

  static async open(port: number): Promise<RawStomp> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const raw = new RawStomp(socket);
    onCleanup(() => { socket.destroy(); });
    return raw;
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      let item;
      try {
        item = this.decoder.next();
      } catch (err) {
        this.decodeError = err as Error;
        return;
      }
      if (item === null) return;
      if (item.command === null) { this.heartBeats++; continue; }
      this.frames.push(item);
      if (item.command === 'CONNECTED') {
        const v = header(item, 'version');
        this.version = v === '1.1' || v === '1.2' ? v : '1.0';
        this.decoder.version = this.version;
      }
    }
  }

  /** Writes a frame encoded for the negotiated version, or raw bytes / a string as they are. */
  write(f: Frame | Buffer | string): void {
    if (typeof f === 'string') this.socket.write(Buffer.from(f, 'latin1'));
    else if (Buffer.isBuffer(f)) this.socket.write(f);
    else this.socket.write(encodeFrame(f, this.version));
  }

  /** Sends CONNECT with these headers and returns the answer (CONNECTED or ERROR). */
  async connect(headers: Record<string, string> = { 'accept-version': '1.2', host: 'localhost' }, command = 'CONNECT'): Promise<Frame> {
    this.write(frame(command, headers));
    return this.next();
  }

  /**
   * The first frame not yet returned (or the first such that matches), waiting for it. Frames skipped
   * by `match` stay available to later calls.
   */
  async next(match: (f: Frame) => boolean = () => true, timeoutMs = WAIT_MS): Promise<Frame> {
    let found: Frame | undefined;
    await waitFor(() => {
      const i = this.frames.findIndex((f, j) => !this.taken.has(j) && match(f));
      if (i === -1) return false;
      this.taken.add(i);
      found = this.frames[i];
      return true;
    }, 'a frame from the broker', timeoutMs);
    return found!;
  }

  /** The next ERROR, then the close that must follow it; returns the ERROR. */
  async error(timeoutMs = WAIT_MS): Promise<Frame> {
    const f = await this.next((x) => x.command === 'ERROR', timeoutMs);
    await this.waitClosed(timeoutMs);
    return f;
  }

  async waitClosed(timeoutMs = WAIT_MS): Promise<void> {
    await waitFor(() => this.isClosed, 'the broker to close the socket', timeoutMs);
  }
}

/** The headers of a frame as a record, first occurrence winning. */
export function headersOf(f: Frame): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of f.headers) if (!(k in out)) out[k] = v;
  return out;
}

/** The MESSAGE frame's `message` header of an ERROR. */
export const messageOf = (f: Frame): string => header(f, 'message') ?? '';

export { frame, header };
