/**
 * Consumer advisories, after ActiveMQ's AdvisoryBroker [ActiveMQ: Advisory Message]: whenever a consumer
 * is added to or removed from a queue or topic, the broker publishes a non-persistent message to
 * `/topic/ActiveMQ.Advisory.Consumer.Queue.<name>` (or `….Topic.<name>`). Network bridges subscribe to
 * `ActiveMQ.Advisory.Consumer.>` to learn where demand is (ARCHITECTURE.md: Network of brokers).
 *
 * Where we differ from ActiveMQ, whose advisories carry a serialized ConsumerInfo that STOMP cannot:
 * the facts ride as headers and, the same, as a JSON body (see `advisoryContent`); the advised
 * destination's header is `consumerDestination`, since a MESSAGE's `destination` header already names
 * the advisory topic. A late advisory subscriber is sent one `replay: true` message per destination
 * that has consumers, with the current counts, where ActiveMQ replays one ConsumerInfo per consumer; a
 * subscriber that sets `amq-advisory-replay:consumer` on its SUBSCRIBE (a network bridge, which must know
 * every network consumer's path) is sent one per consumer instead, as ActiveMQ does.
 * A wildcard topic subscription is a consumer of its pattern, as in ActiveMQ: `/topic/prices.>` is
 * advised on `ActiveMQ.Advisory.Consumer.Topic.prices.>` and counted there, not under each topic it
 * matches. Temporary destinations are not advised (yet): their names are per connection and a bridge
 * has no use for them until request/reply across brokers is built.
 *
 * Pure: the registry counts, the functions build names and contents; broker.ts publishes.
 */
import type { HeaderList } from '@mini-amq/store';
import { BrokerError } from './errors.js';
import type { DestinationName } from './destination.js';
import { formatDestination } from './destination.js';

/** Every advisory topic's name starts with this; no advisory is published about these topics. */
export const ADVISORY_PREFIX = 'ActiveMQ.Advisory.';
/** Consumer advisory topics: `<prefix>Queue.<name>` and `<prefix>Topic.<name>`. */
export const CONSUMER_ADVISORY_PREFIX = `${ADVISORY_PREFIX}Consumer.`;
/** The statistics destinations (statistics.ts) are questions, not destinations with consumers. */
const STATISTICS_PREFIX = 'ActiveMQ.Statistics.';

/** SUBSCRIBE header a bridge sets on its consumers [ActiveMQ ConsumerInfo.networkSubscription]. */
export const NETWORK_SUBSCRIPTION_HEADER = 'activemq.networkSubscription';
/** SUBSCRIBE header with the brokers a bridge's demand has passed through, comma-separated. */
export const NETWORK_PATH_HEADER = 'amq-network-path';
/**
 * SUBSCRIBE header of an advisory subscriber choosing its replay: `destination` (the default: one message
 * per destination, naming one consumer) or `consumer` (one message per consumer, as ActiveMQ replays).
 */
export const ADVISORY_REPLAY_HEADER = 'amq-advisory-replay';
export type AdvisoryReplay = 'destination' | 'consumer';

/** Brokers one network path may name; far beyond any networkTTL in use, it only bounds a bad header. */
export const NETWORK_PATH_BROKERS_MAX = 64;

export type AdvisoryType = 'ConsumerAdded' | 'ConsumerRemoved';

/** One consumer as its advisories describe it. */
export interface ConsumerInfo {
  /** `ID:<broker>-<connection id>:<subscription id>` (the CONNECTED frame's session id, then the subscription's). */
  readonly consumerId: string;
  readonly destination: DestinationName;
  /** True when a bridge made it (SUBSCRIBE with `activemq.networkSubscription:true`). */
  readonly network: boolean;
  /** The brokers named by the SUBSCRIBE's `amq-network-path`, or null without one. */
  readonly networkPath: readonly string[] | null;
}

/** Consumers on one destination after a change. */
export interface ConsumerCounts {
  readonly consumers: number;
  /** How many of them are network consumers: `consumers - network` is the local demand. */
  readonly network: number;
}

/** Whether consumers of `d` are advised: queues and topics, but not advisory or statistics destinations. */
export function isAdvised(d: DestinationName): boolean {
  if (d.kind !== 'queue' && d.kind !== 'topic') return false;
  return !d.name.startsWith(ADVISORY_PREFIX) && !d.name.startsWith(STATISTICS_PREFIX);
}

/** The advisory topic for consumers of `d` [ActiveMQ AdvisorySupport.getConsumerAdvisoryTopic]. */
export function consumerAdvisoryTopic(d: DestinationName): DestinationName {
  return { kind: 'topic', name: `${CONSUMER_ADVISORY_PREFIX}${d.kind === 'queue' ? 'Queue' : 'Topic'}.${d.name}` };
}

/** Whether a topic subscription listens to advisories, and so is first told the consumers that exist. */
export function wantsAdvisoryReplay(d: DestinationName): boolean {
  return d.kind === 'topic' && d.name.startsWith(ADVISORY_PREFIX);
}

