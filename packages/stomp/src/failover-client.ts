/**
 * FailoverClient: the client side of ActiveMQ's failover transport over StompClient. It is the IO
 * shell around ServerPool (which URI next, how long to wait): it owns the timers and the sockets.
 *
 * When the connection is lost it reconnects through the pool and then, on the new connection and in
 * this order: re-subscribes every live subscription with the same id, ack mode and headers (durable
 * subscription names included); re-sends every SEND whose RECEIPT had not arrived, in the original
 * order; then writes what the application did while disconnected (queued, bounded by
 * maxPendingSends / maxPendingBytes, each waiting at most the `timeout` option).
 *
 * Exactly once: every SEND carries `amq-producer-id` (random per FailoverClient, stable across
 * reconnects) and `amq-producer-seq` (1, 2, 3… in send order); a re-sent SEND keeps both. The broker
 * keeps a bounded window of recent sequence numbers per producer id (built separately, in
 * packages/broker) and drops a SEND it has already stored, still answering its RECEIPT: so a SEND
 * whose RECEIPT was lost with the connection is stored once. This is the role of ActiveMQ's producer
 * audit on message ids (producer id + sequence). A plain StompClient adds no such headers.
 *
 * What a failover cannot preserve, and how it is reported:
 * - Messages received and not yet acked: the broker redelivers them once the connection that got them
 *   is gone, so an ACK/NACK for one of them after the failover is dropped silently.
 * - A transaction open on the lost connection was rolled back by the broker (ActiveMQ's
 *   TransactionRolledBackException): its sends reject, later sends in it throw, and commit() rejects
 *   with STOMP_TRANSACTION_ROLLED_BACK. A COMMIT sent but not yet confirmed rejects with
 *   STOMP_TRANSACTION_IN_DOUBT: the broker may have committed it. A switch back to the priority
 *   broker (priorityBackup) is a failover too: a transaction open at that moment is rolled back.
 * - An ERROR that names no receipt fails every request waiting on that connection (StompClient's
 *   rule): those SENDs reject with it rather than being re-sent, since the broker may have them.
 *
 * Events: 'error' (only while someone listens, as StompClient), 'close' (once; the client is done),
 * 'disconnect' ({uri, error}: a connection is gone, what it had in flight will be replayed),
 * 'reconnect' ({uri, attempt}: connected again, replay written), 'message' (a MESSAGE no
 * subscription claimed), 'drain'.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { buildSend, StompClient, type AckMode, type HeaderValues, type SubscribeOptions, type Subscription } from './client.js';
import { StompError } from './errors.js';
import { parseFailoverUri, resolveFailoverOptions, type FailoverOptions, type FailoverUri } from './failover-uri.js';
import { frame, type Frame } from './frame.js';
import { MiB, RECEIPTS_PENDING_MAX } from './limits.js';
import { Message, type MessageAcknowledger } from './message.js';
import { resolveConnectOptions, type ConnectOptions } from './options.js';
import { ServerPool, type PoolStep } from './server-pool.js';
import { formatBrokerUri, type BrokerUri } from './uri.js';

/** The producer id header on every SEND of a FailoverClient (see the file comment). */
export const PRODUCER_ID_HEADER = 'amq-producer-id';
/** The per-producer sequence number header, 1, 2, 3… (see the file comment). */
export const PRODUCER_SEQ_HEADER = 'amq-producer-seq';

/**
 * Unconfirmed SENDs (written without a RECEIPT yet, or queued) one FailoverClient keeps for re-sending:
 * each holds its body, so this bounds memory while no broker is reachable.
 */
export const FAILOVER_PENDING_SENDS_MAX = 10_000;
/** The same bound in bytes (bodies plus headers); ActiveMQ's trackMessages cache is far smaller (128 KiB). */
export const FAILOVER_PENDING_BYTES_MAX = 64 * MiB;
// Every pending SEND holds a receipt on the connection, next to subscriptions' and commits'.
assert(FAILOVER_PENDING_SENDS_MAX < RECEIPTS_PENDING_MAX / 2);

/** Options of `FailoverClient.connect`: StompClient's for every connection, plus failover's own. */
export interface FailoverConnectOptions extends ConnectOptions {
  /** Failover options that win over the URI's. On a plain URI, giving any turns reconnecting on. */
  failover?: Partial<FailoverOptions>;
  /** Receives ActiveMQ-style lines: "Successfully reconnected to tcp://host:port", failures, give-ups. */
  log?: (line: string) => void;
  /** Uniform in [0, 1); orders the URIs when randomize=true (default Math.random; see seededRandom). */
  random?: () => number;
  /** The amq-producer-id value; a random one by default. */
  producerId?: string;
  /** Default FAILOVER_PENDING_SENDS_MAX. */
  maxPendingSends?: number;
  /** Default FAILOVER_PENDING_BYTES_MAX. */
  maxPendingBytes?: number;
}

