/**
 * The broker proper: destinations, routing, atomic commits to the store, acks, redelivery and the DLQ,
 * durable subscriptions, wildcard topic subscriptions, temporary destinations and consumer advisories.
 * It knows nothing of sockets (connection.ts) or of replication and bridges, which plug into its store,
 * its events and its advisory topics.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { DurableSubscription, LogEntry, MessageKey, Store, StoredMessage } from '@mini-amq/store';
import { BrokerError } from './errors.js';
import { advisoryContent, consumerAdvisoryTopic, ConsumerRegistry, isAdvised, wantsAdvisoryReplay, type AdvisoryReplay, type AdvisoryType, type ConsumerCounts, type ConsumerInfo } from './advisory.js';
import { formatDestination, type DestinationName } from './destination.js';
import { queued, type QueuedMessage } from './message.js';
import { ProducerWindow, PRODUCERS_TRACKED_MAX, type ProducerRef, type TrackedProducer } from './producer-window.js';
import { Queue, type QueueHost, type QueueStats } from './queue.js';
import type { HeaderLookup, Selector } from './selector.js';
import { checkConcrete, isWildcard, matchesWildcard, WILDCARD_SUBSCRIPTIONS_MAX, WildcardIndex } from './wildcard.js';

/** Distinct destinations one broker keeps at once; a client creating names without end hits this. */
export const DESTINATIONS_MAX = 100_000;
/** Auto-ack removals collected before one store append (they also go out once per microtask). */
export const REMOVE_BATCH_ENTRIES_MAX = 4096;

export interface ResolvedBrokerSettings {
  readonly brokerName: string;
  readonly maximumRedeliveries: number;
  readonly deadLetterQueue: string;
  readonly destinationMemoryLimit: number;
  /** Producers whose de-duplication window is kept (ActiveMQ's name); default PRODUCERS_TRACKED_MAX. */
  readonly maxFailoverProducersToTrack?: number;
  /** See BrokerOptions.concurrentStoreAndDispatchQueues; default true. */
  readonly concurrentStoreAndDispatchQueues?: boolean;
}

/** One message to route, as a SEND produced it. */
export interface Outgoing {
  readonly destinations: readonly DestinationName[];
  readonly message: StoredMessage;
  readonly persistent: boolean;
  /** Its producer and seq (amq-producer-* headers) when it has them: a send already accepted is dropped. */
  readonly producer?: ProducerRef | null;
}

/** What the wiring around the broker knows and the broker does not (answered on the statistics destination). */
export interface BrokerDescription {
  /** 'standalone' without replication; a replication group's master or slave otherwise. */
  readonly role: 'standalone' | 'master' | 'slave';
  /** The replication group's name, or null. */
  readonly group: string | null;
  /** Open client connections. */
  readonly connections: number;
  readonly stompPort: number | null;
  readonly wsPort: number | null;
  /** What the embedding replication shell reports (role, log position, slaves), passed on as it is. */
  readonly replication?: ReplicationDescription;
  /** The network bridges the embedding binary runs (one object each), passed on as they are. */
  readonly network?: ReadonlyArray<object>;
}

/** A replication member's report for status pages; the broker only carries it. */
export interface ReplicationDescription {
  readonly node: string;
  readonly role: string;
  readonly epoch: number;
  readonly position: { readonly epoch: number; readonly index: number };
  readonly commitIndex: number;
  readonly applied: number;
  readonly members: number;
  readonly detail: string;
  readonly slaves: ReadonlyArray<{ readonly node: string; readonly state: string; readonly match: number; readonly durable: number }>;
}

/** A delivered message and the queue it came from: what an ACK or NACK refers to. */
export interface Delivery {
  readonly queue: Queue;
  readonly m: QueuedMessage;
}

/** A topic subscription: its private queue, with the selector applied when copies are routed. */
export interface TopicSubscription {
  readonly queue: Queue;
  readonly selector: Selector | null;
  readonly durable: DurableSubscription | null;
  /** Connection id to skip for `activemq.noLocal`, or null. */
  readonly noLocalConnection: string | null;
}

interface DurableState {
  readonly record: DurableSubscription;
  readonly sub: TopicSubscription;
  active: boolean;
}

/** Consumer events ('consumer-added', 'consumer-removed'): the consumer and its destination's counts after the change. */
export interface ConsumerEvent {
  /** The STOMP destination, e.g. `/queue/orders` (a temporary one in its `/remote-temp-…` form). */
  readonly destination: string;
  readonly connection: string;
  readonly consumer: ConsumerInfo;
  /** Null for destinations that are not advised (temporary, advisory and statistics ones). */
  readonly counts: ConsumerCounts | null;
}

const TOPIC_PREFIX = '/topic/';
const durableKey = (clientId: string, name: string): string => `${clientId}\u0000${name}`;
const queueStoreName = (name: string): string => `queue:${name}`;
const durableStoreName = (clientId: string, name: string): string => `durable:${JSON.stringify([clientId, name])}`;

