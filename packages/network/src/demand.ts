/**
 * Demand: which destinations a bridge forwards, from the consumer advisories of both brokers. Pure (no
 * sockets, no clock): `ConsumerTracker` folds advisories into the consumers of one broker, and
 * `planForwarding` turns the trackers of a direction's two ends into the subscriptions it should hold.
 *
 * The rules, for one direction (messages consumed on `source`, sent to `sink`):
 * - Demand for D exists when the sink has a non-network consumer on D, or a network consumer (another
 *   bridge's) whose path does not name the source and is shorter than networkTTL: forwarding to it
 *   would bring the message at most networkTTL brokers away, and never back [ActiveMQ
 *   DemandForwardingBridgeSupport: brokerPath and consumerTTL].
 * - Excluded destinations win; with dynamically included ones, only those; statically included ones
 *   are wanted whatever the demand.
 * - Stranded messages (ActiveMQ's replayWhenNoConsumers, here on by default): messages forwarded to a
 *   broker whose consumers then left would sit there, since the loop guard never sends a message back to
 *   a broker it has been on. So for a queue D, when the source has no non-network consumer on D and the
 *   sink has a non-network one, the bridge consumes D without the loop-guard selector ("replay"): every
 *   message of D goes to where consumers now are. It cannot loop: replay only ever sends to a broker
 *   with local consumers, and that broker's own bridges only replay once those are gone. When the
 *   source's local consumers come back, the bridge subscribes with the selector again.
 */
import { DEMAND_DESTINATIONS_MAX, NETWORK_CONSUMERS_PER_DESTINATION_MAX } from './limits.js';
import type { DestinationFilter } from './filter.js';

/** One consumer advisory, as the broker's headers tell it (packages/broker/src/advisory.ts). */
export interface AdvisoryEvent {
  readonly type: 'ConsumerAdded' | 'ConsumerRemoved';
  /** The advised destination in STOMP form, e.g. `/queue/orders` or `/topic/prices.>`. */
  readonly destination: string;
  readonly consumerId: string;
  readonly network: boolean;
  /** The consumer's `amq-network-path` (brokers its demand passed through); [] for a local one. */
  readonly networkPath: readonly string[];
  /** Consumers of the destination after the change, and how many of them are network consumers. */
  readonly consumers: number;
  readonly networkConsumers: number;
}

/** Reads an advisory MESSAGE's headers; null when it is not a consumer advisory we understand. */
export function parseAdvisory(h: Readonly<Record<string, string>>): AdvisoryEvent | null {
  const type = h.advisoryType;
  if (type !== 'ConsumerAdded' && type !== 'ConsumerRemoved') return null;
  const destination = h.consumerDestination;
  const consumerId = h.consumerId;
  const consumers = count(h.consumerCount);
  const networkConsumers = count(h.networkConsumerCount);
  if (destination === undefined || !/^\/(queue|topic)\/./.test(destination) || consumerId === undefined) return null;
  if (consumers === null || networkConsumers === null || networkConsumers > consumers) return null;
  const network = h.networkConsumer === 'true';
  const networkPath = h.networkPath === undefined || h.networkPath === '' ? [] : h.networkPath.split(',');
  return { type, destination, consumerId, network, networkPath, consumers, networkConsumers };
}

function count(text: string | undefined): number | null {
  return text !== undefined && /^[0-9]{1,9}$/.test(text) ? Number(text) : null;
}

interface DestinationConsumers {
  /** Non-network consumers, from the latest advisory's counts (exact, however many). */
  local: number;
  /** Network consumers by id, with their paths (bounded). */
  readonly network: Map<string, readonly string[]>;
}

/** Which bound an advisory ran into, for the shell to log. */
export type TrackerLimit = 'destinations' | 'network-consumers';

/** The consumers of one broker, per destination, as its advisories told them. */
export class ConsumerTracker {
  private readonly byDestination = new Map<string, DestinationConsumers>();

  constructor(
    private readonly destinationsMax = DEMAND_DESTINATIONS_MAX,
    private readonly networkConsumersMax = NETWORK_CONSUMERS_PER_DESTINATION_MAX,
  ) {}

  get size(): number { return this.byDestination.size; }

