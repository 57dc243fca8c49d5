/**
 * StompClient: STOMP 1.0–1.2 over TCP or WebSocket with receipts, acks, transactions and heart-beats.
 * The tests, the benchmarks, the CLI and the network bridges all use it, so it stays small and typed.
 *
 * Events (node:events):
 * - 'error' (error): an ERROR frame, a socket error, a heart-beat timeout or undecodable bytes from the
 *   broker. Emitted only while someone listens, so a client nobody watches never crashes the process;
 *   the error is kept in `lastError` either way.
 * - 'close' (lastError or null): once, when the connection is gone; `closed` resolves right after.
 * - 'drain': the write buffer is back under its limit after a write returned false.
 * - 'message' (Message): a MESSAGE that matched no subscription.
 * - 'frame' (Frame): every frame received after CONNECTED, before routing (tracing, tests).
 */
import { EventEmitter } from 'node:events';
import { FrameDecoder } from './decoder.js';
import { encodeFrame, HEART_BEAT_BYTES } from './encoder.js';
import { StompError } from './errors.js';
import { frame, header, type Frame, type HeaderList, type StompVersion } from './frame.js';
import { HEART_BEAT_GRACE_FACTOR, negotiateHeartBeat, NO_HEART_BEAT, parseHeartBeat, type HeartBeatPlan } from './heartbeat.js';
import { RECEIPTS_PENDING_MAX } from './limits.js';
import { firstWins, Message, type MessageAcknowledger } from './message.js';
import {
  DISCONNECT_TIMEOUT_MS,
  resolveConnectOptions,
  SOCKET_CLOSE_GRACE_MS,
  toBrokerUri,
  type BrokerAddress,
  type ConnectOptions,
  type ResolvedConnectOptions,
} from './options.js';
import { openTransport, type ClientTransport } from './transport.js';
import { formatBrokerUri, type BrokerUri } from './uri.js';

/** Header values as callers give them; numbers and booleans are written with String(). */
export type HeaderValues = Record<string, string | number | boolean>;

export type AckMode = 'auto' | 'client' | 'client-individual';

export interface SubscribeOptions {
  /** Subscription id; generated when absent. */
  id?: string;
  ack?: AckMode;
  /** Extra SUBSCRIBE headers (selector, activemq.prefetchSize, ...). */
  headers?: Record<string, string>;
  /** Ask for a RECEIPT; `Subscription.ready` resolves when it arrives. */
  receipt?: boolean;
}

/** One subscription of one client. */
export interface Subscription {
  readonly id: string;
  readonly destination: string;
  /** Present when subscribed with `receipt: true`: resolves on the RECEIPT. */
  readonly ready?: Promise<void>;
  /** UNSUBSCRIBE with a receipt; resolves at once when the connection is already gone. */
  unsubscribe(): Promise<void>;
}

export type StompClientEvents = {
  error: [error: Error];
  close: [error: Error | null];
  drain: [];
  message: [message: Message];
  frame: [frame: Frame];
};

type State = 'connecting' | 'connected' | 'disconnecting' | 'closed';

interface Waiter<T> { resolve(value: T): void; reject(error: Error): void }
interface SubscriptionEntry { readonly destination: string; readonly onMessage: (message: Message) => void }

/** Headers the client sets itself on SEND and SUBSCRIBE; callers' values for them are ignored. */
const SEND_OWN_HEADERS = new Set(['destination', 'content-length']);
const SUBSCRIBE_OWN_HEADERS = new Set(['destination', 'id', 'ack']);

/** A STOMP connection to one broker; see the file comment for its events. */
export class StompClient extends EventEmitter<StompClientEvents> implements MessageAcknowledger {
  /** Resolves once the connection is gone (never rejects; see `lastError`). */
  readonly closed: Promise<void>;
  /** The broker as a URI, for messages. */
  readonly uri: string;

  private readonly target: BrokerUri;
  private readonly options: ResolvedConnectOptions;
  private readonly decoder: FrameDecoder;
  private transport!: ClientTransport;
  private state: State = 'connecting';
  /** Set when we gave up on the connection; frames still buffered are not processed. */
  private broken = false;
  private closedByUs = false;
  private resolveClosed!: () => void;
  private connectWaiter: Waiter<void> | null = null;
  private connectTimer: NodeJS.Timeout | undefined;