export class Broker extends EventEmitter {
  readonly bootId = randomBytes(4).toString('hex');
  private messageCounter = 0;
  private readonly queues = new Map<string, Queue>();
  private readonly topics = new Map<string, Set<TopicSubscription>>();
  /**
   * Subscriptions to `/topic/` names with wildcards, apart from `topics` so that routing to a topic scans
   * them only while there are any (routeTargets). Durable ones too: their record keeps the pattern as its
   * destination, and recovery puts them back here (attachTopicSubscription).
   */
  private readonly wildcardTopics = new WildcardIndex<TopicSubscription>();
  /** Consumers of advised destinations, for advisory counts and replays (advisory.ts). */
  private readonly consumers = new ConsumerRegistry();
  private readonly durables = new Map<string, DurableState>();
  private readonly tempOwners = new Map<string, string>();
  private readonly clientIds = new Map<string, string>();
  private pendingRemoves: LogEntry[] = [];
  private removeFlushScheduled = false;
  private readonly host: QueueHost;
  private failure: Error | null = null;
  /** Producer de-duplication windows (producer-window.ts). */
  readonly producers: ProducerWindow;
  /** A `producer-forget` waits among the pending removes: flush them before a commit writes a window again. */
  private forgetQueued = false;
  private duplicates = 0;
  /** Forwarded messages stored lately, by networkKey, with the write that stored each. */
  private readonly networkMessages = new Map<string, Promise<void>>();
  /** When this broker was made, for its uptime (ms since the epoch). */
  readonly startedAt = Date.now();
  /** Set by the wiring (start.ts): what the statistics destination reports about the process around the broker. */
  describe: () => BrokerDescription = () => ({ role: 'standalone', group: null, connections: 0, stompPort: null, wsPort: null });

  constructor(
    readonly settings: ResolvedBrokerSettings,
    readonly store: Store | null,
    readonly log: Logger,
    private readonly matchSelector: (selector: Selector, lookup: HeaderLookup) => boolean,
  ) {
    super();
    this.producers = new ProducerWindow(settings.maxFailoverProducersToTrack ?? PRODUCERS_TRACKED_MAX);
    this.host = {
      store,
      expired: (q, m) => this.expire(q, m),
      redelivered: (q, m) => this.redelivered(q, m),
      selectorMatches: (s, m) => this.matchSelector(s, lookupFor(m)),
      onError: (err, context) => this.fail(err, context),
    };
  }

  /** Rebuilds queues and durable subscriptions from what the store recovered (counts, not messages). */
  async recover(): Promise<void> {
    if (this.store === null) return;
    const state = await this.store.open();
    const durableQueues = new Set<string>();
    for (const record of state.durableSubscriptions) {
      durableQueues.add(record.queue);
      const queue = new Queue(record.destination, record.queue, this.host, this.settings.destinationMemoryLimit,
        state.queues.get(record.queue) ?? 0, state.lastIndex);
      this.attachDurable(record, queue, null);
    }
    for (const [storeQueue, count] of state.queues) {
      if (durableQueues.has(storeQueue) || !storeQueue.startsWith('queue:')) continue;
      const name = storeQueue.slice('queue:'.length);
      this.queues.set(`/queue/${name}`, new Queue(`/queue/${name}`, storeQueue, this.host, this.settings.destinationMemoryLimit, count, state.lastIndex));
    }
    // A bound lowered since the last run: the windows past it are forgotten on disk too.
    const dropped = this.producers.load(state.producers);
    if (dropped.length > 0) await this.store.append(dropped.map(([producerId]) => ({ kind: 'producer-forget', producerId }))).durable;
    this.log.info({ queues: this.queues.size, durableSubscriptions: this.durables.size, producers: this.producers.size, lastIndex: state.lastIndex }, 'store recovered');
  }

  /** A unique, stable id in ActiveMQ's shape. */
  newMessageId(): string {
    return `ID:${this.settings.brokerName}-${this.bootId}-${++this.messageCounter}`;
  }

  /** Throws once the store has failed: the broker then refuses writes rather than acknowledge them falsely. */
  assertHealthy(): void {
    if (this.failure !== null) throw new BrokerError('BROKER_STORE_FAILED', `the store failed: ${this.failure.message}`, { cause: this.failure });
  }

  // ---- destinations -------------------------------------------------------------------------

  /** The queue for a queue or temp-queue destination, created on first use. */
  queue(d: DestinationName, ownerConnection: string | null): Queue {
    const key = formatDestination(d);
    let q = this.queues.get(key);
    if (q !== undefined) return q;
    if (d.kind === 'temp-queue') this.claimTemp(d, key, ownerConnection);
    this.checkDestinationCount();
    const storeQueue = d.kind === 'queue' ? queueStoreName(d.name) : null;
    q = new Queue(key, storeQueue, this.host, this.settings.destinationMemoryLimit);
    this.queues.set(key, q);
    return q;
  }

