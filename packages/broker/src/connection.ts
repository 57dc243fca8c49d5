/**
 * One client's STOMP session over any Transport: CONNECT negotiation, frame handling, receipts in frame
 * order, transactions, heart-beats and producer flow control. A bad frame gets an ERROR that says what
 * was wrong, then only this connection closes [STOMP 1.2: ERROR]; the broker and other clients carry on.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { FrameDecoder, encodeFrame, header, type Frame, type StompVersion } from '@mini-amq/stomp';
import type { HeaderList, StoredMessage } from '@mini-amq/store';
import { ADVISORY_REPLAY_HEADER, NETWORK_PATH_HEADER, NETWORK_SUBSCRIPTION_HEADER, parseNetworkPath, type AdvisoryReplay, type ConsumerInfo } from './advisory.js';
import type { Broker, Delivery, Outgoing } from './broker.js';
import { BrokerError, badFrame } from './errors.js';
import { formatDestination, parseDestination, parseDestinationList, type DestinationName } from './destination.js';
import { BROKER_VERSION } from './options.js';
import { producerOf } from './producer-window.js';
import type { Queue } from './queue.js';
import { compileSelector, type Selector } from './selector.js';
import { statisticsAnswer, statisticsQuery, type StatisticsQuery } from './statistics.js';
import { CONSUMER_PRIORITY_HEADER, CONSUMER_PRIORITY_MAX, CONSUMER_PRIORITY_MIN, PREFETCH_MAX, representableIn10, Subscription, type AckMode, type SubscriptionOwner, type Unacked } from './subscription.js';
import type { Transport } from './transport.js';
import { checkConcrete, checkWildcardPattern, isWildcard } from './wildcard.js';

export const SUPPORTED_VERSIONS: readonly StompVersion[] = ['1.2', '1.1', '1.0'];
/** Subscriptions one connection may hold. */
export const SUBSCRIPTIONS_PER_CONNECTION_MAX = 10_000;
/** Open transactions per connection, and frames one transaction may buffer. */
export const TRANSACTIONS_PER_CONNECTION_MAX = 100;
export const TRANSACTION_FRAMES_MAX = 100_000;
/** Bytes of SEND bodies a connection may have buffered in open transactions. */
export const TRANSACTION_BYTES_MAX = 64 * 1024 * 1024;
/** Bytes of persistent sends not yet on disk before we stop reading this producer. */
export const UNCONFIRMED_SEND_BYTES_MAX = 16 * 1024 * 1024;
/** Time a client has to send CONNECT after opening the socket. */
export const CONNECT_TIMEOUT_MS = 30_000;
/** The smallest heart-beat interval we honour, so a client cannot make us spin. */
export const HEARTBEAT_MIN_MS = 100;
/** A peer silent for this many times its promised interval is dead ([ActiveMQ hbGracePeriodMultiplier] 1.5). */
export const HEARTBEAT_GRACE_MULTIPLIER = 1.5;
/** Headers a SEND carries that describe the frame, not the message; they are not stored. */
const FRAME_ONLY_HEADERS = new Set(['destination', 'receipt', 'transaction', 'content-length', 'persistent', 'priority', 'expires', 'message-id', 'subscription', 'ack', 'redelivered', 'timestamp']);
const SERVER_NAME = `mini-amq/${BROKER_VERSION}`;

export interface ConnectionSettings {
  readonly users: ReadonlyArray<{ readonly username: string; readonly password: string }>;
  readonly maxFrameSize: number;
  readonly defaultPrefetch: number;
}

/** An ACK or NACK held by a transaction, with the subscription to give it back to on ABORT. */
interface HeldAck { readonly sub: Subscription; readonly u: Unacked }

interface Transaction {
  readonly sends: Outgoing[];
  readonly acks: HeldAck[];
  readonly nacks: HeldAck[];
  bytes: number;
  frames: number;
}

let connectionCounter = 0;

export class StompConnection implements SubscriptionOwner {
  readonly id = `${randomBytes(3).toString('hex')}${++connectionCounter}`;
  version: StompVersion = '1.0';
  private readonly decoder: FrameDecoder;
  private connected = false;
  private closing = false;
  private clientId: string | null = null;
  private readonly subscriptions = new Map<string, Subscription>();
  /** What the advisories of each subscription (durable placeholders aside) say about it. */
  private readonly consumerInfos = new WeakMap<Subscription, ConsumerInfo>();
  /** Browsers waiting for the peer to read (one transport listener serves them all). */
  private drainWaiters: Array<() => void> = [];
  /** Browser subscriptions in progress; UNSUBSCRIBE or close stops them. */
  private readonly browsers = new Map<string, { stopped: boolean }>();
  private readonly ackIds = new Map<string, { sub: Subscription; messageId: string }>();
  private ackCounter = 0;
  private readonly transactions = new Map<string, Transaction>();
  /** Receipts leave in frame order: each waits for the work of every earlier frame. */
  private receiptChain: Promise<void> = Promise.resolve();
  /** Subscriptions whose SUBSCRIBE asked for a receipt, held until it is written (see holdForReceipt). */
  private readonly heldForReceipt = new WeakMap<Frame, Subscription>();
  private unconfirmedBytes = 0;
  private readonly pauseReasons = new Set<string>();
  private lastReadAt = Date.now();
  private lastWriteAt = Date.now();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null;
  private readonly log: Logger;