  private negotiated: StompVersion = '1.0';
  private connectedFrame: Frame | null = null;
  private lastErrorValue: Error | null = null;

  private readonly receipts = new Map<string, Waiter<Frame>>();
  private readonly subscriptions = new Map<string, SubscriptionEntry>();
  private drainWaiters: Array<Waiter<void>> = [];
  private receiptSeq = 0;
  private subscriptionSeq = 0;
  private transactionSeq = 0;

  private heartBeat: HeartBeatPlan = NO_HEART_BEAT;
  private sendTimer: NodeJS.Timeout | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  private wroteSinceBeat = false;
  private lastReadAt = 0;

  private constructor(target: BrokerUri, options: ConnectOptions) {
    super();
    this.target = target;
    this.uri = formatBrokerUri(target);
    this.options = resolveConnectOptions(options);
    this.decoder = new FrameDecoder(options.decoderLimits);
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
  }

  /**
   * Dials the broker, sends CONNECT and resolves on CONNECTED. Rejects with STOMP_SERVER_ERROR (the
   * ERROR frame's message) when the broker refuses, STOMP_CONNECT_FAILED otherwise (no connection,
   * timeout, an unexpected answer), STOMP_BAD_URI for a bad URI.
   */
  static async connect(address: BrokerAddress, options: ConnectOptions = {}): Promise<StompClient> {
    const client = new StompClient(toBrokerUri(address), options);
    await client.handshake();
    return client;
  }

  /** The negotiated protocol version. */
  get version(): StompVersion { return this.negotiated; }
  /** The CONNECTED frame's `server` header. */
  get server(): string | undefined { return this.connectedFrame === null ? undefined : header(this.connectedFrame, 'server'); }
  /** The CONNECTED frame's `session` header. */
  get session(): string | undefined { return this.connectedFrame === null ? undefined : header(this.connectedFrame, 'session'); }
  /** All CONNECTED headers (first occurrence wins). */
  get connectedHeaders(): Record<string, string> { return firstWins(this.connectedFrame?.headers ?? []); }
  /** The heart-beat intervals in force. */
  get heartBeats(): HeartBeatPlan { return this.heartBeat; }
  /** The last failure: an ERROR frame, a socket error, a timeout, an unexpected close. */
  get lastError(): Error | null { return this.lastErrorValue; }
  /** True until the connection closes or `disconnect` starts. */
  get isOpen(): boolean { return this.state === 'connected'; }
  /** The connection is gone (a getter, so checks after an await are not narrowed away). */
  get isClosed(): boolean { return this.state === 'closed'; }
  /** False while the write buffer is over its limit; see `waitDrain`. */
  get writable(): boolean { return this.state !== 'closed' && this.transport.writable; }

  /** SEND without a receipt; adds content-length. Returns false when the write buffer is full (see `waitDrain`). */
  send(destination: string, body: string | Buffer, headers?: HeaderValues): boolean {
    this.assertOpen();
    return this.writeFrame(buildSend(destination, body, headers));
  }

  /** SEND with a receipt: resolves when the broker's RECEIPT arrives, rejects on ERROR or close. */
  async sendWithReceipt(destination: string, body: string | Buffer, headers?: HeaderValues): Promise<void> {
    await this.withReceipt(buildSend(destination, body, headers));
  }

  /** Sends any frame with a `receipt` header (replacing one it has) and resolves with the RECEIPT frame. */
  request(f: Frame): Promise<Frame> {
    return this.withReceipt(f);
  }

  /** Sends a frame as is (encoded for the negotiated version). */
  sendFrame(f: Frame): boolean {
    this.assertOpen();
    return this.writeFrame(f);
  }

  /** Writes bytes as they are: tests use it to send malformed frames. */
  sendRaw(bytes: Buffer): boolean {
    this.assertOpen();
    return this.write(bytes);
  }

  /** Resolves once the write buffer is under its limit; rejects when the connection closes first. */
  waitDrain(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(this.closedError('waiting for drain'));
    if (this.transport.writable) return Promise.resolve();
    return new Promise((resolve, reject) => { this.drainWaiters.push({ resolve, reject }); });
  }