export interface ReconnectInfo {
  readonly uri: string;
  /** Dials it took since the connection was lost (1 = the first one succeeded). */
  readonly attempt: number;
}

export interface DisconnectInfo {
  readonly uri: string;
  /** Why; null when we closed it ourselves (a switch back to the priority broker). */
  readonly error: Error | null;
}

export type FailoverClientEvents = {
  error: [error: Error];
  close: [error: Error | null];
  reconnect: [info: ReconnectInfo];
  disconnect: [info: DisconnectInfo];
  message: [message: Message];
  drain: [];
};

type State = 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';

interface Deferred { resolve(): void; reject(error: Error): void }

interface PendingSend {
  readonly seq: number;
  readonly destination: string;
  readonly frame: Frame;
  readonly bytes: number;
  readonly tx: TxState | null;
  readonly done: Deferred;
  settled: boolean;
  /** Written at least once: if it then times out, the broker may have it. */
  written: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface PendingCommit extends Deferred {
  /** The connection generation COMMIT was written on; null while queued. */
  writtenOn: number | null;
  timer: NodeJS.Timeout | undefined;
}

interface TxState {
  readonly id: string;
  /** The connection generation BEGIN was written on; null while BEGIN is queued. */
  begunOn: number | null;
  /** Set once the transaction cannot commit any more; every later use reports it. */
  failure: StompError | null;
  readonly sends: Set<PendingSend>;
  commit: PendingCommit | null;
}

/** Work waiting for a connection, in call order. */
type Op =
  | { readonly kind: 'send'; readonly send: PendingSend }
  | { readonly kind: 'begin'; readonly tx: TxState }
  | { readonly kind: 'commit'; readonly tx: TxState };

interface SubState {
  readonly id: string;
  readonly destination: string;
  readonly onMessage: (message: Message) => void;
  readonly ack: AckMode;
  readonly headers: Record<string, string> | undefined;
  ready: (Deferred & { settled: boolean }) | null;
  /** The StompClient subscription on connection `handleGen`, if any. */
  handle: Subscription | null;
  handleGen: number;
}

/**
 * ActiveMQ's answers to a CONNECT with bad credentials ("User name [x] or password is invalid.") and
 * to a refused login. Retrying cannot fix them, so they end connect() at once.
 */
const AUTHENTICATION_FAILURE = /password is invalid|not authori[sz]ed|authentication failed/i;

/** True for an ERROR answering CONNECT that no reconnect can fix (bad credentials). */
export function isAuthenticationFailure(error: unknown): boolean {
  return error instanceof StompError && error.code === 'STOMP_SERVER_ERROR' && AUTHENTICATION_FAILURE.test(error.message);
}

/** A StompClient-shaped client that survives broker failures; see the file comment. */
export class FailoverClient extends EventEmitter<FailoverClientEvents> {
  /** Resolves once the client is closed for good (never rejects; see `lastError`). */
  readonly closed: Promise<void>;
  /** The amq-producer-id on every SEND. */
  readonly producerId: string;
  /** The broker URIs, formatted, in the order written. */
  readonly uris: readonly string[];
  /** The failover options in force. */
  readonly options: Readonly<FailoverOptions>;

  private readonly pool: ServerPool;
  private readonly addresses: ReadonlyMap<string, BrokerUri>;
  private readonly connectOptions: ConnectOptions;
  /** False for a plain URI without failover options: a lost connection closes the client. */
  private readonly reconnects: boolean;
  private readonly logLine: ((line: string) => void) | undefined;
  private readonly maxPendingSends: number;
  private readonly maxPendingBytes: number;

  private state: State = 'connecting';
  private client: StompClient | null = null;
  private clientUri: string | null = null;
  /** Counts connections adopted; messages and transactions remember the one they belong to. */
  private generation = 0;
  private acker: MessageAcknowledger = { acknowledge: () => {} };
  private startup: Deferred | null = null;
  private lastErrorValue: Error | null = null;
  private lastDialError: Error | null = null;
  private resolveClosed!: () => void;

  private seq = 0;
  private subscriptionSeq = 0;
  private transactionSeq = 0;
  /** Non-transacted SENDs written on the current connection, awaiting their RECEIPT, in seq order. */
  private readonly inflight = new Map<number, PendingSend>();
  private outbox: Op[] = [];
  private pendingCount = 0;
  private pendingBytes = 0;
  private readonly subs = new Map<string, SubState>();
  private readonly txs = new Map<string, TxState>();

  private driving = false;
  private sleeper: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  private changeWaiters: Array<() => void> = [];