  /** Subscribers of a topic (or temp-topic), created on first use. */
  private topic(d: DestinationName, ownerConnection: string | null): Set<TopicSubscription> {
    const key = formatDestination(d);
    let t = this.topics.get(key);
    if (t !== undefined) return t;
    if (d.kind === 'temp-topic') this.claimTemp(d, key, ownerConnection);
    this.checkDestinationCount();
    t = new Set();
    this.topics.set(key, t);
    return t;
  }

  /**
   * Temporary destinations belong to the connection that created them under its own name; another
   * connection may only use one that exists (ActiveMQ: "Cannot publish to a deleted Destination").
   */
  private claimTemp(d: DestinationName, key: string, ownerConnection: string | null): void {
    if (this.tempOwners.has(key)) return;
    // A temp destination's global name is `<creating connection id>:<name>` (destination.ts).
    const scope = d.name.slice(0, d.name.indexOf(':'));
    if (ownerConnection === null || scope !== ownerConnection) {
      throw new BrokerError('BROKER_BAD_DESTINATION', `temporary destination ${key} does not exist (the connection that created it has closed)`);
    }
    this.tempOwners.set(key, ownerConnection);
  }

  /**
   * Only the connection that created a temporary destination may consume from it; others may only send
   * to it (ActiveMQ's TempQueueRegion: "Cannot subscribe to remote temporary destination").
   */
  checkTempConsumer(d: DestinationName, connectionId: string): void {
    if (d.kind !== 'temp-queue' && d.kind !== 'temp-topic') return;
    const key = formatDestination(d);
    const owner = this.tempOwners.get(key);
    if (owner !== undefined && owner !== connectionId) {
      throw new BrokerError('BROKER_BAD_DESTINATION', `Cannot subscribe to remote temporary destination: ${key}`);
    }
  }

  private checkDestinationCount(): void {
    if (this.queues.size + this.topics.size >= DESTINATIONS_MAX) {
      throw new BrokerError('BROKER_LIMIT_EXCEEDED', `the broker already holds ${DESTINATIONS_MAX} destinations`);
    }
  }

  /** Deletes a connection's temporary destinations when it closes. */
  dropTemporaries(connectionId: string): void {
    for (const [key, owner] of this.tempOwners) {
      if (owner !== connectionId) continue;
      this.tempOwners.delete(key);
      this.queues.get(key)?.close();
      this.queues.delete(key);
      this.topics.delete(key);
    }
  }

  // ---- client ids and durable subscriptions ---------------------------------------------------

  /** JMS allows one connection per client id (ActiveMQ's InvalidClientIDException). */
  claimClientId(clientId: string, connectionId: string, remote: string): void {
    const holder = this.clientIds.get(clientId);
    if (holder !== undefined && holder !== connectionId) {
      throw new BrokerError('BROKER_CLIENT_ID_IN_USE', `Broker: ${this.settings.brokerName} - Client: ${clientId} already connected (from another connection than ${remote})`);
    }
    this.clientIds.set(clientId, connectionId);
  }

  releaseClientId(clientId: string, connectionId: string): void {
    if (this.clientIds.get(clientId) === connectionId) this.clientIds.delete(clientId);
  }

  /** A non-durable topic subscription: a private in-memory queue that receives copies. */
  subscribeTopic(d: DestinationName, selector: Selector | null, connectionId: string, noLocal: boolean): TopicSubscription {
    const key = formatDestination(d);
    if (wildcardPatternOf(key) !== null) this.checkWildcardCount();
    else this.topic(d, connectionId); // created, and a temporary one claimed, on first use
    const queue = new Queue(key, null, this.host, this.settings.destinationMemoryLimit);
    const sub: TopicSubscription = { queue, selector, durable: null, noLocalConnection: noLocal ? connectionId : null };
    this.attachTopicSubscription(key, sub);
    return sub;
  }

  unsubscribeTopic(d: DestinationName, sub: TopicSubscription): void {
    this.detachTopicSubscription(formatDestination(d), sub);
    sub.queue.close();
  }

  private checkWildcardCount(): void {
    if (this.wildcardTopics.size >= WILDCARD_SUBSCRIPTIONS_MAX) {
      throw new BrokerError('BROKER_LIMIT_EXCEEDED', `the broker already holds ${WILDCARD_SUBSCRIPTIONS_MAX} wildcard topic subscriptions`);
    }
  }

  /** Adds a topic subscription under its STOMP destination: to that topic's set, or to the wildcard index. */
  private attachTopicSubscription(key: string, sub: TopicSubscription): void {
    const pattern = wildcardPatternOf(key);
    if (pattern !== null) { this.wildcardTopics.add(pattern, sub); return; }
    let subs = this.topics.get(key);
    if (subs === undefined) { subs = new Set(); this.topics.set(key, subs); }
    subs.add(sub);
  }

  private detachTopicSubscription(key: string, sub: TopicSubscription): void {
    const pattern = wildcardPatternOf(key);
    if (pattern !== null) this.wildcardTopics.delete(pattern, sub);
    else this.topics.get(key)?.delete(sub);
  }