  /** SUBSCRIBE; MESSAGE frames carrying this subscription id go to `onMessage`. */
  subscribe(destination: string, onMessage: (message: Message) => void, options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    const id = options.id ?? `sub-${++this.subscriptionSeq}`;
    if (this.subscriptions.has(id)) throw new RangeError(`subscription id ${JSON.stringify(id)} is already in use on this connection`);
    const f = frame('SUBSCRIBE', { destination, id, ack: options.ack ?? 'auto' });
    appendHeaders(f.headers, options.headers, SUBSCRIBE_OWN_HEADERS);
    this.subscriptions.set(id, { destination, onMessage });
    let ready: Promise<void> | undefined;
    if (options.receipt === true) {
      ready = this.withReceipt(f).then(() => undefined);
      ready.catch(() => {}); // a caller may ignore `ready`; the failure is also in lastError / 'close'
    } else {
      try {
        this.writeFrame(f);
      } catch (err) {
        this.subscriptions.delete(id);
        throw err;
      }
    }
    return { id, destination, ready, unsubscribe: () => this.unsubscribe(id) };
  }

  /** BEGIN; returns the transaction id (generated when not given). */
  begin(transaction?: string): string {
    this.assertOpen();
    const tx = transaction ?? `tx-${++this.transactionSeq}`;
    this.writeFrame(frame('BEGIN', { transaction: tx }));
    return tx;
  }

  /** COMMIT; with `{ receipt: true }` returns a Promise that resolves on the RECEIPT. */
  commit(transaction: string): void;
  commit(transaction: string, options: { receipt: true }): Promise<void>;
  commit(transaction: string, options?: { receipt?: boolean }): Promise<void> | void {
    return this.endTransaction('COMMIT', transaction, options?.receipt === true);
  }

  /** ABORT; with `{ receipt: true }` returns a Promise that resolves on the RECEIPT. */
  abort(transaction: string): void;
  abort(transaction: string, options: { receipt: true }): Promise<void>;
  abort(transaction: string, options?: { receipt?: boolean }): Promise<void> | void {
    return this.endTransaction('ABORT', transaction, options?.receipt === true);
  }

  /**
   * Sends the ACK or NACK for a message, shaped for the version: [STOMP 1.2: ACK] `id` = the MESSAGE's
   * `ack` header; 1.1 `message-id` + `subscription`; 1.0 `message-id` (and no NACK at all).
   */
  acknowledge(message: Message, command: 'ACK' | 'NACK', transaction?: string): void {
    this.assertOpen();
    if (command === 'NACK' && this.negotiated === '1.0') {
      throw new StompError('STOMP_UNSUPPORTED', `NACK does not exist in STOMP 1.0, the version negotiated with ${this.uri}`);
    }
    const headers =
      this.negotiated === '1.2' ? { id: message.ackId, transaction }
      : this.negotiated === '1.1' ? { 'message-id': message.messageId, subscription: message.subscription, transaction }
      : { 'message-id': message.messageId, transaction };
    this.writeFrame(frame(command, headers));
  }