  /** Folds in one advisory (a replayed one too); returns the bound it ran into, or null. */
  apply(e: AdvisoryEvent): TrackerLimit | null {
    let entry = this.byDestination.get(e.destination);
    if (entry === undefined) {
      if (e.type === 'ConsumerRemoved' || e.consumers === 0) return null;
      if (this.byDestination.size >= this.destinationsMax) return 'destinations';
      entry = { local: 0, network: new Map() };
      this.byDestination.set(e.destination, entry);
    }
    entry.local = e.consumers - e.networkConsumers;
    let limit: TrackerLimit | null = null;
    if (e.type === 'ConsumerAdded' && e.network) {
      if (entry.network.has(e.consumerId) || entry.network.size < this.networkConsumersMax) entry.network.set(e.consumerId, e.networkPath);
      else limit = 'network-consumers';
    } else if (e.type === 'ConsumerRemoved') {
      entry.network.delete(e.consumerId);
    }
    if (e.networkConsumers === 0) entry.network.clear();
    if (entry.local === 0 && entry.network.size === 0) this.byDestination.delete(e.destination);
    return limit;
  }

  /** Forgets everything (the connection that told it is gone; a replay rebuilds it). */
  clear(): void {
    this.byDestination.clear();
  }

  /** Non-network consumers of `destination`. */
  localConsumers(destination: string): number {
    return this.byDestination.get(destination)?.local ?? 0;
  }

  /** The paths of the network consumers of `destination`. */
  networkPaths(destination: string): Iterable<readonly string[]> {
    return this.byDestination.get(destination)?.network.values() ?? [];
  }

  /** Destinations with consumers. */
  destinations(): IterableIterator<string> {
    return this.byDestination.keys();
  }
}

/** One subscription a direction should hold on its source. */
export interface ForwardWant {
  readonly destination: string;
  /**
   * Where messages forwarded this way go: the sink, then the path of the demand served (empty for the
   * sink's own consumers). Its length is how far away the nearest consumer is.
   */
  readonly path: readonly string[];
  /** Consume without the loop-guard selector (stranded messages; see the file comment). */
  readonly replay: boolean;
  /** Wanted because it is statically included, not for demand. */
  readonly static: boolean;
}

/** What a direction's plan depends on besides the trackers. */
export interface ForwardingPolicy {
  /** The broker messages are consumed on, and the one they are sent to. */
  readonly source: string;
  readonly sink: string;
  readonly networkTTL: number;
  readonly filter: DestinationFilter;
  readonly staticallyIncluded: readonly string[];
  /** False while the source's consumers are not fully known (advisory replay under way): no replay then. */
  readonly sourceKnown: boolean;
}

/** The subscriptions a direction should hold, by destination (see the file comment for the rules). */
export function planForwarding(sink: ConsumerTracker, source: ConsumerTracker, policy: ForwardingPolicy): Map<string, ForwardWant> {
  const wants = new Map<string, ForwardWant>();
  for (const destination of sink.destinations()) {
    if (!policy.filter.allowsDynamic(destination)) continue;
    const sinkLocal = sink.localConsumers(destination) > 0;
    let path: readonly string[] | null = sinkLocal ? [policy.sink] : null;
    if (path === null) {
      for (const p of sink.networkPaths(destination)) {
        if (p.includes(policy.source) || p.length >= policy.networkTTL) continue;
        if (path === null || p.length + 1 < path.length) path = [policy.sink, ...p];
      }
    }
    if (path === null) continue;
    const replay = sinkLocal && policy.sourceKnown && destination.startsWith('/queue/') && source.localConsumers(destination) === 0;
    wants.set(destination, { destination, path, replay, static: false });
  }
  for (const destination of policy.staticallyIncluded) {
    if (wants.has(destination) || policy.filter.isExcluded(destination)) continue;
    wants.set(destination, { destination, path: [policy.sink], replay: false, static: true });
  }
  return wants;
}

/** Whether two wants need the same subscription (same selector, path header and priority). */
export function sameSubscription(a: ForwardWant, b: ForwardWant): boolean {
  return a.destination === b.destination && a.replay === b.replay && a.path.length === b.path.length && a.path.every((x, i) => x === b.path[i]);
}