  /**
   * Activates (creating if needed) the durable subscription (clientId, name). A changed topic or selector
   * replaces it, as JMS prescribes; pending messages of the old one are dropped with it.
   */
  async activateDurable(clientId: string, name: string, d: DestinationName, selector: Selector | null): Promise<TopicSubscription> {
    const key = durableKey(clientId, name);
    const destination = formatDestination(d);
    let state = this.durables.get(key);
    if (state?.active) {
      throw new BrokerError('BROKER_DUPLICATE_SUBSCRIPTION', `durable subscription "${name}" of client-id "${clientId}" is already active`);
    }
    if (state !== undefined && (state.record.destination !== destination || state.record.selector !== (selector?.text ?? ''))) {
      await this.removeDurable(clientId, name);
      state = undefined;
    }
    if (state === undefined) {
      this.assertHealthy();
      if (wildcardPatternOf(destination) !== null) this.checkWildcardCount();
      const record: DurableSubscription = { clientId, name, destination, selector: selector?.text ?? '', queue: durableStoreName(clientId, name) };
      if (this.store !== null) await this.store.append([{ kind: 'durable-add', subscription: record }]).durable;
      const queue = new Queue(destination, this.store === null ? null : record.queue, this.host, this.settings.destinationMemoryLimit);
      state = this.attachDurable(record, queue, selector);
    }
    state.active = true;
    return state.sub;
  }

  private attachDurable(record: DurableSubscription, queue: Queue, selector: Selector | null): DurableState {
    const compiled = selector ?? (record.selector === '' ? null : this.compileStoredSelector(record.selector));
    const sub: TopicSubscription = { queue, selector: compiled, durable: record, noLocalConnection: null };
    const state: DurableState = { record, sub, active: false };
    this.durables.set(durableKey(record.clientId, record.name), state);
    // Recovered ones are attached even past WILDCARD_SUBSCRIPTIONS_MAX: the bound refuses new ones only.
    this.attachTopicSubscription(record.destination, sub);
    return state;
  }

  /** Set by the server wiring; compiles a selector read back from the store. */
  compileStoredSelector: (text: string) => Selector | null = () => null;

  deactivateDurable(sub: TopicSubscription): void {
    if (sub.durable === null) return;
    const state = this.durables.get(durableKey(sub.durable.clientId, sub.durable.name));
    if (state !== undefined) state.active = false;
  }

  /** Removes a durable subscription and its pending messages (UNSUBSCRIBE with activemq.subscriptionName). */
  async removeDurable(clientId: string, name: string): Promise<boolean> {
    const key = durableKey(clientId, name);
    const state = this.durables.get(key);
    if (state === undefined) return false;
    if (state.active) throw new BrokerError('BROKER_DUPLICATE_SUBSCRIPTION', `durable subscription "${name}" is active; unsubscribe it first`);
    this.durables.delete(key);
    this.detachTopicSubscription(state.record.destination, state.sub);
    state.sub.queue.close();
    if (this.store !== null) await this.store.append([{ kind: 'durable-remove', clientId, name }]).durable;
    return true;
  }

  // ---- sending ------------------------------------------------------------------------------