/** Reads `amq-network-path`: broker names separated by commas, none empty. */
export function parseNetworkPath(value: string): string[] {
  const names = value.split(',').map((n) => n.trim());
  if (names.some((n) => n === '')) {
    throw new BrokerError('BROKER_BAD_FRAME', `${NETWORK_PATH_HEADER} must list broker names separated by commas, got "${value.slice(0, 256)}"`);
  }
  if (names.length > NETWORK_PATH_BROKERS_MAX) {
    throw new BrokerError('BROKER_BAD_FRAME', `${NETWORK_PATH_HEADER} names ${names.length} brokers; at most ${NETWORK_PATH_BROKERS_MAX} are allowed`);
  }
  return names;
}

/**
 * The headers and JSON body of one advisory. Headers (all strings): `type:Advisory` (ActiveMQ's JMSType
 * for advisories), `content-type`, `advisoryType`, `consumerDestination`, `consumerCount`,
 * `networkConsumerCount`, `consumerId`, `networkConsumer`, `networkPath` (only when the consumer has
 * one), `originBrokerName`, and `replay:true` on a replayed one. The body holds the same fields with
 * counts as numbers, flags as booleans and the network path as an array of broker names.
 */
export function advisoryContent(
  type: AdvisoryType, consumer: ConsumerInfo, counts: ConsumerCounts, brokerName: string, replay: boolean,
): { headers: HeaderList; body: Buffer } {
  const destination = formatDestination(consumer.destination);
  const headers: HeaderList = [
    ['type', 'Advisory'],
    ['content-type', 'application/json'],
    ['advisoryType', type],
    ['consumerDestination', destination],
    ['consumerCount', String(counts.consumers)],
    ['networkConsumerCount', String(counts.network)],
    ['consumerId', consumer.consumerId],
    ['networkConsumer', String(consumer.network)],
  ];
  if (consumer.networkPath !== null) headers.push(['networkPath', consumer.networkPath.join(',')]);
  headers.push(['originBrokerName', brokerName]);
  if (replay) headers.push(['replay', 'true']);
  const body = {
    advisoryType: type,
    consumerDestination: destination,
    consumerCount: counts.consumers,
    networkConsumerCount: counts.network,
    consumerId: consumer.consumerId,
    networkConsumer: consumer.network,
    ...(consumer.networkPath === null ? {} : { networkPath: consumer.networkPath }),
    originBrokerName: brokerName,
    ...(replay ? { replay: true } : {}),
  };
  return { headers, body: Buffer.from(JSON.stringify(body), 'utf8') };
}

interface DestinationConsumers {
  readonly destination: DestinationName;
  /** By consumer id, in the order they were added. */
  readonly consumers: Map<string, ConsumerInfo>;
  network: number;
}

/** The consumers of every advised destination: the counts advisories carry, and what a replay describes. */
export class ConsumerRegistry {
  /** Keyed by STOMP destination; a destination leaves with its last consumer, so this is bounded by them. */
  private readonly byDestination = new Map<string, DestinationConsumers>();

  add(c: ConsumerInfo): ConsumerCounts {
    const key = formatDestination(c.destination);
    let entry = this.byDestination.get(key);
    if (entry === undefined) {
      entry = { destination: c.destination, consumers: new Map(), network: 0 };
      this.byDestination.set(key, entry);
    }
    if (!entry.consumers.has(c.consumerId)) {
      entry.consumers.set(c.consumerId, c);
      if (c.network) entry.network++;
    }
    return { consumers: entry.consumers.size, network: entry.network };
  }

  remove(c: ConsumerInfo): ConsumerCounts {
    const key = formatDestination(c.destination);
    const entry = this.byDestination.get(key);
    if (entry === undefined) return { consumers: 0, network: 0 };
    const had = entry.consumers.get(c.consumerId);
    if (had !== undefined) {
      entry.consumers.delete(c.consumerId);
      if (had.network) entry.network--;
    }
    if (entry.consumers.size === 0) this.byDestination.delete(key);
    return { consumers: entry.consumers.size, network: entry.network };
  }

  /**
   * Each destination with consumers, its counts, and the consumer a replay names: the first local one
   * if there is any (so a replay says `networkConsumer:false` exactly when local demand exists), else the
   * first network one, whose path a bridge's loop guard can read.
   */
  *current(): IterableIterator<{ readonly consumer: ConsumerInfo; readonly counts: ConsumerCounts }> {
    for (const entry of this.byDestination.values()) {
      let shown: ConsumerInfo | undefined;
      for (const c of entry.consumers.values()) {
        shown ??= c;
        if (!c.network) { shown = c; break; }
      }
      if (shown === undefined) continue;
      yield { consumer: shown, counts: { consumers: entry.consumers.size, network: entry.network } };
    }
  }

  /** Every consumer of every destination, with its destination's counts (an `amq-advisory-replay:consumer` replay). */
  *each(): IterableIterator<{ readonly consumer: ConsumerInfo; readonly counts: ConsumerCounts }> {
    for (const entry of this.byDestination.values()) {
      const counts = { consumers: entry.consumers.size, network: entry.network };
      for (const consumer of entry.consumers.values()) yield { consumer, counts };
    }
  }
}
