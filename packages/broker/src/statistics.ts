/**
 * The statistics destinations, after ActiveMQ's StatisticsBrokerPlugin: a SEND to
 * `/queue/ActiveMQ.Statistics.Broker` (or `/topic/…`) with a `reply-to` is not enqueued; the broker
 * answers one JSON message to the reply-to destination with its figures and every destination's.
 * `/queue/ActiveMQ.Statistics.Destination.<name>` answers with the figures of queue <name> (the topic
 * form asks about topic <name>). This is what `mini-amq status` reads, over plain STOMP.
 *
 * Where we differ from the plugin: the body is JSON (`content-type:application/json`) rather than a JMS
 * MapMessage, which STOMP cannot carry; and a wildcard name (`*` one dot-separated element, `>` the
 * rest, ActiveMQ's destination wildcards) is answered with ONE message holding an array, not one message
 * per match, so a client knows when it has the whole answer. An exact name that does not exist is
 * answered with zeros: asking does not create it.
 *
 * Pure: it reads the broker's figures and builds the answer; connection.ts routes it.
 */
import type { Broker, ReplicationDescription } from './broker.js';
import type { DestinationName } from './destination.js';
import { BROKER_VERSION } from './options.js';
import type { QueueStats } from './queue.js';
import { isWildcard, matchesWildcard } from './wildcard.js';

/** The broker statistics destination's name (after /queue/ or /topic/). */
export const STATISTICS_BROKER = 'ActiveMQ.Statistics.Broker';
/** Names starting with this ask about the destination named by the rest. */
export const STATISTICS_DESTINATION_PREFIX = 'ActiveMQ.Statistics.Destination.';

/** What a SEND to a statistics destination asks for. */
export type StatisticsQuery =
  | { readonly kind: 'broker' }
  | { readonly kind: 'destination'; readonly of: 'queue' | 'topic'; readonly pattern: string };

/** One destination's figures, as QueueStats and `Broker.stats()` give them. */
export type DestinationStatistics = QueueStats;

/** The body of the broker statistics answer. */
export interface BrokerStatistics {
  readonly brokerName: string;
  readonly role: 'standalone' | 'master' | 'slave';
  readonly group: string | null;
  readonly version: string;
  readonly uptimeMs: number;
  readonly connections: number;
  readonly stompPort: number | null;
  readonly wsPort: number | null;
  /** Every queue and topic (temporary ones included), by destination name. */
  readonly destinations: readonly DestinationStatistics[];
  /** SENDs dropped as duplicates of one already stored from the same producer (producer-window.ts). */
  readonly duplicatesDropped: number;
  /** A replication group member's position and slaves; absent on a standalone broker. */
  readonly replication?: ReplicationDescription;
  /** The broker's network bridges (remote, state, forwarded counts); absent when it runs none. */
  readonly network?: ReadonlyArray<object>;
}

/** The query a destination stands for, or null when it is an ordinary one. */
export function statisticsQuery(d: DestinationName): StatisticsQuery | null {
  if (d.kind !== 'queue' && d.kind !== 'topic') return null;
  if (d.name === STATISTICS_BROKER) return { kind: 'broker' };
  if (d.name.startsWith(STATISTICS_DESTINATION_PREFIX) && d.name.length > STATISTICS_DESTINATION_PREFIX.length) {
    return { kind: 'destination', of: d.kind, pattern: d.name.slice(STATISTICS_DESTINATION_PREFIX.length) };
  }
  return null;
}

const byDestination = (a: DestinationStatistics, b: DestinationStatistics): number =>
  a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0;

/** The broker statistics answer. `now` is the current time in ms since the epoch. */
export function brokerStatistics(broker: Broker, now: number): BrokerStatistics {
  const d = broker.describe();
  return {
    brokerName: broker.settings.brokerName,
    role: d.role,
    group: d.group,
    version: BROKER_VERSION,
    uptimeMs: Math.max(0, now - broker.startedAt),
    connections: d.connections,
    stompPort: d.stompPort,
    wsPort: d.wsPort,
    destinations: broker.stats().sort(byDestination),
    ...(d.replication === undefined ? {} : { replication: d.replication }),
    ...(d.network === undefined ? {} : { network: d.network }),
    duplicatesDropped: broker.duplicatesDropped,
  };
}

/** The answer to a destination query: one row for an exact name (zeros if absent), all matches for a wildcard. */
export function destinationStatistics(broker: Broker, query: Extract<StatisticsQuery, { kind: 'destination' }>): DestinationStatistics | DestinationStatistics[] {
  const prefix = `/${query.of}/`;
  const rows = broker.stats().filter((row) => row.destination.startsWith(prefix));
  if (isWildcard(query.pattern)) {
    return rows.filter((row) => matchesWildcard(query.pattern, row.destination.slice(prefix.length))).sort(byDestination);
  }
  const destination = `${prefix}${query.pattern}`;
  return rows.find((row) => row.destination === destination)
    ?? { destination, pending: 0, inflight: 0, consumers: 0, enqueued: 0, dequeued: 0, memoryBytes: 0 };
}

/** The JSON body answering `query`. */
export function statisticsAnswer(broker: Broker, query: StatisticsQuery, now: number): Buffer {
  const answer = query.kind === 'broker' ? brokerStatistics(broker, now) : destinationStatistics(broker, query);
  return Buffer.from(JSON.stringify(answer), 'utf8');
}