  /**
   * Routes sends and applies acks as ONE atomic store append (a transaction commit, or a single SEND),
   * then hands messages to their queues. Resolves when the append is durable: the receipt may go out.
   * Returns the queues written to, so the caller can apply producer flow control.
   *
   * Sends carrying a producer and seq go through the producer window in order: one already accepted is
   * dropped (not routed, counted), and the commit then also waits for that original to be on disk, so
   * its RECEIPT never promises more than the first one did. The windows of producers whose sends this
   * commit stores ride in the same append, as `producer` entries (producer-window.ts).
   */
  commit(sends: readonly Outgoing[], acks: readonly Delivery[], senderConnection: string | null): { durable: Promise<void>; queues: Queue[] } {
    this.assertHealthy();
    // A `producer-forget` still waiting among the removes must take a lower log index than this commit,
    // which may write that producer's window again.
    if (this.forgetQueued) this.flushRemoves();
    // Decided first, applied after routing: a commit that fails to route (a temp destination gone, a
    // limit) must leave the windows as they were, or a resend of its sends would be taken for a duplicate.
    const { fresh, originals } = this.screenDuplicates(sends);
    const targets: Array<{ queue: Queue; m: QueuedMessage; entry: number }> = [];
    const entries: LogEntry[] = [];
    /** Producers with a send stored by this commit: their windows are written with it. */
    const storedProducers = new Set<string>();
    sends.forEach((send, i) => {
      if (!fresh[i]) return;
      const storedBefore = entries.length;
      for (const d of send.destinations) {
        const message = send.destinations.length > 1 ? { ...send.message, destination: formatDestination(d) } : send.message;
        for (const queue of this.routeTargets(d, message, senderConnection)) {
          const m = queued(message, send.persistent);
          const stored = send.persistent && queue.storeQueue !== null && this.store !== null;
          targets.push({ queue, m, entry: stored ? entries.length : -1 });
          if (stored) entries.push({ kind: 'enqueue', queue: queue.storeQueue!, message });
        }
      }
      if (send.producer && entries.length > storedBefore) storedProducers.add(send.producer.id);
    });
    for (const a of acks) if (a.m.key !== null) entries.push({ kind: 'remove', key: a.m.key });

    const forgets = this.advanceWindows(sends, fresh);
    // Forgets before windows: a producer dropped and taken back within this commit ends up stored, and
    // one dropped after its send here has no window left to write.
    const windows: Array<{ readonly producerId: string; readonly tracked: TrackedProducer }> = [];
    for (const producerId of storedProducers) {
      const tracked = this.producers.peek(producerId);
      if (tracked !== undefined) windows.push({ producerId, tracked });
    }
    let durable: Promise<void> = Promise.resolve();
    if (entries.length > 0) {
      const windowEntries = windows.map((w): LogEntry => ({ kind: 'producer', producerId: w.producerId, seq: w.tracked.seq }));
      let result;
      try {
        result = this.store!.append([...entries, ...forgets, ...windowEntries]);
      } catch (err) {
        // The windows already count these sends: the broker must stop rather than take resends for duplicates.
        this.fail(err, 'writing to the store');
        throw err;
      }
      durable = result.durable;
      durable.catch((err) => this.fail(err, 'writing to the store'));
      for (const t of targets) {
        if (t.entry < 0) continue;
        t.m.key = { queue: t.queue.storeQueue!, priority: t.m.message.priority, seq: result.firstIndex + t.entry };
      }
      for (const w of windows) {
        w.tracked.stored = true;
        w.tracked.durable = durable;
      }
      this.rememberNetworkMessages(sends, fresh, durable);
    } else if (forgets.length > 0) {
      // Nothing of this commit reaches the disk (non-persistent sends): the forgets need not hold it up.
      for (const f of forgets) this.queueRemove(f);
      this.forgetQueued = true;
    }
    const settled = this.settledWhenAcked(targets.filter((t) => t.entry >= 0).map((t) => t.m), durable);
    const storeThenDispatch = this.settings.concurrentStoreAndDispatchQueues === false;
    for (const t of targets) {
      if (t.m.key === null) t.queue.accept(t.m);
      // Writes become durable in log order, so deferred messages still reach each queue in send order.
      else if (storeThenDispatch) durable.then(() => t.queue.accept(t.m, durable), () => {});
      else t.queue.accept(t.m, durable);
    }
    for (const a of acks) { a.queue.release(a.m); settle(a.m); }
    const done = originals.length === 0 ? settled : Promise.all([settled, ...originals]).then(() => undefined);
    return { durable: done, queues: targets.map((t) => t.queue) };
  }

  /**
   * Which sends are new, in order, against the windows as they stand and the sends before them in the
   * same commit (a transaction may hold one seq twice), and what each duplicate's RECEIPT must wait for:
   * the write of its producer's last stored send (an original in this very commit is covered by the
   * commit's own write). Changes nothing.
   */
  private screenDuplicates(sends: readonly Outgoing[]): { fresh: boolean[]; originals: Array<Promise<void>> } {
    const highest = new Map<string, number>();
    const originals: Array<Promise<void>> = [];
    const inCommit = new Set<string>();
    const fresh = sends.map((send) => {
      const key = networkKey(send.message);
      if (key !== null) {
        const earlier = this.networkMessages.get(key);
        if (earlier !== undefined || inCommit.has(key)) {
          if (earlier !== undefined) originals.push(earlier);
          return false;
        }
        inCommit.add(key);
      }
      const p = send.producer ?? null;
      if (p === null) return true;
      const tracked = this.producers.peek(p.id);
      if (p.seq <= (highest.get(p.id) ?? tracked?.seq ?? 0)) {
        if (tracked !== undefined) originals.push(tracked.durable);
        return false;
      }
      highest.set(p.id, p.seq);
      return true;
    });
    return { fresh, originals };
  }

  /**
   * Applies a screened commit to the windows: accepted seqs advance them, duplicates count as a use and
   * are counted. Returns the forgets the store needs: producers pushed out whose window it holds.
   */
  private advanceWindows(sends: readonly Outgoing[], fresh: readonly boolean[]): LogEntry[] {
    const forgets: LogEntry[] = [];
    sends.forEach((send, i) => {
      const p = send.producer ?? null;
      if (p === null) {
        // A forwarded message seen before (see networkKey) is the only duplicate without a producer.
        if (!fresh[i]) this.duplicates++;
        return;
      }
      if (fresh[i]) {
        for (const [producerId, dropped] of this.producers.accept(p)) {
          if (dropped.stored) forgets.push({ kind: 'producer-forget', producerId });
        }
        return;
      }
      this.duplicates++;
      this.producers.touch(p.id);
      this.log.debug({ producerId: p.id, seq: p.seq, destination: send.message.destination }, 'dropped a duplicate send');
    });
    return forgets;
  }