  private constructor(parsed: FailoverUri, options: FailoverConnectOptions) {
    super();
    const { failover, log, random, producerId, maxPendingSends, maxPendingBytes, ...connectOptions } = options;
    resolveConnectOptions(connectOptions); // a bad setting fails now, not as an endless series of failed dials
    this.connectOptions = connectOptions;
    this.options = failover === undefined ? parsed.options : resolveFailoverOptions(failover, parsed.options);
    this.reconnects = parsed.failover || failover !== undefined;
    this.addresses = new Map(parsed.uris.map((u) => [formatBrokerUri(u), u]));
    this.uris = Object.freeze([...this.addresses.keys()]);
    this.pool = new ServerPool(this.uris, this.options, random ?? Math.random);
    this.producerId = producerId ?? `ID:${randomUUID()}`;
    this.logLine = log;
    this.maxPendingSends = positiveInt('maxPendingSends', maxPendingSends ?? FAILOVER_PENDING_SENDS_MAX);
    this.maxPendingBytes = positiveInt('maxPendingBytes', maxPendingBytes ?? FAILOVER_PENDING_BYTES_MAX);
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
  }

  /**
   * Parses `uri` (failover:(…)?… or a single broker URI) and resolves on the first connection.
   * Rejects with STOMP_CONNECT_FAILED naming every URI tried and the last error once the pool gives
   * up (startupMaxReconnectAttempts), with the broker's STOMP_SERVER_ERROR at once when it refuses
   * the credentials, and with STOMP_BAD_URI / RangeError for bad input.
   */
  static async connect(uri: string, options: FailoverConnectOptions = {}): Promise<FailoverClient> {
    const client = new FailoverClient(parseFailoverUri(uri), options);
    await new Promise<void>((resolve, reject) => {
      client.startup = { resolve, reject };
      client.run();
    });
    return client;
  }

  /** The broker connected to now, or null while reconnecting. */
  get uri(): string | null { return this.client === null ? null : this.clientUri; }
  /** Connected, not reconnecting or closed. */
  get isOpen(): boolean { return this.state === 'connected' && this.client !== null && this.client.isOpen; }
  get isClosed(): boolean { return this.state === 'closed'; }
  /** The last failure seen: a lost connection, an ERROR, a timed-out send, the final give-up. */
  get lastError(): Error | null { return this.lastErrorValue; }
  /** The current connection's STOMP version, if connected. */
  get version(): string | undefined { return this.client?.version; }
  /** False while sends are only queued: disconnected, the write buffer full, or the pending bounds reached. */
  get writable(): boolean {
    return this.state === 'connected' && this.client !== null && this.client.writable && this.outbox.length === 0
      && this.pendingCount < this.maxPendingSends && this.pendingBytes < this.maxPendingBytes;
  }

  /**
   * SEND, tracked until the broker's RECEIPT (re-sent after a failover until then). Returns `writable`:
   * false means wait for `waitDrain`. A failure later (timeout, give-up, rolled-back transaction) is
   * reported through 'error'; throws at once when closed, over the pending bounds, or in a transaction
   * that is not open or was rolled back.
   */
  send(destination: string, body: string | Buffer, headers?: HeaderValues): boolean {
    const { promise } = this.createSend(destination, body, headers);
    promise.catch((err: Error) => this.emitError(err));
    return this.writable;
  }

  /** SEND that resolves on the broker's RECEIPT, however many failovers it takes (see `timeout`). */
  async sendWithReceipt(destination: string, body: string | Buffer, headers?: HeaderValues): Promise<void> {
    return this.createSend(destination, body, headers).promise;
  }

  /** Resolves when `writable`; rejects once the client is closed. */
  async waitDrain(): Promise<void> {
    for (;;) {
      if (!this.isActive()) throw this.closedError('the write buffer drained');
      if (this.writable) return;
      await new Promise<void>((resolve) => { this.changeWaiters.push(resolve); });
    }
  }

  /**
   * SUBSCRIBE, now if connected and again on every new connection with the same id, ack mode and
   * headers. With `receipt: true`, `ready` resolves on the first RECEIPT for it.
   */
  subscribe(destination: string, onMessage: (message: Message) => void, options: SubscribeOptions = {}): Subscription {
    this.assertActive();
    const id = options.id ?? `sub-${++this.subscriptionSeq}`;
    if (this.subs.has(id)) throw new RangeError(`subscription id ${JSON.stringify(id)} is already in use on this client`);
    const sub: SubState = {
      id, destination, onMessage, ack: options.ack ?? 'auto', headers: options.headers === undefined ? undefined : { ...options.headers },
      ready: null, handle: null, handleGen: 0,
    };
    let ready: Promise<void> | undefined;
    if (options.receipt === true) {
      ready = new Promise<void>((resolve, reject) => { sub.ready = { resolve, reject, settled: false }; });
      ready.catch(() => {}); // a caller may ignore `ready`
    }
    this.subs.set(id, sub);
    if (this.state === 'connected' && this.client !== null) this.subscribeOn(this.client, sub);
    return { id, destination, ready, unsubscribe: () => this.unsubscribe(id) };
  }

