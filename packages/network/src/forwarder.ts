/**
 * One forwarding direction of a bridge: it holds the subscriptions a plan (demand.ts) asks for on the
 * source broker and sends what they receive to the sink broker. The IO shell around `planForwarding`.
 *
 * Nothing is lost in transit: a message is SENT to the sink with a receipt and ACKed on the source only
 * once that RECEIPT is in (ack mode client-individual). The sink's FailoverClient re-sends a SEND whose
 * receipt a lost connection took, with the same amq-producer-id/seq, which the sink drops as a duplicate;
 * a source connection lost before the ACK makes the source redeliver, so a message is forwarded at least
 * once and, barring a source failure, exactly once.
 *
 * A subscription whose demand ends (or whose selector or path must change) is "draining": it forwards
 * nothing more, and it is UNSUBSCRIBEd once the messages it already sent are receipted and acked, so the
 * source gets back only what was never sent (its unacked messages return to the queue). If demand comes
 * back first, it simply resumes.
 */
import { CONSUMER_PRIORITY_HEADER, NETWORK_PATH_HEADER, NETWORK_SUBSCRIPTION_HEADER } from '@mini-amq/broker';
import { StompError, type FailoverClient, type Message, type Subscription } from '@mini-amq/stomp';
import { sameSubscription, type ForwardWant } from './demand.js';
import {
  FORWARD_IN_FLIGHT_BYTES_MAX, FORWARD_IN_FLIGHT_MESSAGES_MAX, FORWARD_PREFETCH, FORWARD_SUBSCRIPTIONS_MAX,
  TOPIC_MESSAGE_IDS_REMEMBERED_MAX,
} from './limits.js';
import { forwardedHeaders, loopGuardSelector } from './loop-guard.js';
import type { NetworkLogger } from './logger.js';

/** What a direction needs to know besides its plan. */
export interface ForwarderSettings {
  /** For logs: `outbound` (local to remote) or `inbound` (remote to local, duplex). */
  readonly direction: 'outbound' | 'inbound';
  readonly networkTTL: number;
  /** decreaseNetworkConsumerPriority: subscribe below every local consumer (see subscriptionHeaders). */
  readonly decreasePriority: boolean;
  readonly log: NetworkLogger;
}

interface ForwardSubscription {
  readonly want: ForwardWant;
  /** The sink's name when it was made (part of its selector). */
  readonly sink: string;
  readonly handle: Subscription;
  state: 'active' | 'draining' | 'gone';
  /** Sent to the sink, receipt not yet in. */
  inflight: number;
  /**
   * Received while draining: not forwarded, and not acked, so they go back to the source when it
   * unsubscribes, or are forwarded after all if demand returns first.
   */
  held: Message[];
}

/**
 * A message received while FORWARD_IN_FLIGHT_* was reached, waiting its turn. The backlog needs no bound
 * of its own: the source sends a subscription at most FORWARD_PREFETCH unacked messages, and there are at
 * most FORWARD_SUBSCRIPTIONS_MAX subscriptions.
 */
interface Backlogged { readonly sub: ForwardSubscription; readonly message: Message }

/** One direction: source broker → sink broker. */
export class Forwarder {
  private readonly active = new Map<string, ForwardSubscription>();
  private readonly draining = new Set<ForwardSubscription>();
  private backlog: Backlogged[] = [];
  private inflight = 0;
  private inflightBytes = 0;
  /** Topic message ids forwarded lately, oldest first (see TOPIC_MESSAGE_IDS_REMEMBERED_MAX). */
  private readonly recentTopicIds = new Set<string>();
  private stopping = false;
  private idleWaiters: Array<() => void> = [];
  private warnedSubscriptions = false;
  private subscriptionSeq = 0;
  /** Messages sent to the sink and receipted. */
  forwarded = 0;

  constructor(
    private readonly source: FailoverClient,
    private readonly sink: FailoverClient,
    /** The source broker's name, which forwarded messages get in their path (a group's new master may differ). */
    public sourceBroker: string,
    private readonly settings: ForwarderSettings,
  ) {}

  /** Destinations forwarded now on demand (statically included ones left out). */
  demand(): string[] {
    return [...this.active.values()].filter((s) => !s.want.static).map((s) => s.want.destination).sort();
  }

