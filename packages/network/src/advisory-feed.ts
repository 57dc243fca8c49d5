/**
 * One broker's consumer advisories, followed over a bridge connection into a ConsumerTracker. The feed
 * subscribes to `ActiveMQ.Advisory.Consumer.Queue.>` and `….Topic.>` with `amq-advisory-replay:consumer`,
 * so the broker first replays every consumer that exists, one advisory each, then goes live.
 *
 * `settled` is true once the replay is in: the broker writes it right behind the SUBSCRIBE's RECEIPT, so
 * once both receipts are in (and the frames read with them handled) the tracker knows every consumer.
 * After a reconnect the FailoverClient re-makes the subscriptions without receipts, so the feed makes
 * fresh ones with receipts (and drops the old), to know again when it is settled.
 */
import { ADVISORY_REPLAY_HEADER, CONSUMER_ADVISORY_PREFIX } from '@mini-amq/broker';
import type { FailoverClient, Message, Subscription } from '@mini-amq/stomp';
import { ConsumerTracker, parseAdvisory, type TrackerLimit } from './demand.js';
import { DEMAND_DESTINATIONS_MAX, NETWORK_CONSUMERS_PER_DESTINATION_MAX } from './limits.js';
import type { NetworkLogger } from './logger.js';

/** The advisory topics a bridge follows on each side. */
export const CONSUMER_ADVISORY_TOPICS: readonly string[] = Object.freeze([
  `/topic/${CONSUMER_ADVISORY_PREFIX}Queue.>`,
  `/topic/${CONSUMER_ADVISORY_PREFIX}Topic.>`,
]);

export class AdvisoryFeed {
  readonly tracker = new ConsumerTracker();
  /** The tracker holds every consumer the broker has (see the file comment). */
  settled = false;
  private handles: Subscription[] = [];
  private generation = 0;
  private readonly warned = new Set<TrackerLimit>();

  constructor(
    private readonly client: FailoverClient,
    private readonly side: 'local' | 'remote',
    private readonly onChange: () => void,
    private readonly log: NetworkLogger,
  ) {}

  start(): void {
    const gen = ++this.generation;
    this.settled = false;
    const ready: Array<Promise<void>> = [];
    for (const topic of CONSUMER_ADVISORY_TOPICS) {
      const handle = this.client.subscribe(topic, (m) => this.onAdvisory(m), { headers: { [ADVISORY_REPLAY_HEADER]: 'consumer' }, receipt: true });
      this.handles.push(handle);
      if (handle.ready !== undefined) ready.push(handle.ready);
    }
    Promise.all(ready).then(() => {
      // setImmediate: advisories read in the same chunk as the RECEIPT are handled first.
      setImmediate(() => {
        if (gen !== this.generation) return;
        this.settled = true;
        this.onChange();
      });
    }, () => {});
  }

  /** The connection is gone: what it told is forgotten until the next one replays it. */
  lost(): void {
    this.generation++;
    this.settled = false;
    this.tracker.clear();
    this.onChange();
  }

  /** Connected again: subscribe afresh with receipts (see the file comment). */
  reconnected(): void {
    const old = this.handles;
    this.handles = [];
    this.tracker.clear();
    for (const h of old) h.unsubscribe().catch(() => {});
    this.start();
    this.onChange();
  }

  private onAdvisory(m: Message): void {
    const event = parseAdvisory(m.headers);
    if (event === null) return;
    const limit = this.tracker.apply(event);
    if (limit !== null && !this.warned.has(limit)) {
      this.warned.add(limit);
      const bound = limit === 'destinations'
        ? `DEMAND_DESTINATIONS_MAX (${DEMAND_DESTINATIONS_MAX}) destinations with consumers`
        : `NETWORK_CONSUMERS_PER_DESTINATION_MAX (${NETWORK_CONSUMERS_PER_DESTINATION_MAX}) network consumers on ${event.destination}`;
      this.log.warn({ side: this.side, destination: event.destination }, `bridge tracks ${bound} on the ${this.side} broker: more are not followed`);
    }
    this.onChange();
  }
}