  /**
   * Remembers the forwarded messages of a stored commit (bounded, oldest forgotten first), so that the same
   * message forwarded again along the same path (its bridge's broker died between our receipt and its
   * ACK, and redelivered it) is dropped, receipted once the original is durable.
   */
  private rememberNetworkMessages(sends: readonly Outgoing[], fresh: readonly boolean[], durable: Promise<void>): void {
    sends.forEach((send, i) => {
      const key = fresh[i] && send.persistent ? networkKey(send.message) : null;
      if (key === null) return;
      this.networkMessages.set(key, durable);
      if (this.networkMessages.size > NETWORK_MESSAGES_REMEMBERED_MAX) {
        this.networkMessages.delete(this.networkMessages.keys().next().value!);
      }
    });
  }

  /** SENDs dropped as duplicates since start (their producer had already sent that seq). */
  get duplicatesDropped(): number { return this.duplicates; }

  /**
   * A persistent message that every consumer it went to has already acked has nothing left to lose, so
   * its receipt need not wait for the disk (RabbitMQ's publisher confirms work the same way). The store
   * still writes both the enqueue and the removal, in log order, so a crash in between changes nothing.
   */
  private settledWhenAcked(stored: readonly QueuedMessage[], durable: Promise<void>): Promise<void> {
    if (stored.length === 0) return durable;
    let outstanding = stored.length;
    let resolveAcked!: () => void;
    const acked = new Promise<void>((resolve) => { resolveAcked = resolve; });
    for (const m of stored) m.onAcked = () => { if (--outstanding === 0) resolveAcked(); };
    return Promise.race([durable, acked]);
  }

  private routeTargets(d: DestinationName, message: StoredMessage, senderConnection: string | null): Queue[] {
    // connection.ts refuses these with the frame's words; this keeps any other caller from making one.
    checkConcrete(d, 'route a message to');
    if (d.kind === 'queue' || d.kind === 'temp-queue') {
      return [this.queue(d, senderConnection)];
    }
    return this.topicTargets(d, this.topic(d, senderConnection), message, senderConnection);
  }

  /**
   * The subscription queues a message published to topic `d` goes to: its exact subscribers and every
   * matching wildcard subscription, each once (the two are kept apart, and a pattern's set holds a
   * subscription once), less those whose selector or noLocal turns it away.
   */
  private topicTargets(d: DestinationName, exact: ReadonlySet<TopicSubscription> | undefined, message: StoredMessage, senderConnection: string | null): Queue[] {
    const out: Queue[] = [];
    let lookup: HeaderLookup | null = null;
    const take = (subs: ReadonlySet<TopicSubscription>): void => {
      for (const sub of subs) {
        if (sub.noLocalConnection !== null && sub.noLocalConnection === senderConnection) continue;
        if (sub.selector !== null) {
          lookup ??= lookupForMessage(message, false, 0);
          if (!this.matchSelector(sub.selector, lookup)) continue;
        }
        out.push(sub.queue);
      }
    };
    if (exact !== undefined) take(exact);
    // Temporary topics have per-connection names: a wildcard on /topic/ never reaches them.
    if (d.kind === 'topic' && this.wildcardTopics.size > 0) for (const subs of this.wildcardTopics.matching(d.name)) take(subs);
    return out;
  }

  // ---- consumer advisories ------------------------------------------------------------------

  /**
   * A consumer was added: it is counted, 'consumer-added' is emitted and, for an advised destination,
   * a ConsumerAdded advisory published. Returns the advisory subscribers' queues written, so the
   * connection that subscribed gets producer flow control when they are full, as a producer would.
   */
  consumerAdded(connection: string, consumer: ConsumerInfo): Queue[] {
    return this.consumerChanged('ConsumerAdded', connection, consumer);
  }

  /** A consumer was removed (UNSUBSCRIBE or its connection closing); as consumerAdded. */
  consumerRemoved(connection: string, consumer: ConsumerInfo): Queue[] {
    return this.consumerChanged('ConsumerRemoved', connection, consumer);
  }

  private consumerChanged(type: AdvisoryType, connection: string, consumer: ConsumerInfo): Queue[] {
    const advised = isAdvised(consumer.destination);
    let counts: ConsumerCounts | null = null;
    if (advised) counts = type === 'ConsumerAdded' ? this.consumers.add(consumer) : this.consumers.remove(consumer);
    const event: ConsumerEvent = { destination: formatDestination(consumer.destination), connection, consumer, counts };
    this.emit(type === 'ConsumerAdded' ? 'consumer-added' : 'consumer-removed', event);
    if (counts === null) return [];
    const topic = consumerAdvisoryTopic(consumer.destination);
    const message = this.advisoryMessage(topic, type, consumer, counts, false);
    // Not created when nobody listens: advisory topics do not use up DESTINATIONS_MAX. Not commit():
    // nothing is stored, and a consumer leaving after a store failure must still be advised.
    const queues = this.topicTargets(topic, this.topics.get(formatDestination(topic)), message, null);
    for (const q of queues) q.accept(queued(message, false));
    return queues;
  }