  /** BEGIN (queued while disconnected); returns the transaction id, generated when not given. */
  begin(transaction?: string): string {
    this.assertActive();
    const id = transaction ?? `tx-${++this.transactionSeq}`;
    if (this.txs.has(id)) throw new RangeError(`transaction ${JSON.stringify(id)} is already open on this client`);
    const tx: TxState = { id, begunOn: null, failure: null, sends: new Set(), commit: null };
    this.txs.set(id, tx);
    if (!(this.canWrite() && this.writeBegin(this.client as StompClient, tx))) this.queue({ kind: 'begin', tx });
    return id;
  }

  /**
   * COMMIT with a receipt. Rejects with STOMP_TRANSACTION_ROLLED_BACK when a failover ended the
   * transaction, STOMP_TRANSACTION_IN_DOUBT when the connection died before the RECEIPT came.
   */
  async commit(transaction: string): Promise<void> {
    this.assertActive();
    const tx = this.openTx(transaction);
    if (tx.failure !== null) {
      this.endTx(tx);
      throw tx.failure;
    }
    return new Promise<void>((resolve, reject) => {
      tx.commit = { resolve, reject, writtenOn: null, timer: undefined };
      if (!(this.canWrite() && this.writeCommit(this.client as StompClient, tx))) this.queue({ kind: 'commit', tx });
    });
  }

  /**
   * ABORT with a receipt. When the transaction never reached a live connection, or the connection it
   * was on is gone (the broker rolled it back), there is nothing left to abort and it resolves at once;
   * its queued sends are dropped and resolve, the outcome the abort asked for.
   */
  async abort(transaction: string): Promise<void> {
    if (!this.isActive()) return; // closing ended every transaction; the broker rolls back what it had
    const tx = this.openTx(transaction);
    const client = this.client;
    if (tx.failure !== null || tx.begunOn === null || tx.begunOn !== this.generation || client === null) {
      this.dropQueuedTx(tx, null);
      this.endTx(tx);
      return;
    }
    try {
      await client.request(frame('ABORT', { transaction: tx.id }));
    } catch (err) {
      if (!isConnectionLoss(err)) throw err;
    } finally {
      this.endTx(tx);
    }
  }

  /** DISCONNECT from the current broker (waiting for its RECEIPT) and stop; queued work is rejected. */
  async disconnect(options: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.isActive()) return this.closed;
    this.state = 'closing';
    this.wake();
    const client = this.client;
    this.client = null; // its close is ours, not a failure to recover from
    if (client !== null) await client.disconnect(options);
    this.finish(null);
    return this.closed;
  }

  /** Closes at once, without DISCONNECT; queued and unconfirmed work is rejected. */
  close(): void {
    if (!this.isActive()) return;
    this.state = 'closing';
    const client = this.client;
    this.client = null;
    client?.close();
    this.finish(null);
  }

  // ---- the pool driver: the only place that waits and dials ----

  private run(): void {
    this.drive().catch((err: Error) => this.fatal(err));
  }

  /** Follows the pool until it says idle or give-up; one loop at a time, woken by `wake`. */
  private async drive(): Promise<void> {
    if (this.driving) return;
    this.driving = true;
    try {
      while (this.isActive()) {
        const step = this.pool.next(performance.now());
        if (step.action === 'idle') return;
        if (step.action === 'give-up') {
          this.giveUp(step);
          return;
        }
        if (step.delayMs > 0) {
          // Then ask again: a loss during a probe's wait changes what should happen next.
          await this.sleep(step.delayMs);
          continue;
        }
        const outcome = await this.dial(step.uri);
        if (!this.isActive()) {
          outcome.client?.close();
          return;
        }
        const switching = step.probe && this.client !== null;
        if (outcome.client === undefined) {
          if (!this.dialFailed(step, outcome.error, switching)) return;
        } else if (switching) {
          await this.switchTo(outcome.client, step);
        } else {
          this.dialled(outcome.client, step);
        }
      }
    } finally {
      this.driving = false;
    }
  }

  private async dial(uri: string): Promise<{ client: StompClient; error?: undefined } | { client?: undefined; error: Error }> {
    try {
      return { client: await StompClient.connect(this.addresses.get(uri) as BrokerUri, this.connectOptions) };
    } catch (err) {
      return { error: err instanceof Error ? err : new Error(String(err)) };
    }
  }