  /**
   * DISCONNECT with a receipt ([STOMP 1.2: Graceful Disconnect]), waits for the RECEIPT up to
   * `timeoutMs`, then closes the socket. Resolves once closed, whatever the broker did.
   */
  async disconnect(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.state !== 'connected') return this.closed;
    const receipt = this.withReceipt(frame('DISCONNECT')).then(() => true, () => false);
    this.state = 'disconnecting';
    this.closedByUs = true;
    const timeoutMs = options.timeoutMs ?? DISCONNECT_TIMEOUT_MS;
    const receipted = await within(receipt, timeoutMs, false);
    if (this.isClosed) return this.closed;
    if (!receipted && this.lastErrorValue === null) {
      this.lastErrorValue = new StompError('STOMP_TIMEOUT', `no RECEIPT for DISCONNECT from ${this.uri} within ${timeoutMs} ms`);
    }
    this.transport.end();
    if (!(await within(this.closed.then(() => true), SOCKET_CLOSE_GRACE_MS, false))) this.transport.destroy();
    return this.closed;
  }

  /** Closes the connection at once, without DISCONNECT. */
  close(): void {
    if (this.state === 'closed') return;
    this.closedByUs = true;
    this.broken = true;
    this.transport.destroy();
  }

  // ---- connection lifecycle ----

  private handshake(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.connectWaiter = { resolve, reject };
      const ms = this.options.connectTimeoutMs;
      this.connectTimer = setTimeout(() => {
        this.fail(new StompError('STOMP_CONNECT_FAILED', `no CONNECTED from ${this.uri} within ${ms} ms`));
      }, ms);
      this.transport = openTransport(this.target, {
        data: (chunk) => this.onData(chunk),
        drain: () => this.onDrain(),
        close: (error) => this.onClose(error),
      }, { noDelay: this.options.noDelay });
      this.transport.opened.then(() => {
        if (this.state === 'connecting' && !this.broken) this.writeFrame(this.connectFrame());
      }, () => {});
    });
  }

  private connectFrame(): Frame {
    const o = this.options;
    return frame('CONNECT', {
      'accept-version': o.acceptVersion,
      host: o.host,
      login: o.login,
      passcode: o.passcode,
      'client-id': o.clientId,
      'heart-beat': `${o.heartBeat[0]},${o.heartBeat[1]}`,
      ...o.connectHeaders,
    });
  }

  /** Settles `connect()` if still pending; true when it did. */
  private settleConnect(error: Error | null): boolean {
    const waiter = this.connectWaiter;
    if (waiter === null) return false;
    this.connectWaiter = null;
    clearTimeout(this.connectTimer);
    if (error === null) waiter.resolve();
    else waiter.reject(error);
    return true;
  }

  /** Gives up on the connection because of `error`: reports it and destroys the socket. */
  private fail(error: Error): void {
    if (this.state === 'closed' || this.broken) return;
    this.broken = true;
    this.lastErrorValue = error;
    if (!this.settleConnect(error)) this.emitError(error);
    this.transport.destroy();
  }

  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private onClose(socketError: Error | null): void {
    if (this.state === 'closed') return;
    const wasConnecting = this.state === 'connecting';
    this.state = 'closed';
    this.broken = true;
    this.stopHeartBeats();
    if (!this.closedByUs && this.lastErrorValue === null) {
      const why = socketError === null ? 'closed by the broker' : `lost: ${socketError.message}`;
      this.lastErrorValue = new StompError('STOMP_CONNECTION_CLOSED', `connection to ${this.uri} ${why}`, { cause: socketError ?? undefined });
      if (socketError !== null && !wasConnecting) this.emitError(this.lastErrorValue);
    }
    if (wasConnecting) {
      const why = socketError?.message ?? 'connection closed before CONNECTED';
      this.settleConnect(new StompError('STOMP_CONNECT_FAILED', `cannot connect to ${this.uri}: ${why}`, { cause: socketError ?? this.lastErrorValue }));
    }
    for (const [id, waiter] of this.receipts) waiter.reject(this.closedError(`RECEIPT ${id} arrived`));
    this.receipts.clear();
    for (const waiter of this.drainWaiters) waiter.reject(this.closedError('the write buffer drained'));
    this.drainWaiters = [];
    this.subscriptions.clear();
    this.emit('close', this.lastErrorValue);
    this.resolveClosed();
  }

  private closedError(before: string): StompError {
    return new StompError('STOMP_CONNECTION_CLOSED', `connection to ${this.uri} closed before ${before}`, { cause: this.lastErrorValue ?? undefined });
  }

  private assertOpen(): void {
    if (this.state !== 'connected' || this.broken) {
      throw new StompError('STOMP_CONNECTION_CLOSED', `connection to ${this.uri} is ${this.state === 'disconnecting' ? 'disconnecting' : 'closed'}`, { cause: this.lastErrorValue ?? undefined });
    }
  }

  // ---- incoming ----

  private onData(chunk: Buffer): void {
    this.lastReadAt = performance.now();
    this.decoder.push(chunk);
    while (!this.broken) {
      let item;
      try {
        item = this.decoder.next();
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      if (item === null) return;
      if (item.command !== null) this.onFrame(item);
    }
  }

  private onFrame(f: Frame): void {
    if (this.state === 'connecting') {
      this.onHandshakeFrame(f);
      return;
    }
    if (this.listenerCount('frame') > 0) this.emit('frame', f);
    switch (f.command) {
      case 'MESSAGE': this.onMessageFrame(f); return;
      case 'RECEIPT': this.onReceipt(f); return;
      case 'ERROR': this.onServerError(f); return;
      default: return; // e.g. ActiveMQ's KEEPALIVE: its bytes already reset the read timer
    }
  }

  private onHandshakeFrame(f: Frame): void {
    if (f.command === 'ERROR') {
      this.onServerError(f);
      this.fail(this.lastErrorValue as Error);
      return;
    }
    if (f.command !== 'CONNECTED') {
      this.fail(new StompError('STOMP_CONNECT_FAILED', `expected CONNECTED from ${this.uri}, got ${f.command}`));
      return;
    }
    // [STOMP 1.2: Protocol Negotiation] a CONNECTED without `version` means the broker speaks 1.0.
    const version = header(f, 'version') ?? '1.0';
    const offered = this.options.acceptVersion.split(',').map((v) => v.trim());
    if (!isVersion(version) || !offered.includes(version)) {
      this.fail(new StompError('STOMP_CONNECT_FAILED', `${this.uri} chose STOMP version ${JSON.stringify(version)}, not one we offered (${this.options.acceptVersion})`));
      return;
    }
    this.negotiated = version;
    this.decoder.version = version; // before the next frame is pulled: escaping starts now
    this.connectedFrame = f;
    this.state = 'connected';
    // ActiveMQ heart-beats only from 1.1 on, as the spec introduced them there.
    this.startHeartBeats(version === '1.0' ? NO_HEART_BEAT : negotiateHeartBeat(this.options.heartBeat, parseHeartBeat(header(f, 'heart-beat'))));
    this.settleConnect(null);
  }

  private onMessageFrame(f: Frame): void {
    const message = new Message(f, this);
    const id = header(f, 'subscription');
    const entry = id !== undefined ? this.subscriptions.get(id) : this.subscriptionFor(message.destination);
    if (entry !== undefined) deliver(entry.onMessage, message);
    else if (this.listenerCount('message') > 0) this.emit('message', message);
  }

  /** A STOMP 1.0 broker may omit `subscription`; then the destination decides. */
  private subscriptionFor(destination: string): SubscriptionEntry | undefined {
    for (const entry of this.subscriptions.values()) if (entry.destination === destination) return entry;
    return undefined;
  }

  private onReceipt(f: Frame): void {
    const id = header(f, 'receipt-id');
    const waiter = id === undefined ? undefined : this.receipts.get(id);
    if (waiter === undefined) return;
    this.receipts.delete(id as string);
    waiter.resolve(f);
  }

  /**
   * [STOMP 1.2: ERROR] the broker closes the connection after an ERROR; we let it (ActiveMQ keeps the
   * connection for some errors). An ERROR naming a receipt fails that request; any other fails them all.
   */
  private onServerError(f: Frame): void {
    const message = header(f, 'message') ?? (f.body.length > 0 ? f.body.toString('utf8', 0, 256) : 'ERROR frame without a message');
    const error = new StompError('STOMP_SERVER_ERROR', message, { frame: f });
    this.lastErrorValue = error;
    if (this.settleConnect(error)) return;
    const id = header(f, 'receipt-id');
    const waiter = id === undefined ? undefined : this.receipts.get(id);
    if (waiter !== undefined) {
      this.receipts.delete(id as string);
      waiter.reject(error);
    } else {
      for (const w of this.receipts.values()) w.reject(error);
      this.receipts.clear();
    }
    this.emitError(error);
  }

  private onDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    this.emit('drain');
  }

  // ---- outgoing ----

  private writeFrame(f: Frame): boolean {
    return this.write(encodeFrame(f, this.negotiated));
  }

  private write(bytes: Buffer): boolean {
    this.wroteSinceBeat = true;
    return this.transport.write(bytes);
  }

  /** Sends `f` with a fresh `receipt` header; settles on its RECEIPT, an ERROR, or close. */
  private withReceipt(f: Frame): Promise<Frame> {
    return new Promise<Frame>((resolve, reject) => {
      this.assertOpen();
      if (this.receipts.size >= RECEIPTS_PENDING_MAX) {
        throw new StompError('STOMP_TOO_MANY_RECEIPTS', `${RECEIPTS_PENDING_MAX} receipts are already pending on ${this.uri}`);
      }
      const id = `r-${++this.receiptSeq}`;
      const headers: HeaderList = f.headers.filter(([name]) => name !== 'receipt');
      headers.push(['receipt', id]);
      this.receipts.set(id, { resolve, reject });
      try {
        this.writeFrame({ command: f.command, headers, body: f.body });
      } catch (err) {
        this.receipts.delete(id);
        throw err;
      }
    });
  }

  private endTransaction(command: 'COMMIT' | 'ABORT', transaction: string, receipt: boolean): Promise<void> | void {
    const f = frame(command, { transaction });
    if (receipt) return this.withReceipt(f).then(() => undefined);
    this.assertOpen();
    this.writeFrame(f);
  }

  private async unsubscribe(id: string): Promise<void> {
    if (this.state !== 'connected' || !this.subscriptions.has(id)) return;
    await this.withReceipt(frame('UNSUBSCRIBE', { id }));
    // Dropped only now: MESSAGEs sent before the broker saw UNSUBSCRIBE still reach the handler.
    this.subscriptions.delete(id);
  }

  // ---- heart-beats [STOMP 1.2: Heart-beating] ----

  private startHeartBeats(plan: HeartBeatPlan): void {
    this.heartBeat = plan;
    if (plan.sendMs > 0) {
      // Ticking at half the interval keeps the longest silence under sendMs.
      this.sendTimer = setInterval(() => this.beat(), Math.max(1, Math.floor(plan.sendMs / 2)));
      this.sendTimer.unref();
    }
    if (plan.expectMs > 0) {
      this.lastReadAt = performance.now();
      this.readTimer = setInterval(() => this.checkBroker(), Math.max(1, Math.floor(plan.expectMs / 2)));
      this.readTimer.unref();
    }
  }

  private beat(): void {
    if (!this.wroteSinceBeat) this.transport.write(HEART_BEAT_BYTES);
    this.wroteSinceBeat = false;
  }

  private checkBroker(): void {
    const silentMs = performance.now() - this.lastReadAt;
    const expectMs = this.heartBeat.expectMs;
    if (silentMs > HEART_BEAT_GRACE_FACTOR * expectMs) {
      this.fail(new StompError('STOMP_TIMEOUT', `no data from ${this.uri} for ${Math.round(silentMs)} ms; heart-beats were due every ${expectMs} ms`));
    }
  }

  private stopHeartBeats(): void {
    clearInterval(this.sendTimer);
    clearInterval(this.readTimer);
  }
}