  /** Holds exactly the subscriptions `wants` asks for, forwarding to broker `sink`. */
  apply(wants: ReadonlyMap<string, ForwardWant>, sink: string): void {
    if (this.stopping) return;
    for (const [destination, sub] of [...this.active]) {
      const want = wants.get(destination);
      if (want === undefined || !sameSubscription(want, sub.want) || sub.sink !== sink) this.drain(sub);
    }
    for (const [destination, want] of wants) {
      if (this.active.has(destination)) continue;
      const resumed = [...this.draining].find((s) => sameSubscription(s.want, want) && s.sink === sink);
      if (resumed !== undefined) {
        this.draining.delete(resumed);
        resumed.state = 'active';
        this.active.set(destination, resumed);
        for (const m of resumed.held.splice(0)) this.onMessage(resumed, m);
        continue;
      }
      if (this.active.size + this.draining.size >= FORWARD_SUBSCRIPTIONS_MAX) {
        if (!this.warnedSubscriptions) {
          this.warnedSubscriptions = true;
          this.settings.log.warn({ direction: this.settings.direction, limit: FORWARD_SUBSCRIPTIONS_MAX }, `bridge holds FORWARD_SUBSCRIPTIONS_MAX (${FORWARD_SUBSCRIPTIONS_MAX}) subscriptions: demand for more destinations is not forwarded`);
        }
        continue;
      }
      this.subscribe(want, sink);
    }
  }

  private subscribe(want: ForwardWant, sink: string): void {
    const holder: { sub?: ForwardSubscription } = {};
    let handle: Subscription;
    try {
      handle = this.source.subscribe(want.destination, (m) => this.onMessage(holder.sub!, m), {
        id: `net-${this.settings.direction}-${++this.subscriptionSeq}`,
        ack: 'client-individual',
        headers: this.subscriptionHeaders(want, sink),
      });
    } catch (err) {
      // The source client closed for good: the bridge is ending this session and starts a new one.
      this.settings.log.warn({ err, destination: want.destination }, 'bridge could not subscribe');
      return;
    }
    const sub: ForwardSubscription = { want, sink, handle, state: 'active', inflight: 0, held: [] };
    holder.sub = sub;
    this.active.set(want.destination, sub);
    this.settings.log.info({ direction: this.settings.direction, destination: want.destination, path: want.path, replay: want.replay }, `bridge forwards ${want.destination} to ${sink}`);
  }

  /**
   * The SUBSCRIBE headers: a network subscription whose path is the brokers its messages go to (so the
   * source's advisories show where it forwards), the loop-guard selector unless replaying, the bridge
   * prefetch and, with decreaseNetworkConsumerPriority, priority -(brokers away): every local consumer
   * (priority 0 and up) is served first, and nearer demand before farther.
   */
  private subscriptionHeaders(want: ForwardWant, sink: string): Record<string, string> {
    const headers: Record<string, string> = {
      [NETWORK_SUBSCRIPTION_HEADER]: 'true',
      [NETWORK_PATH_HEADER]: want.path.join(','),
      'activemq.prefetchSize': String(FORWARD_PREFETCH),
    };
    if (!want.replay) headers.selector = loopGuardSelector(sink, this.settings.networkTTL);
    if (this.settings.decreasePriority) headers[CONSUMER_PRIORITY_HEADER] = String(-want.path.length);
    return headers;
  }

  private drain(sub: ForwardSubscription): void {
    if (sub.state !== 'active') return;
    this.active.delete(sub.want.destination);
    sub.state = 'draining';
    this.draining.add(sub);
    // Backlogged messages were never sent: they go back with the subscription.
    const kept: Backlogged[] = [];
    for (const b of this.backlog) {
      if (b.sub === sub) sub.held.push(b.message);
      else kept.push(b);
    }
    this.backlog = kept;
    this.finishIfIdle(sub);
  }

  private finishIfIdle(sub: ForwardSubscription): void {
    if (sub.state !== 'draining' || sub.inflight > 0) return;
    sub.state = 'gone';
    this.draining.delete(sub);
    this.settings.log.info({ direction: this.settings.direction, destination: sub.want.destination, returned: sub.held.length }, `bridge stops forwarding ${sub.want.destination}`);
    sub.held = [];
    sub.handle.unsubscribe().catch((err: Error) => {
      this.settings.log.warn({ err, destination: sub.want.destination }, 'bridge could not unsubscribe (the connection closing returns its messages anyway)');
    });
  }