  /** Reports a failed dial to the pool; false when the failure ends the client. */
  private dialFailed(step: Extract<PoolStep, { action: 'dial' }>, error: Error, probe: boolean): boolean {
    this.lastDialError = error;
    this.log(`Connect to ${step.uri} failed${probe ? ' (priority backup probe)' : ''}: ${error.message}`);
    // A probe's failure never ends a working connection elsewhere.
    if (!probe && (isAuthenticationFailure(error) || !(error instanceof StompError))) {
      this.fatal(error);
      return false;
    }
    this.pool.failed(step.uri);
    return true;
  }

  private dialled(client: StompClient, step: Extract<PoolStep, { action: 'dial' }>): void {
    assert.equal(this.client, null, 'FailoverClient: dialled a second connection');
    const first = this.generation === 0;
    this.pool.connected(step.uri, performance.now());
    this.adopt(client, step.uri);
    if (first) {
      this.log(`Successfully connected to ${step.uri}`);
      const startup = this.startup;
      this.startup = null;
      startup?.resolve();
    } else {
      this.reconnected(step);
    }
  }

  private reconnected(step: Extract<PoolStep, { action: 'dial' }>): void {
    this.log(`Successfully reconnected to ${step.uri}`);
    this.emit('reconnect', { uri: step.uri, attempt: step.attempt });
  }

  /**
   * priorityBackup: the primary is back. The current connection is closed with DISCONNECT first, so
   * RECEIPTs for what it already has arrive and only what it never confirmed is re-sent.
   */
  private async switchTo(next: StompClient, step: Extract<PoolStep, { action: 'dial' }>): Promise<void> {
    const old = this.client as StompClient;
    const oldUri = this.clientUri as string;
    const oldGen = this.generation;
    this.client = null; // new work queues until the switch is done
    this.state = 'reconnecting';
    this.log(`Priority broker ${step.uri} is reachable again; leaving ${oldUri}`);
    await old.disconnect();
    if (!this.isActive()) {
      next.close();
      return;
    }
    this.detach(oldGen, oldUri, null);
    this.emit('disconnect', { uri: oldUri, error: null });
    if (!this.isActive()) {
      next.close();
      return;
    }
    if (next.isClosed) {
      this.pool.lost(oldUri, performance.now()); // the loop goes on with a reconnect round
      return;
    }
    this.pool.connected(step.uri, performance.now());
    this.adopt(next, step.uri);
    this.reconnected(step);
  }