  /**
   * [ActiveMQ AdvisoryBroker.addConsumer] a new subscription to advisory topics (`d`, exact or wildcard)
   * is first told the consumers that exist: one `replay:true` ConsumerAdded per destination with
   * consumers whose advisory topic `d` matches, put straight into its own queue. Called in the same
   * turn as the subscription is attached, so no live advisory falls between replay and subscription; the
   * subscription's hold until its RECEIPT (connection.ts) keeps them all behind that RECEIPT. At most one
   * message per destination, so DESTINATIONS_MAX bounds a replay. With `replay: 'consumer'` (a bridge's
   * `amq-advisory-replay:consumer`) one message per consumer, bounded by the consumers that exist.
   */
  replayAdvisories(d: DestinationName, sub: TopicSubscription, replay: AdvisoryReplay = 'destination'): void {
    if (!wantsAdvisoryReplay(d)) return;
    const wildcard = isWildcard(d.name);
    for (const { consumer, counts } of replay === 'consumer' ? this.consumers.each() : this.consumers.current()) {
      const topic = consumerAdvisoryTopic(consumer.destination);
      if (wildcard ? !matchesWildcard(d.name, topic.name) : d.name !== topic.name) continue;
      const message = this.advisoryMessage(topic, 'ConsumerAdded', consumer, counts, true);
      if (sub.selector !== null && !this.matchSelector(sub.selector, lookupForMessage(message, false, 0))) continue;
      sub.queue.accept(queued(message, false));
    }
  }

  private advisoryMessage(topic: DestinationName, type: AdvisoryType, consumer: ConsumerInfo, counts: ConsumerCounts, replay: boolean): StoredMessage {
    const { headers, body } = advisoryContent(type, consumer, counts, this.settings.brokerName, replay);
    return { messageId: this.newMessageId(), destination: formatDestination(topic), headers, body, priority: 4, expires: 0, timestamp: Date.now() };
  }

  // ---- acks, redelivery, DLQ ----------------------------------------------------------------

  /** Acks outside a transaction: removals are batched into one append per microtask. */
  acknowledge(deliveries: readonly Delivery[]): void {
    for (const { queue, m } of deliveries) {
      if (m.key !== null) this.queueRemove({ kind: 'remove', key: m.key });
      queue.release(m);
      settle(m);
    }
  }

  private queueRemove(entry: LogEntry): void {
    this.pendingRemoves.push(entry);
    if (this.pendingRemoves.length >= REMOVE_BATCH_ENTRIES_MAX) { this.flushRemoves(); return; }
    if (this.removeFlushScheduled) return;
    this.removeFlushScheduled = true;
    queueMicrotask(() => this.flushRemoves());
  }

  private flushRemoves(): void {
    this.removeFlushScheduled = false;
    this.forgetQueued = false;
    if (this.pendingRemoves.length === 0 || this.store === null || this.failure !== null) { this.pendingRemoves = []; return; }
    const entries = this.pendingRemoves;
    this.pendingRemoves = [];
    this.store.append(entries).durable.catch((err) => this.fail(err, 'writing acks to the store'));
  }

  /** NACKs: each delivery counts one redelivery, then goes back or, past the limit, to the DLQ. */
  negativeAcknowledge(deliveries: readonly Delivery[]): void {
    for (const { queue, m } of deliveries) queue.requeue(m);
  }

  private redelivered(queue: Queue, m: QueuedMessage): void {
    // [ActiveMQ RedeliveryPolicy: maximumRedeliveries=6] the 7th failed delivery dead-letters.
    if (m.redeliveryCount > this.settings.maximumRedeliveries) {
      this.deadLetter(queue, m, `Delivery[${m.redeliveryCount}] exceeds redelivery policy limit:${this.settings.maximumRedeliveries}`);
      return;
    }
    if (m.key !== null && this.store !== null && this.failure === null) {
      this.store.append([{ kind: 'redelivered', key: m.key, count: m.redeliveryCount }]).durable
        .catch((err) => this.fail(err, 'writing a redelivery count'));
    }
    queue.putBack(m);
  }

  private expire(queue: Queue, m: QueuedMessage): void {
    // [ActiveMQ DLQ: processExpired=true, processNonPersistent=false]
    if (m.persistent) this.deadLetter(queue, m, 'Message expired');
    else this.acknowledge([{ queue, m }]);
  }

  /** Moves a message to the DLQ atomically (remove + enqueue in one append). DLQ copies never expire. */
  private deadLetter(queue: Queue, m: QueuedMessage, cause: string): void {
    if (queue.destination === `/queue/${this.settings.deadLetterQueue}`) {
      // A message failing on the DLQ itself is dropped rather than looping forever.
      this.log.warn({ messageId: m.message.messageId, cause }, 'dropping a message that failed on the dead letter queue');
      this.acknowledge([{ queue, m }]);
      return;
    }
    const headers = m.message.headers.filter(([k]) => k !== 'original-destination' && k !== 'dlqDeliveryFailureCause');
    headers.push(['original-destination', m.message.destination], ['dlqDeliveryFailureCause', cause]);
    const dlq: DestinationName = { kind: 'queue', name: this.settings.deadLetterQueue };
    const message: StoredMessage = { ...m.message, destination: formatDestination(dlq), headers, expires: 0 };
    try {
      this.commit([{ destinations: [dlq], message, persistent: m.persistent }], [{ queue, m }], null);
    } catch (err) {
      this.fail(err, 'moving a message to the dead letter queue');
    }
    this.log.info({ messageId: m.message.messageId, from: queue.destination, cause }, 'moved to the dead letter queue');
  }