  private onMessage(sub: ForwardSubscription, m: Message): void {
    if (this.stopping) return; // the connection closing takes it back
    if (sub.state !== 'active') { sub.held.push(m); return; }
    if (this.backlog.length > 0 || !this.hasRoom(m)) { this.backlog.push({ sub, message: m }); return; }
    this.send(sub, m);
  }

  /**
   * True for a topic message already forwarded through another subscription (a wildcard and an exact
   * topic both with demand): it is acked and not sent again. Remembers the ones that go.
   */
  private alreadyForwarded(sub: ForwardSubscription, m: Message): boolean {
    if (!sub.want.destination.startsWith('/topic/')) return false;
    if (this.recentTopicIds.has(m.messageId)) return true;
    this.recentTopicIds.add(m.messageId);
    if (this.recentTopicIds.size > TOPIC_MESSAGE_IDS_REMEMBERED_MAX) this.recentTopicIds.delete(this.recentTopicIds.values().next().value as string);
    return false;
  }

  private hasRoom(m: Message): boolean {
    if (this.inflight >= FORWARD_IN_FLIGHT_MESSAGES_MAX) return false;
    return this.inflight === 0 || this.inflightBytes + m.body.length <= FORWARD_IN_FLIGHT_BYTES_MAX;
  }

  private send(sub: ForwardSubscription, m: Message): void {
    if (this.alreadyForwarded(sub, m)) { m.ack(); return; }
    const bytes = m.body.length;
    sub.inflight++;
    this.inflight++;
    this.inflightBytes += bytes;
    // A wildcard topic subscription receives many topics: each message goes to its own.
    const destination = m.destination === '' ? sub.want.destination : m.destination;
    let sent: Promise<void>;
    try {
      sent = this.sink.sendWithReceipt(destination, m.body, forwardedHeaders(m.frame.headers, this.sourceBroker));
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      () => {
        m.ack();
        this.forwarded++;
      },
      (err: unknown) => this.sendFailed(m, destination, err),
    ).finally(() => {
      sub.inflight--;
      this.inflight--;
      this.inflightBytes -= bytes;
      this.finishIfIdle(sub);
      this.pump();
      if (this.inflight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }

  /**
   * The sink refused the message (an ERROR naming it) or the bridge is closing. Closing: nothing to do,
   * the source takes it back with the connection. Refused: NACK, so the source's redelivery policy counts
   * it and, past maximumRedeliveries, moves it to its dead letter queue rather than retry it forever.
   */
  private sendFailed(m: Message, destination: string, err: unknown): void {
    if (this.stopping || (err instanceof StompError && err.code === 'STOMP_CONNECTION_CLOSED')) return;
    this.settings.log.warn({ err, direction: this.settings.direction, destination }, 'the remote broker refused a forwarded message; it goes back to its queue (NACK)');
    m.nack();
  }

  /** Sends backlogged messages while there is room. */
  private pump(): void {
    while (this.backlog.length > 0 && !this.stopping) {
      const next = this.backlog[0]!;
      if (!this.hasRoom(next.message)) return;
      this.backlog.shift();
      this.send(next.sub, next.message);
    }
  }

  /**
   * The source connection is gone: the source redelivers what it had sent us, so messages not yet sent
   * are dropped here (their acks would be dropped anyway). Subscriptions stay: the FailoverClient makes
   * them again on its next connection.
   */
  sourceLost(): void {
    this.backlog = [];
    for (const sub of [...this.active.values(), ...this.draining]) sub.held = [];
  }

  /**
   * Stops forwarding: nothing new is sent, and this resolves once what was sent is receipted (and acked)
   * or after `graceMs`; true when nothing is left in flight. The caller then closes the connections,
   * which returns the rest to the source.
   */
  async stop(graceMs: number): Promise<boolean> {
    this.stopping = true;
    this.backlog = [];
    if (this.inflight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => { this.idleWaiters.push(resolve); }),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); }),
    ]);
    clearTimeout(timer);
    return this.inflight === 0;
  }
}