  constructor(
    private readonly broker: Broker,
    private readonly transport: Transport,
    private readonly settings: ConnectionSettings,
    log: Logger,
    private readonly onClosed: (c: StompConnection) => void,
  ) {
    this.log = log.child({ connection: this.id, remote: transport.remoteAddress });
    this.decoder = new FrameDecoder({ frameBytesMax: settings.maxFrameSize });
    transport.onData((chunk) => {
      if (this.closing) return; // after an ERROR or DISCONNECT the rest is discarded
      this.lastReadAt = Date.now();
      this.decoder.push(chunk);
      this.pump();
    });
    transport.onDrain(() => {
      for (const s of this.subscriptions.values()) s.queue.scheduleDispatch();
      const waiting = this.drainWaiters;
      this.drainWaiters = [];
      for (const resume of waiting) resume();
    });
    transport.onClose(() => this.cleanup());
    this.connectTimer = setTimeout(() => this.fail(badFrame(`no CONNECT frame within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    this.connectTimer.unref();
  }

  get writable(): boolean { return this.transport.writable; }

  write(bytes: Buffer): void {
    this.lastWriteAt = Date.now();
    this.transport.write(bytes);
  }

  private send(frame: Frame): void {
    // STOMP 1.0 has no escaping: a header it cannot carry (a 1.0 client's receipt ending in CR, echoed
    // back) is left out, since the encoder would throw and the RECEIPT or ERROR would never go out.
    const f = this.version === '1.0' ? { ...frame, headers: frame.headers.filter(representableIn10) } : frame;
    this.write(encodeFrame(f, this.version));
  }

  // ---- reading ------------------------------------------------------------------------------

  private pump(): void {
    while (this.pauseReasons.size === 0 && !this.closing) {
      let frame;
      try {
        frame = this.decoder.next();
      } catch (err) {
        this.failAfterReceipts(err);
        return;
      }
      if (frame === null) return;
      if (frame.command === null) continue; // a heart-beat EOL
      try {
        this.handle(frame as Frame);
      } catch (err) {
        this.failAfterReceipts(err, frame as Frame);
        return;
      }
    }
  }

  private pauseReading(reason: string): void {
    if (this.pauseReasons.size === 0) this.transport.pause();
    this.pauseReasons.add(reason);
  }

  private resumeReading(reason: string): void {
    if (!this.pauseReasons.delete(reason) || this.pauseReasons.size > 0 || this.closing) return;
    this.transport.resume();
    queueMicrotask(() => this.pump());
  }

  private handle(frame: Frame): void {
    if (!this.connected) {
      if (frame.command !== 'CONNECT' && frame.command !== 'STOMP') {
        throw badFrame(`expected CONNECT or STOMP as the first frame, got ${frame.command}`);
      }
      this.connect(frame);
      return;
    }
    let work: Promise<void> | void = undefined;
    switch (frame.command) {
      case 'SEND': work = this.onSend(frame); break;
      case 'SUBSCRIBE': case 'SUB': work = this.onSubscribe(frame); break;
      case 'UNSUBSCRIBE': case 'UNSUB': work = this.onUnsubscribe(frame); break;
      case 'ACK': this.onAck(frame, false); break;
      case 'NACK': this.onAck(frame, true); break;
      case 'BEGIN': this.onBegin(frame); break;
      case 'COMMIT': work = this.onCommit(frame); break;
      case 'ABORT': this.onAbort(frame); break;
      case 'DISCONNECT': this.onDisconnect(frame); return;
      case 'CONNECT': case 'STOMP': throw badFrame('already connected: a second CONNECT is not allowed');
      default: throw new BrokerError('BROKER_UNKNOWN_COMMAND', `unknown STOMP command "${frame.command.slice(0, 64)}"`);
    }
    this.afterWork(frame, work);
  }

  /** Chains the frame's work into the receipt order; a failure there fails the connection. */
  private afterWork(frame: Frame, work: Promise<void> | void): void {
    const receipt = header(frame, 'receipt');
    if (work === undefined && receipt === undefined) return;
    const done = work ?? Promise.resolve();
    this.receiptChain = this.receiptChain
      .then(() => done)
      .then(
        () => {
          if (receipt !== undefined && !this.closing) this.send({ command: 'RECEIPT', headers: [['receipt-id', receipt]], body: Buffer.alloc(0) });
          this.heldForReceipt.get(frame)?.release();
        },
        (err) => this.fail(err, frame),
      );
  }

  /**
   * A bad frame (or undecodable bytes): stop reading at once, but send the ERROR only after the RECEIPTs
   * of the frames before it, which were handled; sent at once it would overtake them and, since the
   * connection is then closing, they would never go out.
   */
  private failAfterReceipts(err: unknown, frame?: Frame): void {
    this.pauseReading('failed');
    const failNow = (): void => this.fail(err, frame);
    this.receiptChain = this.receiptChain.then(failNow, failNow);
  }

  /** [ActiveMQ ProtocolConverter] a SUBSCRIBE with a receipt delivers nothing before its RECEIPT. */
  private holdForReceipt(frame: Frame, sub: Subscription): void {
    if (header(frame, 'receipt') === undefined) return;
    sub.held = true;
    this.heldForReceipt.set(frame, sub);
  }

  // ---- CONNECT ------------------------------------------------------------------------------

  private connect(frame: Frame): void {
    const accept = header(frame, 'accept-version');
    let version: StompVersion = '1.0';
    if (accept !== undefined) {
      const offered = accept.split(',').map((v) => v.trim());
      const common = SUPPORTED_VERSIONS.find((v) => offered.includes(v));
      if (common === undefined) {
        // [STOMP 1.2: Protocol Negotiation] the ERROR carries the versions we do support.
        const body = Buffer.from(`client offered accept-version:${accept}`);
        this.send({ command: 'ERROR', headers: [['version', SUPPORTED_VERSIONS.slice().reverse().join(',')], ['content-type', 'text/plain'], ['content-length', String(body.length)], ['message', `Supported protocol versions are ${SUPPORTED_VERSIONS.slice().reverse().join(',')}`]], body });
        this.close();
        return;
      }
      version = common;
    }
    // Frames after CONNECT are read with the negotiated escaping at once (a client may pipeline them),
    // but we write with it only from CONNECTED on: an ERROR refusing this CONNECT goes to a client
    // that has not learnt the version, so it must not be escaped [STOMP 1.2: Value Encoding].
    this.decoder.version = version;

    if (this.settings.users.length > 0) {
      const login = header(frame, 'login') ?? '';
      const passcode = header(frame, 'passcode') ?? '';
      const ok = this.settings.users.some((u) => u.username === login && u.password === passcode);
      if (!ok) throw new BrokerError('BROKER_AUTH_FAILED', `User name [${login}] or password is invalid.`);
    }
    const clientId = header(frame, 'client-id');
    if (clientId !== undefined && clientId !== '') {
      this.broker.claimClientId(clientId, this.id, this.transport.remoteAddress);
      this.clientId = clientId;
    }
    if (this.connectTimer !== null) { clearTimeout(this.connectTimer); this.connectTimer = null; }
    this.connected = true;
    const headers: Array<[string, string]> = [];
    if (accept !== undefined) headers.push(['version', version]);
    headers.push(['server', SERVER_NAME], ['session', `ID:${this.broker.settings.brokerName}-${this.id}`]);
    if (version !== '1.0') headers.push(['heart-beat', this.startHeartbeats(header(frame, 'heart-beat'))]);
    this.version = version;
    this.send({ command: 'CONNECTED', headers, body: Buffer.alloc(0) });
    this.log.debug({ version, clientId }, 'connected');
  }

  /**
   * [STOMP 1.2: Heart-beating] we send every max(sx, cy) and expect bytes every max(cx, sy); we offer to
   * send as often as the client asks (sx = cy) and to accept what it offers (sy = cx), floored.
   */
  private startHeartbeats(value: string | undefined): string {
    let cx = 0, cy = 0;
    if (value !== undefined) {
      const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(value);
      if (m === null) throw badFrame(`heart-beat header must be "cx,cy" with two non-negative integers, got "${value}"`);
      cx = Number(m[1]); cy = Number(m[2]);
    }
    const sendEvery = cy === 0 ? 0 : Math.max(cy, HEARTBEAT_MIN_MS);
    const expectEvery = cx === 0 ? 0 : Math.max(cx, HEARTBEAT_MIN_MS);
    if (sendEvery > 0 || expectEvery > 0) {
      const tick = Math.max(HEARTBEAT_MIN_MS / 2, Math.min(...[sendEvery, expectEvery].filter((x) => x > 0)) / 2);
      this.heartbeatTimer = setInterval(() => {
        const now = Date.now();
        // While we are not reading (flow control) the peer's heart-beats wait unread in the socket: a
        // peer we stopped listening to cannot be judged silent, and gets a full interval once we resume.
        if (this.pauseReasons.size > 0) this.lastReadAt = now;
        if (expectEvery > 0 && now - this.lastReadAt > expectEvery * HEARTBEAT_GRACE_MULTIPLIER) {
          this.fail(new BrokerError('BROKER_HEARTBEAT_TIMEOUT', `no data from the client for ${now - this.lastReadAt} ms (heart-beat ${expectEvery} ms)`));
          return;
        }
        if (sendEvery > 0 && now - this.lastWriteAt >= sendEvery) this.write(Buffer.from('\n'));
      }, tick);
      this.heartbeatTimer.unref();
    }
    return `${sendEvery},${expectEvery}`;
  }

  // ---- SEND ---------------------------------------------------------------------------------

  private onSend(frame: Frame): Promise<void> | void {
    const destinationText = required(frame, 'destination');
    const destinations = parseDestinationList(destinationText, this.id);
    const queries = destinations.map(statisticsQuery);
    if (queries.some((q) => q !== null)) {
      if (destinations.length > 1) throw badFrame(`a statistics destination cannot be part of a composite destination (${destinationText.slice(0, 256)})`);
      this.answerStatistics(frame, destinationText, queries[0]!);
      return;
    }
    for (const d of destinations) checkConcrete(d, 'SEND to');
    const persistent = header(frame, 'persistent') === 'true';
    const priority = intHeader(frame, 'priority', 4, 0, 9);
    const expires = intHeader(frame, 'expires', 0, 0, Number.MAX_SAFE_INTEGER);
    const headers: HeaderList = [];
    const seen = new Set<string>();
    for (const [k, v] of frame.headers) {
      // [STOMP 1.2: Repeated Header Entries] only the first occurrence counts.
      if (FRAME_ONLY_HEADERS.has(k) || seen.has(k)) continue;
      seen.add(k);
      headers.push([k, k === 'reply-to' ? this.globalReplyTo(v) : v]);
    }
    const message: StoredMessage = {
      messageId: this.broker.newMessageId(),
      destination: destinations.length === 1 ? formatDestination(destinations[0]!) : destinationText,
      headers, body: frame.body, priority, expires, timestamp: Date.now(),
    };
    // Stored with the message, headers and all: a network bridge forwards them so the next broker de-duplicates too.
    const outgoing: Outgoing = { destinations, message, persistent, producer: producerOf(headers) };
    const tx = this.transactionOf(frame);
    if (tx !== null) {
      tx.bytes += frame.body.length;
      tx.frames++;
      if (tx.bytes > TRANSACTION_BYTES_MAX || tx.frames > TRANSACTION_FRAMES_MAX) {
        throw new BrokerError('BROKER_LIMIT_EXCEEDED', `transaction exceeds ${TRANSACTION_FRAMES_MAX} frames or ${TRANSACTION_BYTES_MAX} bytes`);
      }
      // Fail now, not at COMMIT, when a destination cannot be used.
      for (const d of destinations) this.checkUsable(d);
      tx.sends.push(outgoing);
      return;
    }
    const { durable, queues } = this.broker.commit([outgoing], [], this.id);
    this.applyFlowControl(queues);
    if (!persistent) return;
    return this.trackUnconfirmed(frame.body.length, durable);
  }

  /**
   * A SEND to a statistics destination (statistics.ts) is a question, not a message: the answer goes at
   * once, non-persistent, to its reply-to, routed as any message so a temporary queue works. It is a read,
   * so a `transaction` header does not hold it back.
   */
  private answerStatistics(frame: Frame, requested: string, query: StatisticsQuery): void {
    const replyTo = header(frame, 'reply-to');
    if (replyTo === undefined || replyTo === '') {
      throw badFrame(`a SEND to ${requested.slice(0, 256)} asks for statistics and needs a reply-to header naming the destination to answer to`);
    }
    const to = parseDestination(replyTo, this.id);
    if (statisticsQuery(to) !== null) throw badFrame(`reply-to ${replyTo.slice(0, 256)} is itself a statistics destination`);
    checkConcrete(to, 'answer statistics to the reply-to');
    const headers: HeaderList = [['content-type', 'application/json']];
    // [JMS request/reply] the answer carries the request's correlation-id, so a client can match them.
    const correlationId = header(frame, 'correlation-id');
    if (correlationId !== undefined) headers.push(['correlation-id', correlationId]);
    const message: StoredMessage = {
      messageId: this.broker.newMessageId(), destination: formatDestination(to), headers,
      body: statisticsAnswer(this.broker, query, Date.now()), priority: 4, expires: 0, timestamp: Date.now(),
    };
    this.broker.commit([{ destinations: [to], message, persistent: false }], [], this.id);
  }

  private checkUsable(d: DestinationName): void {
    if (d.kind === 'queue' || d.kind === 'temp-queue') this.broker.queue(d, this.id);
  }

  /** A reply-to naming our own temporary destination is rewritten to the form other clients can use. */
  private globalReplyTo(value: string): string {
    if (!value.startsWith('/temp-queue/') && !value.startsWith('/temp-topic/')) return value;
    try {
      return formatDestination(parseDestination(value, this.id));
    } catch {
      return value;
    }
  }

  /** Producer flow control: stop reading while a destination we wrote to is over its memory limit. */
  private applyFlowControl(queues: readonly Queue[]): void {
    for (const q of queues) {
      if (!q.full) continue;
      const reason = `full:${q.destination}`;
      if (this.pauseReasons.has(reason)) continue;
      this.log.debug({ destination: q.destination }, 'producer flow control: destination memory limit reached');
      this.pauseReading(reason);
      q.whenSpace(() => this.resumeReading(reason));
    }
  }

  private trackUnconfirmed(bytes: number, durable: Promise<void>): Promise<void> {
    this.unconfirmedBytes += bytes;
    if (this.unconfirmedBytes > UNCONFIRMED_SEND_BYTES_MAX) this.pauseReading('unconfirmed');
    return durable.finally(() => {
      this.unconfirmedBytes -= bytes;
      if (this.unconfirmedBytes <= UNCONFIRMED_SEND_BYTES_MAX / 2) this.resumeReading('unconfirmed');
    });
  }

  // ---- SUBSCRIBE / UNSUBSCRIBE --------------------------------------------------------------

  private onSubscribe(frame: Frame): Promise<void> | void {
    const destinationText = required(frame, 'destination');
    // [STOMP 1.2: SUBSCRIBE] id is required from 1.1 on; a 1.0 client is identified by its destination.
    const id = this.version === '1.0' ? (header(frame, 'id') ?? destinationText) : required(frame, 'id');
    if (this.subscriptions.has(id) || this.browsers.has(id)) throw new BrokerError('BROKER_DUPLICATE_SUBSCRIPTION', `subscription id "${id}" is already in use on this connection`);
    if (this.subscriptions.size >= SUBSCRIPTIONS_PER_CONNECTION_MAX) throw new BrokerError('BROKER_LIMIT_EXCEEDED', `a connection may hold at most ${SUBSCRIPTIONS_PER_CONNECTION_MAX} subscriptions`);
    const d = parseDestination(destinationText, this.id);
    this.broker.checkTempConsumer(d, this.id);
    if (isWildcard(d.name)) {
      // Queues would need a consumer spread over many queues, with ordering and acks across them: not yet.
      if (d.kind !== 'topic') throw new BrokerError('BROKER_BAD_DESTINATION', `wildcard subscriptions are supported on topics only (got ${destinationText.slice(0, 256)})`);
      checkWildcardPattern(destinationText, d.name);
    }
    const consumer = this.consumerInfoOf(frame, id, d);
    const ackText = header(frame, 'ack') ?? 'auto';
    if (ackText !== 'auto' && ackText !== 'client' && ackText !== 'client-individual') {
      throw badFrame(`ack must be auto, client or client-individual, got "${ackText}"`);
    }
    const ackMode: AckMode = ackText;
    const selectorText = header(frame, 'selector');
    const selector = selectorText === undefined || selectorText.trim() === '' ? null : compileSelector(selectorText);
    const durableName = header(frame, 'activemq.subscriptionName') ?? header(frame, 'durable-subscription-name');
    const isTopic = d.kind === 'topic' || d.kind === 'temp-topic';
    const prefetch = this.prefetchOf(frame, isTopic, durableName !== undefined);
    const priority = intHeader(frame, CONSUMER_PRIORITY_HEADER, 0, CONSUMER_PRIORITY_MIN, CONSUMER_PRIORITY_MAX);
    const replay = advisoryReplayOf(frame);

    if (header(frame, 'browser') === 'true') {
      if (isTopic) throw badFrame('browser:true works on queues only');
      return this.browse(id, destinationText, d, selector);
    }
    if (!isTopic) {
      if (durableName !== undefined) throw badFrame(`activemq.subscriptionName makes a durable topic subscription; ${destinationText} is a queue`);
      const queue = this.broker.queue(d, this.id);
      const sub = new Subscription(id, destinationText, d, ackMode, prefetch, selector, queue, null, this, priority);
      this.holdForReceipt(frame, sub);
      this.subscriptions.set(id, sub);
      queue.addConsumer(sub);
      this.consumerAdded(sub, consumer);
      return;
    }
    const noLocal = header(frame, 'activemq.noLocal') === 'true';
    if (durableName === undefined) {
      const topicSub = this.broker.subscribeTopic(d, selector, this.id, noLocal);
      const sub = new Subscription(id, destinationText, d, ackMode, prefetch, null, topicSub.queue, topicSub, this, priority);
      this.holdForReceipt(frame, sub);
      this.subscriptions.set(id, sub);
      topicSub.queue.addConsumer(sub);
      this.broker.replayAdvisories(d, topicSub, replay);
      this.consumerAdded(sub, consumer);
      return;
    }
    if (this.clientId === null) throw badFrame('a durable subscription (activemq.subscriptionName) needs a client-id header on CONNECT');
    if (d.kind !== 'topic') throw badFrame('durable subscriptions work on /topic/ destinations only');
    // Reserve the id now so frames that follow see it; the store write finishes before the receipt.
    const placeholder = new Subscription(id, destinationText, d, ackMode, prefetch, null, null as unknown as Queue, null, this);
    this.subscriptions.set(id, placeholder);
    return this.broker.activateDurable(this.clientId, durableName, d, selector).then((topicSub) => {
      if (this.subscriptions.get(id) !== placeholder || this.closing) { this.broker.deactivateDurable(topicSub); return; }
      const sub = new Subscription(id, destinationText, d, ackMode, prefetch, null, topicSub.queue, topicSub, this, priority);
      this.holdForReceipt(frame, sub);
      this.subscriptions.set(id, sub);
      topicSub.queue.addConsumer(sub);
      this.broker.replayAdvisories(d, topicSub, replay);
      this.consumerAdded(sub, consumer);
    }, (err) => {
      this.subscriptions.delete(id);
      throw err;
    });
  }

  /**
   * The consumer a SUBSCRIBE makes, as advisories describe it. A bridge marks its own with
   * `activemq.networkSubscription:true` and the brokers its demand came through (`amq-network-path`),
   * so that other bridges can tell network demand from local demand and not echo it back.
   */
  private consumerInfoOf(frame: Frame, id: string, d: DestinationName): ConsumerInfo {
    const network = header(frame, NETWORK_SUBSCRIPTION_HEADER);
    if (network !== undefined && network !== 'true' && network !== 'false') {
      throw badFrame(`${NETWORK_SUBSCRIPTION_HEADER} must be true or false, got "${network.slice(0, 64)}"`);
    }
    const path = header(frame, NETWORK_PATH_HEADER);
    return {
      // The CONNECTED frame's session id, then the subscription's: unique in this broker's lifetime.
      consumerId: `ID:${this.broker.settings.brokerName}-${this.id}:${id}`,
      destination: d,
      network: network === 'true',
      networkPath: path === undefined ? null : parseNetworkPath(path),
    };
  }

  /** Counts the consumer and advises it; a full advisory subscriber slows this connection, as a producer. */
  private consumerAdded(sub: Subscription, consumer: ConsumerInfo): void {
    this.consumerInfos.set(sub, consumer);
    this.applyFlowControl(this.broker.consumerAdded(this.id, consumer));
  }

  private prefetchOf(frame: Frame, isTopic: boolean, durable: boolean): number {
    // ActiveMQ's header first; RabbitMQ's `prefetch-count` accepted so its clients need no change.
    const text = header(frame, 'activemq.prefetchSize') ?? header(frame, 'prefetch-count');
    if (text === undefined) {
      // [ActiveMQPrefetchPolicy] queue 1000, durable topic 100, topic MAX_PREFETCH_SIZE.
      if (!isTopic) return this.settings.defaultPrefetch;
      return durable ? 100 : PREFETCH_MAX;
    }
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > PREFETCH_MAX) {
      throw badFrame(`activemq.prefetchSize must be an integer from 1 to ${PREFETCH_MAX} (prefetch 0 is not supported over STOMP), got "${text}"`);
    }
    return n;
  }

  /** [ActiveMQ stomp.md: browser] every message as a MESSAGE frame, then one with `browser:end`. */
  private async browse(id: string, destinationText: string, d: DestinationName, selector: Selector | null): Promise<void> {
    const queue = this.broker.queue(d, this.id);
    const browser = { stopped: false };
    this.browsers.set(id, browser);
    try {
      for await (const m of queue.browse()) {
        if (this.closing || browser.stopped) return;
        if (selector !== null && !this.broker.selectorAccepts(selector, m)) continue;
        const frame = encodeFrame({
          command: 'MESSAGE',
          headers: [['subscription', id], ['message-id', m.message.messageId], ['destination', m.message.destination], ['browser', 'true'],
            ['persistent', String(m.persistent)], ['priority', String(m.message.priority)], ['timestamp', String(m.message.timestamp)],
            ['expires', String(m.message.expires)], ...m.message.headers, ['content-length', String(m.message.body.length)]],
          body: m.message.body,
        }, this.version);
        this.write(frame);
        if (!this.transport.writable) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
      }
      this.send({ command: 'MESSAGE', headers: [['subscription', id], ['message-id', 'browser-end'], ['destination', destinationText], ['browser', 'end'], ['content-length', '0']], body: Buffer.alloc(0) });
    } finally {
      if (this.browsers.get(id) === browser) this.browsers.delete(id);
    }
  }

  private onUnsubscribe(frame: Frame): Promise<void> | void {
    const id = header(frame, 'id') ?? (this.version === '1.0' ? header(frame, 'destination') : undefined);
    const durableName = header(frame, 'activemq.subscriptionName') ?? header(frame, 'durable-subscription-name');
    if (id === undefined) {
      if (durableName !== undefined && this.clientId !== null) return this.removeDurable(durableName);
      throw badFrame('UNSUBSCRIBE needs an id header');
    }
    const browser = this.browsers.get(id);
    if (browser !== undefined) { browser.stopped = true; this.browsers.delete(id); return; }
    const sub = this.subscriptions.get(id);
    if (sub === undefined) {
      if (durableName !== undefined && this.clientId !== null) return this.removeDurable(durableName);
      throw new BrokerError('BROKER_UNKNOWN_SUBSCRIPTION', `no subscription with id "${id}" on this connection`);
    }
    this.applyFlowControl(this.dropSubscription(sub));
    if (durableName !== undefined && this.clientId !== null) return this.removeDurable(durableName);
  }

  private async removeDurable(name: string): Promise<void> {
    await this.broker.removeDurable(this.clientId!, name);
  }

  /** Detaches a subscription; returns the advisory subscribers' queues its ConsumerRemoved went to. */
  private dropSubscription(sub: Subscription): Queue[] {
    this.subscriptions.delete(sub.id);
    if (sub.queue === null) return []; // a durable subscription still being created
    const unacked = sub.close();
    sub.queue.removeConsumer(sub, unacked);
    if (sub.topicSubscription !== null) {
      if (sub.topicSubscription.durable === null) this.broker.unsubscribeTopic(sub.destination, sub.topicSubscription);
      else this.broker.deactivateDurable(sub.topicSubscription);
    }
    const consumer = this.consumerInfos.get(sub);
    if (consumer === undefined) return [];
    this.consumerInfos.delete(sub);
    return this.broker.consumerRemoved(this.id, consumer);
  }

  // ---- ACK / NACK ---------------------------------------------------------------------------

  newAckId(sub: Subscription, messageId: string): string {
    const ackId = `${this.id}-${++this.ackCounter}`;
    this.ackIds.set(ackId, { sub, messageId });
    return ackId;
  }

  forgetAckId(ackId: string): void {
    this.ackIds.delete(ackId);
  }

  autoAck(delivery: Delivery): void {
    this.broker.acknowledge([delivery]);
  }

  private onAck(frame: Frame, negative: boolean): void {
    const command = negative ? 'NACK' : 'ACK';
    if (negative && this.version === '1.0') throw badFrame('NACK is not part of STOMP 1.0; connect with accept-version:1.1 or 1.2');
    const { sub, deliveries } = this.findDeliveries(frame, command);
    const tx = this.transactionOf(frame);
    if (tx !== null) {
      for (const u of deliveries) (negative ? tx.nacks : tx.acks).push({ sub, u });
      return;
    }
    if (negative) this.broker.negativeAcknowledge(deliveries);
    else this.broker.acknowledge(deliveries);
  }

  private findDeliveries(frame: Frame, command: string): { sub: Subscription; deliveries: Unacked[] } {
    let sub: Subscription | undefined;
    let messageId: string | undefined;
    if (this.version === '1.2') {
      const ackId = required(frame, 'id');
      const found = this.ackIds.get(ackId);
      if (found === undefined) throw new BrokerError('BROKER_UNKNOWN_ACK', `${command} for unknown ack id "${ackId}" (never delivered, or already acked)`);
      sub = found.sub; messageId = found.messageId;
    } else {
      messageId = required(frame, 'message-id');
      const subId = header(frame, 'subscription');
      if (subId !== undefined) sub = this.subscriptions.get(subId);
      else for (const s of this.subscriptions.values()) if (s.unacked.has(messageId)) { sub = s; break; }
      if (sub === undefined) throw new BrokerError('BROKER_UNKNOWN_ACK', `${command} for message-id "${messageId}" that no subscription of this connection holds unacked`);
    }
    if (sub.ackMode === 'auto') throw badFrame(`${command} on subscription "${sub.id}", which uses ack:auto`);
    const taken = sub.take(messageId);
    if (taken === null) throw new BrokerError('BROKER_UNKNOWN_ACK', `${command} for message-id "${messageId}" which is not unacked on subscription "${sub.id}"`);
    return { sub, deliveries: taken };
  }

  // ---- transactions -------------------------------------------------------------------------

  private transactionOf(frame: Frame): Transaction | null {
    const id = header(frame, 'transaction');
    if (id === undefined) return null;
    const tx = this.transactions.get(id);
    if (tx === undefined) throw new BrokerError('BROKER_UNKNOWN_TRANSACTION', `transaction "${id}" was not begun (or already ended) on this connection`);
    return tx;
  }

  private onBegin(frame: Frame): void {
    const id = required(frame, 'transaction');
    if (this.transactions.has(id)) throw new BrokerError('BROKER_DUPLICATE_TRANSACTION', `transaction "${id}" is already open`);
    if (this.transactions.size >= TRANSACTIONS_PER_CONNECTION_MAX) throw new BrokerError('BROKER_LIMIT_EXCEEDED', `at most ${TRANSACTIONS_PER_CONNECTION_MAX} open transactions per connection`);
    this.transactions.set(id, { sends: [], acks: [], nacks: [], bytes: 0, frames: 0 });
  }

  /** COMMIT: all sends and acks of the transaction land in one atomic store append. */
  private onCommit(frame: Frame): Promise<void> {
    const id = required(frame, 'transaction');
    const tx = this.transactions.get(id);
    if (tx === undefined) throw new BrokerError('BROKER_UNKNOWN_TRANSACTION', `COMMIT of transaction "${id}", which was not begun (or already ended)`);
    this.transactions.delete(id);
    const { durable, queues } = this.broker.commit(tx.sends, tx.acks.map((h) => h.u), this.id);
    if (tx.nacks.length > 0) this.broker.negativeAcknowledge(tx.nacks.map((h) => h.u));
    this.applyFlowControl(queues);
    return durable;
  }

  private onAbort(frame: Frame): void {
    const id = required(frame, 'transaction');
    const tx = this.transactions.get(id);
    if (tx === undefined) throw new BrokerError('BROKER_UNKNOWN_TRANSACTION', `ABORT of transaction "${id}", which was not begun (or already ended)`);
    this.transactions.delete(id);
    this.restoreAcks(tx);
  }

  /** Aborted acks make their messages unacked again on their subscriptions (ActiveMQ restores ack ids). */
  private restoreAcks(tx: Transaction): void {
    for (const { sub, u } of [...tx.acks, ...tx.nacks]) {
      if (!sub.closed) {
        sub.restore([u]);
        this.ackIds.set(u.ackId, { sub, messageId: u.m.message.messageId });
      } else {
        u.queue.requeue(u.m);
      }
    }
  }

  // ---- DISCONNECT, errors, cleanup ----------------------------------------------------------

  private onDisconnect(frame: Frame): void {
    const receipt = header(frame, 'receipt');
    this.pauseReading('disconnect');
    // [STOMP 1.2: DISCONNECT] the receipt confirms every earlier frame was handled.
    this.receiptChain.then(() => {
      if (receipt !== undefined) this.send({ command: 'RECEIPT', headers: [['receipt-id', receipt]], body: Buffer.alloc(0) });
      this.close();
    }, () => this.close());
  }

  /** Sends an ERROR naming the problem, then closes this connection only. */
  fail(err: unknown, frame?: Frame): void {
    if (this.closing) return;
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: string }).code ?? 'BROKER_INTERNAL';
    const expected = typeof code === 'string' && (code.startsWith('BROKER_') || code.startsWith('STOMP_'));
    if (expected) this.log.info({ code, reason: message }, 'closing connection after a bad frame');
    else this.log.error({ err }, 'closing connection after an internal error');
    const headers: Array<[string, string]> = [['message', message.replace(/[\r\n]+/g, ' ')], ['content-type', 'text/plain']];
    const receipt = frame === undefined ? undefined : header(frame, 'receipt');
    if (receipt !== undefined) headers.push(['receipt-id', receipt]);
    const text = frame === undefined ? `${code}: ${message}` : `${code}: ${message}\n(in response to a ${frame.command.slice(0, 64)} frame)`;
    const body = Buffer.from(text);
    // [STOMP 1.2: ERROR] "SHOULD include a content-length header and a content-type header if a body is present".
    headers.push(['content-length', String(body.length)]);
    this.send({ command: 'ERROR', headers, body });
    this.close();
  }

  /** Flushes what was written and closes; cleanup runs when the transport reports the close. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.transport.end();
    // Reading may be paused (ERROR, DISCONNECT, flow control); read on, discarding, so the peer's FIN is
    // seen and the socket closes now rather than holding a connection slot until the timer below.
    if (this.pauseReasons.size > 0) this.transport.resume();
    // A peer that never reads must not keep the socket (and its buffers) alive.
    setTimeout(() => this.transport.destroy(), 5_000).unref();
  }

  /** Broker shutdown: close without an ERROR. */
  shutdown(): void {
    this.close();
  }

  private cleanedUp = false;
  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.closing = true;
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    for (const tx of this.transactions.values()) this.restoreAcks(tx);
    this.transactions.clear();
    for (const b of this.browsers.values()) b.stopped = true;
    // A browser waiting for the peer to read wakes, sees it is stopped and ends.
    for (const resume of this.drainWaiters.splice(0)) resume();
    for (const sub of [...this.subscriptions.values()]) this.dropSubscription(sub);
    if (this.clientId !== null) this.broker.releaseClientId(this.clientId, this.id);
    this.broker.dropTemporaries(this.id);
    this.onClosed(this);
  }
}

/** `amq-advisory-replay` (advisory.ts): how a new advisory subscriber is told the consumers that exist. */
function advisoryReplayOf(frame: Frame): AdvisoryReplay {
  const value = header(frame, ADVISORY_REPLAY_HEADER);
  if (value === undefined || value === 'destination') return 'destination';
  if (value === 'consumer') return 'consumer';
  throw badFrame(`${ADVISORY_REPLAY_HEADER} must be destination or consumer, got "${value.slice(0, 64)}"`);
}

function required(frame: Frame, name: string): string {
  const v = header(frame, name);
  if (v === undefined || v === '') throw badFrame(`${frame.command} frame has no ${name} header`);
  return v;
}

function intHeader(frame: Frame, name: string, fallback: number, min: number, max: number): number {
  const v = header(frame, name);
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw badFrame(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}