  selectorAccepts(selector: Selector, m: QueuedMessage): boolean {
    return this.matchSelector(selector, lookupFor(m));
  }

  // ---- inspection and failure ---------------------------------------------------------------

  /** Per-destination figures for `mini-amq status` (as `activemq dstat`). */
  stats(): QueueStats[] {
    const out: QueueStats[] = [];
    for (const q of this.queues.values()) out.push(q.stats());
    for (const [key, subs] of this.topics) out.push(topicStats(key, subs));
    // A wildcard subscription's figures show under its pattern (`/topic/prices.>`), as ActiveMQ lists it.
    for (const [pattern, subs] of this.wildcardTopics.entries()) out.push(topicStats(`${TOPIC_PREFIX}${pattern}`, subs));
    return out;
  }

  /** A store failure is fatal for writes: log it once and refuse further sends (fail-stop). */
  fail(err: unknown, context: string): void {
    if (this.failure !== null) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.log.error({ err: this.failure, context }, 'store failure: refusing further writes');
    this.emit('store-failed', this.failure);
  }
}

/** The name of a `/topic/` destination that uses wildcards, or null for any other destination. */
function wildcardPatternOf(key: string): string | null {
  if (!key.startsWith(TOPIC_PREFIX)) return null;
  const name = key.slice(TOPIC_PREFIX.length);
  return isWildcard(name) ? name : null;
}

/** One topic's figures: the sums over its subscriptions' queues. */
function topicStats(destination: string, subs: Iterable<TopicSubscription>): QueueStats {
  let pending = 0, inflight = 0, enqueued = 0, dequeued = 0, memoryBytes = 0, consumers = 0;
  for (const s of subs) {
    const st = s.queue.stats();
    pending += st.pending; inflight += st.inflight; enqueued += st.enqueued; dequeued += st.dequeued;
    memoryBytes += st.memoryBytes; consumers += st.consumers;
  }
  return { destination, pending, inflight, consumers, enqueued, dequeued, memoryBytes };
}

/** Tells a commit waiting for its receipt that this copy was acked by a consumer. */
function settle(m: QueuedMessage): void {
  const onAcked = m.onAcked;
  if (onAcked === undefined) return;
  m.onAcked = undefined;
  onAcked();
}

/** What selectors see of a message: its headers, plus the JMS names ActiveMQ maps onto STOMP headers. */
function lookupFor(m: QueuedMessage): HeaderLookup {
  return lookupForMessage(m.message, m.persistent, m.redeliveryCount);
}

function lookupForMessage(msg: StoredMessage, persistent: boolean, redeliveryCount: number): HeaderLookup {
  return (name) => {
    switch (name) {
      case 'JMSPriority': return msg.priority;
      case 'JMSMessageID': return msg.messageId;
      case 'JMSTimestamp': return msg.timestamp;
      case 'JMSExpiration': return msg.expires;
      case 'JMSDeliveryMode': return persistent ? 'PERSISTENT' : 'NON_PERSISTENT';
      case 'JMSRedelivered': return redeliveryCount > 0;
      case 'JMSCorrelationID': return headerOf(msg, 'correlation-id');
      case 'JMSType': return headerOf(msg, 'type');
      default: return headerOf(msg, name);
    }
  };
}

function headerOf(msg: StoredMessage, name: string): string | undefined {
  for (const [k, v] of msg.headers) if (k === name) return v;
  return undefined;
}

export type { MessageKey };

/**
 * Forwarded messages remembered for de-duplication: 100,000 is a few seconds of a busy bridge, far more than
 * a bridge holds unacknowledged (its prefetch), which bounds what a dying broker can redeliver.
 */
export const NETWORK_MESSAGES_REMEMBERED_MAX = 100_000;
/** The header a network bridge puts on a forwarded message: the message-id it had where it was first stored. */
export const NETWORK_MESSAGE_ID_HEADER = 'NetworkMessageId';
const NETWORK_PATH_HEADER_NAME = 'NetworkPath';

/**
 * The identity of a forwarded message for de-duplication: its original message-id and the path it took.
 * The path matters: a message that comes back through a longer path (stranded messages flowing back to
 * where consumers now are) is a legitimate new arrival, not a redelivery.
 */
function networkKey(message: StoredMessage): string | null {
  let id: string | undefined;
  let path: string | undefined;
  for (const [name, value] of message.headers) {
    if (name === NETWORK_MESSAGE_ID_HEADER) id ??= value;
    else if (name === NETWORK_PATH_HEADER_NAME) path ??= value;
  }
  return id === undefined ? null : `${id}\u0000${path ?? ''}`;
}