  private giveUp(step: Extract<PoolStep, { action: 'give-up' }>): void {
    const last = this.lastDialError;
    this.log(`Failed to connect to [${this.uris.join(', ')}] after: ${step.rounds} attempt(s)`);
    const what = this.generation === 0 ? 'connect' : 'reconnect';
    const error = new StompError(
      'STOMP_CONNECT_FAILED',
      `could not ${what} to any broker after ${step.attempts} attempt(s) in ${step.rounds} round(s); tried ${step.tried.join(', ')}; last error: ${last?.message ?? 'none'}`,
      { cause: last ?? undefined },
    );
    this.fatal(error);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeper = null;
        resolve();
      }, Math.ceil(ms));
      this.sleeper = { timer, resolve };
    });
  }

  private wake(): void {
    const sleeper = this.sleeper;
    if (sleeper === null) return;
    this.sleeper = null;
    clearTimeout(sleeper.timer);
    sleeper.resolve();
  }

  // ---- connections ----

  /** Makes `client` the connection and replays onto it: subscriptions, unconfirmed SENDs, queued work. */
  private adopt(client: StompClient, uri: string): void {
    this.client = client;
    this.clientUri = uri;
    const gen = ++this.generation;
    this.state = 'connected';
    this.lastDialError = null;
    const acker = this.ackerFor(gen);
    this.acker = acker;
    client.on('close', (error) => this.onLost(client, error));
    client.on('error', (error) => { if (client === this.client) this.emitError(error); });
    client.on('drain', () => {
      if (client !== this.client) return;
      this.notifyChanged();
      this.emit('drain');
    });
    client.on('message', (m) => {
      if (client === this.client && this.listenerCount('message') > 0) this.emit('message', new Message(m.frame, acker));
    });
    for (const sub of this.subs.values()) this.subscribeOn(client, sub);
    while (this.outbox.length > 0 && this.writeOp(client, this.outbox[0] as Op)) this.outbox.shift();
    this.notifyChanged();
  }

  private onLost(client: StompClient, error: Error | null): void {
    if (client !== this.client) return;
    const uri = this.clientUri as string;
    this.client = null;
    this.detach(this.generation, uri, error);
    if (error !== null) this.lastErrorValue = error;
    this.state = 'reconnecting';
    const next = this.reconnects ? 'attempting to automatically reconnect' : 'not reconnecting (a single broker URI)';
    this.log(`Transport (${uri}) failed${error === null ? '' : `: ${error.message}`}; ${next}`);
    this.emit('disconnect', { uri, error });
    if (!this.isActive()) return;
    if (!this.reconnects) {
      this.fatal(error ?? new StompError('STOMP_CONNECTION_CLOSED', `connection to ${uri} closed`));
      return;
    }
    this.pool.lost(uri, performance.now());
    this.wake();
    this.run();
  }

  /**
   * Settles what the connection `gen` to `uri` took with it: its transactions fail (rolled back, or in
   * doubt when COMMIT was unconfirmed), its unconfirmed SENDs go back to the front of the outbox.
   */
  private detach(gen: number, uri: string, reason: Error | null): void {
    const cause = reason ?? undefined;
    for (const sub of this.subs.values()) sub.handle = null;
    for (const tx of [...this.txs.values()]) {
      if (tx.begunOn !== gen) continue;
      if (tx.commit !== null && tx.commit.writtenOn === gen) {
        const error = new StompError(
          'STOMP_TRANSACTION_IN_DOUBT',
          `connection to ${uri} was lost after COMMIT of transaction ${tx.id} was sent and before the broker confirmed it; it may or may not have been committed`,
          { cause },
        );
        this.failTx(tx, error);
        continue;
      }
      // [ActiveMQ: TransactionRolledBackException] the broker rolls back a transaction whose connection is gone.
      this.failTx(tx, new StompError('STOMP_TRANSACTION_ROLLED_BACK', `transaction ${tx.id} was rolled back by a failover; its sends were discarded, send them again`, { cause }));
    }
    // Everything still in the outbox was queued after these were written, so they go first.
    const requeue: Op[] = [...this.inflight.values()].map((send) => ({ kind: 'send', send }));
    this.inflight.clear();
    this.outbox = [...requeue, ...this.outbox];
    for (const op of requeue) this.armTimeout(op);
  }

  private ackerFor(gen: number): MessageAcknowledger {
    return { acknowledge: (message, command, transaction) => this.acknowledgeOn(gen, message, command, transaction) };
  }

  /**
   * ACK/NACK for a message received on connection `gen`. Once that connection is gone the broker
   * redelivers the message anyway, so the ACK is dropped silently rather than sent to a broker that
   * would not know its id.
   */
  private acknowledgeOn(gen: number, message: Message, command: 'ACK' | 'NACK', transaction: string | undefined): void {
    const client = this.client;
    if (gen !== this.generation || client === null || this.state !== 'connected') return;
    if (transaction !== undefined && this.txs.get(transaction)?.failure != null) return;
    try {
      client.acknowledge(message, command, transaction);
    } catch (err) {
      if (!isConnectionLoss(err)) throw err;
    }
  }

  private subscribeOn(client: StompClient, sub: SubState): void {
    const wantReceipt = sub.ready !== null && !sub.ready.settled;
    const acker = this.acker;
    let handle: Subscription;
    try {
      handle = client.subscribe(sub.destination, (m) => sub.onMessage(new Message(m.frame, acker)), {
        id: sub.id, ack: sub.ack, headers: sub.headers, receipt: wantReceipt,
      });
    } catch (err) {
      if (isConnectionLoss(err)) return; // replayed on the next connection
      throw err;
    }
    sub.handle = handle;
    sub.handleGen = this.generation;
    handle.ready?.then(
      () => settleReady(sub, null),
      (err: unknown) => {
        if (isConnectionLoss(err)) return;
        // The broker refused it (e.g. not authorised): replaying it on every reconnect would fail again.
        if (this.subs.get(sub.id) === sub) this.subs.delete(sub.id);
        settleReady(sub, err as Error);
      },
    );
  }

  private async unsubscribe(id: string): Promise<void> {
    const sub = this.subs.get(id);
    if (sub === undefined) return;
    this.subs.delete(id);
    const handle = sub.handle;
    sub.handle = null;
    if (handle === null || sub.handleGen !== this.generation || this.client === null) return;
    try {
      await handle.unsubscribe();
    } catch (err) {
      if (!isConnectionLoss(err)) throw err;
    }
  }

  // ---- outgoing work ----

  private createSend(destination: string, body: string | Buffer, headers: HeaderValues | undefined): { promise: Promise<void> } {
    this.assertActive();
    let tx: TxState | null = null;
    if (headers?.transaction !== undefined) {
      tx = this.openTx(String(headers.transaction));
      if (tx.failure !== null) throw tx.failure;
    }
    const own: HeaderValues = {};
    for (const [name, value] of Object.entries(headers ?? {})) {
      if (name !== PRODUCER_ID_HEADER && name !== PRODUCER_SEQ_HEADER) own[name] = value;
    }
    const seq = this.seq + 1;
    own[PRODUCER_ID_HEADER] = this.producerId;
    own[PRODUCER_SEQ_HEADER] = seq;
    const f = buildSend(destination, body, own);
    const bytes = frameBytes(f);
    // A lone SEND bigger than maxPendingBytes is still taken: the bound is for piling up, and the
    // broker's maxFrameSize is what limits one message.
    if (this.pendingCount >= this.maxPendingSends || (this.pendingCount > 0 && this.pendingBytes + bytes > this.maxPendingBytes)) {
      throw new StompError(
        'STOMP_TOO_MANY_PENDING_SENDS',
        `${this.pendingCount} SENDs (${this.pendingBytes} bytes) already wait for a RECEIPT or a connection (maxPendingSends ${this.maxPendingSends}, maxPendingBytes ${this.maxPendingBytes}); wait for waitDrain()`,
      );
    }
    this.seq = seq;
    let done!: Deferred;
    const promise = new Promise<void>((resolve, reject) => { done = { resolve, reject }; });
    const p: PendingSend = { seq, destination, frame: f, bytes, tx, done, settled: false, written: false, timer: undefined };
    this.pendingCount++;
    this.pendingBytes += bytes;
    tx?.sends.add(p);
    if (!(this.canWrite() && this.writeSend(this.client as StompClient, p))) this.queue({ kind: 'send', send: p });
    return { promise };
  }

  private canWrite(): boolean {
    return this.state === 'connected' && this.client !== null && this.outbox.length === 0;
  }

  private queue(op: Op): void {
    this.outbox.push(op);
    this.armTimeout(op);
  }

  /** Writes `op`; false when the connection refused it (closing), so it stays queued. */
  private writeOp(client: StompClient, op: Op): boolean {
    switch (op.kind) {
      case 'send': return op.send.settled || this.writeSend(client, op.send);
      case 'begin': return this.writeBegin(client, op.tx);
      case 'commit': return this.writeCommit(client, op.tx);
    }
  }

  private writeSend(client: StompClient, p: PendingSend): boolean {
    let receipt: Promise<Frame>;
    try {
      receipt = client.request(p.frame);
    } catch (err) {
      if (isConnectionLoss(err)) return false;
      this.settleSend(p, err as Error);
      return true;
    }
    clearTimeout(p.timer);
    p.timer = undefined;
    p.written = true;
    if (p.tx === null) this.inflight.set(p.seq, p);
    receipt.then(
      () => this.settleSend(p, null),
      // A lost connection is handled by onLost/detach (which ran first, from the 'close' event).
      (err: unknown) => { if (!isConnectionLoss(err)) this.settleSend(p, err as Error); },
    );
    return true;
  }

  private writeBegin(client: StompClient, tx: TxState): boolean {
    try {
      client.sendFrame(frame('BEGIN', { transaction: tx.id }));
    } catch (err) {
      if (isConnectionLoss(err)) return false;
      throw err;
    }
    tx.begunOn = this.generation;
    return true;
  }

  private writeCommit(client: StompClient, tx: TxState): boolean {
    const commit = tx.commit as PendingCommit;
    let receipt: Promise<Frame>;
    try {
      receipt = client.request(frame('COMMIT', { transaction: tx.id }));
    } catch (err) {
      if (isConnectionLoss(err)) return false;
      this.endTx(tx);
      commit.reject(err as Error);
      return true;
    }
    clearTimeout(commit.timer);
    commit.writtenOn = this.generation;
    receipt.then(
      () => {
        this.endTx(tx);
        commit.resolve();
      },
      (err: unknown) => {
        if (isConnectionLoss(err)) return; // in doubt: reported by detach
        this.endTx(tx);
        commit.reject(err as Error);
      },
    );
    return true;
  }

  /** Starts the `timeout` clock of a queued send or commit. */
  private armTimeout(op: Op): void {
    const ms = this.options.timeout;
    if (ms === -1) return;
    const holder = op.kind === 'send' ? op.send : op.kind === 'commit' ? op.tx.commit : null;
    if (holder === null || holder.timer !== undefined) return;
    holder.timer = setTimeout(() => this.onTimeout(op), ms);
  }

  /** [ActiveMQ failover `timeout`] the send gives up waiting for a connection; the client carries on reconnecting. */
  private onTimeout(op: Op): void {
    const i = this.outbox.indexOf(op);
    if (i === -1) return;
    const ms = this.options.timeout;
    const tx = op.kind === 'send' ? op.send.tx : op.tx;
    if (tx !== null) {
      this.failTx(tx, new StompError('STOMP_TIMEOUT', `no broker connection within ${ms} ms (failover timeout); transaction ${tx.id} was discarded before it reached a broker`));
      return;
    }
    this.outbox.splice(i, 1);
    const p = (op as { send: PendingSend }).send;
    const why = p.written
      ? `no broker connection within ${ms} ms (failover timeout) to re-send the message to ${p.destination}; its RECEIPT never came, so the broker may or may not have it`
      : `no broker connection within ${ms} ms (failover timeout); the message to ${p.destination} was not sent`;
    this.settleSend(p, new StompError('STOMP_TIMEOUT', why));
  }

  private settleSend(p: PendingSend, error: Error | null): void {
    if (p.settled) return;
    p.settled = true;
    clearTimeout(p.timer);
    this.pendingCount--;
    this.pendingBytes -= p.bytes;
    if (this.inflight.get(p.seq) === p) this.inflight.delete(p.seq);
    p.tx?.sends.delete(p);
    if (error === null) p.done.resolve();
    else p.done.reject(error);
    this.notifyChanged();
  }

  // ---- transactions ----

  private openTx(id: string): TxState {
    const tx = this.txs.get(id);
    if (tx === undefined) throw new RangeError(`transaction ${JSON.stringify(id)} is not open on this client`);
    if (tx.commit !== null) throw new RangeError(`transaction ${JSON.stringify(id)} is being committed`);
    return tx;
  }

  /**
   * The transaction cannot commit: its sends reject with `error`, a pending COMMIT too (and the
   * transaction is forgotten); otherwise it stays, failed, until commit() or abort() reports it.
   */
  private failTx(tx: TxState, error: StompError): void {
    if (tx.failure === null) tx.failure = error;
    this.dropQueuedTx(tx, error);
    const commit = tx.commit;
    if (commit !== null) {
      tx.commit = null;
      clearTimeout(commit.timer);
      this.endTx(tx);
      commit.reject(error);
    }
  }

  /** Removes the transaction's queued work; its unconfirmed sends settle (rejected with `error`, or resolved). */
  private dropQueuedTx(tx: TxState, error: Error | null): void {
    this.outbox = this.outbox.filter((op) => (op.kind === 'send' ? op.send.tx : op.tx) !== tx);
    for (const p of [...tx.sends]) this.settleSend(p, error);
  }

  private endTx(tx: TxState): void {
    if (this.txs.get(tx.id) === tx) this.txs.delete(tx.id);
  }

  // ---- the end ----

  /** Ends the client because of `error`: connect() rejects with it, or 'error' reports it; then close. */
  private fatal(error: Error): void {
    const startup = this.startup;
    this.startup = null;
    if (startup !== null) startup.reject(error);
    else this.emitError(error);
    this.finish(error);
  }

  /** Closes for good: every waiting promise settles, then 'close'. */
  private finish(error: Error | null): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.wake();
    const client = this.client;
    this.client = null;
    client?.close();
    if (error !== null) this.lastErrorValue = error;
    const closed = this.closedError('it was confirmed', error);
    for (const tx of [...this.txs.values()]) {
      const commit = tx.commit;
      if (commit?.writtenOn != null) {
        this.failTx(tx, new StompError('STOMP_TRANSACTION_IN_DOUBT', `the client closed after COMMIT of transaction ${tx.id} was sent and before the broker confirmed it`, { cause: error ?? undefined }));
      } else {
        this.failTx(tx, closed);
      }
    }
    this.txs.clear();
    const sends = [...this.inflight.values(), ...this.outbox.flatMap((op) => (op.kind === 'send' ? [op.send] : []))];
    this.inflight.clear();
    this.outbox = [];
    for (const p of sends) this.settleSend(p, closed);
    for (const sub of this.subs.values()) settleReady(sub, closed);
    this.notifyChanged();
    this.emit('close', error);
    this.resolveClosed();
  }

  // ---- small helpers ----

  private isActive(): boolean {
    return this.state !== 'closing' && this.state !== 'closed';
  }

  private assertActive(): void {
    if (!this.isActive()) throw this.closedError('this call');
  }

  private closedError(before: string, cause: Error | null = this.lastErrorValue): StompError {
    return new StompError('STOMP_CONNECTION_CLOSED', `failover client for ${this.uris.join(', ')} closed before ${before}`, { cause: cause ?? undefined });
  }

  private emitError(error: Error): void {
    this.lastErrorValue = error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  private notifyChanged(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const wake of waiters) wake();
  }

  private log(line: string): void {
    this.logLine?.(line);
  }
}

function isConnectionLoss(err: unknown): boolean {
  return err instanceof StompError && err.code === 'STOMP_CONNECTION_CLOSED';
}

function settleReady(sub: SubState, error: Error | null): void {
  const ready = sub.ready;
  if (ready === null || ready.settled) return;
  ready.settled = true;
  if (error === null) ready.resolve();
  else ready.reject(error);
}

/** About the bytes a frame holds in memory: what the pending bounds count. */
function frameBytes(f: Frame): number {
  let n = f.command.length + f.body.length;
  for (const [name, value] of f.headers) n += Buffer.byteLength(name) + Buffer.byteLength(value) + 2;
  return n;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive whole number, got ${JSON.stringify(value)}`);
  return value;
}