function isVersion(v: string): v is StompVersion {
  return v === '1.0' || v === '1.1' || v === '1.2';
}

/** The SEND frame StompClient writes: caller headers (minus destination and content-length), then content-length. */
export function buildSend(destination: string, body: string | Buffer, headers: HeaderValues | undefined): Frame {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const list: HeaderList = [['destination', destination]];
  appendHeaders(list, headers, SEND_OWN_HEADERS);
  // [STOMP 1.2: Header content-length] lets the body hold NUL octets; ActiveMQ then makes a BytesMessage.
  list.push(['content-length', String(bytes.length)]);
  return { command: 'SEND', headers: list, body: bytes };
}

function appendHeaders(list: HeaderList, headers: HeaderValues | undefined, own: ReadonlySet<string>): void {
  if (headers === undefined) return;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value !== undefined && !own.has(name)) list.push([name, String(value)]);
  }
}

/**
 * A throwing message handler must not stall the frames decoded behind it, so its error is rethrown
 * on the next tick, where it surfaces as an uncaught exception like any listener's would.
 */
function deliver(onMessage: (message: Message) => void, message: Message): void {
  try {
    onMessage(message);
  } catch (err) {
    process.nextTick(() => { throw err; });
  }
}

/** `promise`, or `fallback` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => { timer = setTimeout(() => resolve(fallback), ms); });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
