/**
 * One STOMP subscription: a consumer on a queue (or on a topic subscription's private queue) that turns
 * messages into MESSAGE frames, honours prefetch and ack mode, and remembers what is unacked.
 */
import { encodeFrame, type Frame, type StompVersion } from '@mini-amq/stomp';
import type { Delivery, TopicSubscription } from './broker.js';
import type { DestinationName } from './destination.js';
import type { QueuedMessage } from './message.js';
import type { Queue, QueueConsumer } from './queue.js';
import type { Selector } from './selector.js';

export type AckMode = 'auto' | 'client' | 'client-individual';

/** ActiveMQ's MAX_PREFETCH_SIZE (Short.MAX_VALUE - 1): the largest prefetch a consumer may ask for. */
export const PREFETCH_MAX = 32766;

/**
 * [ActiveMQ: Consumer Priority] SUBSCRIBE header: a queue dispatches to its highest-priority consumers
 * that have room first, and to lower ones only while those are full (or their selectors refuse). Clients
 * use 0 (the default) to 127, ActiveMQ's documented range; the header takes any Java byte (ConsumerInfo's
 * type), so a network bridge with decreaseNetworkConsumerPriority subscribes below every local consumer.
 */
export const CONSUMER_PRIORITY_HEADER = 'activemq.priority';
export const CONSUMER_PRIORITY_MIN = -128;
export const CONSUMER_PRIORITY_MAX = 127;

/** What a subscription needs from its connection. */
export interface SubscriptionOwner {
  readonly version: StompVersion;
  readonly writable: boolean;
  write(bytes: Buffer): void;
  /** Registers a 1.2 `ack` id so ACK/NACK frames can find the delivery. */
  newAckId(sub: Subscription, messageId: string): string;
  forgetAckId(ackId: string): void;
  autoAck(delivery: Delivery): void;
}

export interface Unacked extends Delivery {
  readonly ackId: string;
  /** Delivery order on its subscription, so a restored delivery goes back to its old place. */
  readonly seq: number;
}

export class Subscription implements QueueConsumer {
  /** Unacked deliveries keyed by message-id, in delivery order (a `client` ACK is cumulative over it). */
  readonly unacked = new Map<string, Unacked>();
  private deliveries = 0;
  private closedFlag = false;

  constructor(
    readonly id: string,
    /** The destination header as the client wrote it; echoed on temp destinations. */
    readonly destinationText: string,
    readonly destination: DestinationName,
    readonly ackMode: AckMode,
    readonly prefetch: number,
    readonly selector: Selector | null,
    readonly queue: Queue,
    /** Set for topic subscriptions (durable or not). */
    readonly topicSubscription: TopicSubscription | null,
    private readonly owner: SubscriptionOwner,
    /** See CONSUMER_PRIORITY_HEADER; higher is served first. */
    readonly priority = 0,
  ) {}

  get closed(): boolean { return this.closedFlag; }

  /**
   * True from a SUBSCRIBE with a receipt until its RECEIPT is written: the queue skips the subscription
   * meanwhile, so no MESSAGE overtakes the RECEIPT (ActiveMQ sets prefetch 0 until then).
   */
  held = false;

  ready(): boolean {
    return !this.held && !this.closedFlag && this.owner.writable && this.unacked.size < this.prefetch;
  }

  /** Ends the hold of `held`: deliveries start. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.queue.scheduleDispatch();
  }

  deliver(queue: Queue, m: QueuedMessage): void {
    const messageId = m.message.messageId;
    let ackId: string | undefined;
    if (this.ackMode !== 'auto') {
      ackId = this.owner.newAckId(this, messageId);
      this.unacked.set(messageId, { queue, m, ackId, seq: ++this.deliveries });
    }
    this.owner.write(encodeFrame(this.messageFrame(m, ackId), this.owner.version));
    if (this.ackMode === 'auto') this.owner.autoAck({ queue, m });
  }

  private messageFrame(m: QueuedMessage, ackId: string | undefined): Frame {
    const msg = m.message;
    const headers: Array<[string, string]> = [
      ['subscription', this.id],
      ['message-id', msg.messageId],
      ['destination', this.destination.kind.startsWith('temp') ? this.destinationText : msg.destination],
    ];
    // [STOMP 1.2: MESSAGE] an `ack` header is present when the subscription needs explicit acks.
    if (ackId !== undefined && this.owner.version === '1.2') headers.push(['ack', ackId]);
    if (m.redeliveryCount > 0) headers.push(['redelivered', 'true']);
    headers.push(
      ['persistent', m.persistent ? 'true' : 'false'],
      ['priority', String(msg.priority)],
      ['timestamp', String(msg.timestamp)],
      ['expires', String(msg.expires)],
    );
    if (this.owner.version === '1.0') {
      // STOMP 1.0 has no header escaping: a header a 1.2 producer set with a line feed or a colon in its
      // name cannot be written to this consumer without corrupting the frame, so it is left out.
      for (const h of msg.headers) if (representableIn10(h)) headers.push(h);
    } else {
      for (const h of msg.headers) headers.push(h);
    }
    headers.push(['content-length', String(msg.body.length)]);
    return { command: 'MESSAGE', headers, body: msg.body };
  }

  /** Deliveries an ACK or NACK with this message id covers: one, or (client mode) all up to it. */
  take(messageId: string): Unacked[] | null {
    const target = this.unacked.get(messageId);
    if (target === undefined) return null;
    if (this.ackMode !== 'client') {
      this.unacked.delete(messageId);
      this.owner.forgetAckId(target.ackId);
      return [target];
    }
    const out: Unacked[] = [];
    for (const [id, u] of this.unacked) {
      this.unacked.delete(id);
      this.owner.forgetAckId(u.ackId);
      out.push(u);
      if (id === messageId) break;
    }
    return out;
  }

  /**
   * Puts deliveries back as unacked (a transaction holding their ACK was aborted), in delivery order:
   * appended at the end, a later cumulative `client` ACK would no longer cover them.
   */
  restore(deliveries: readonly Unacked[]): void {
    const all = [...this.unacked.values(), ...deliveries].sort((a, b) => a.seq - b.seq);
    this.unacked.clear();
    for (const u of all) this.unacked.set(u.m.message.messageId, u);
  }

  /** Stops delivery and hands back what was unacked, in delivery order. */
  close(): QueuedMessage[] {
    this.closedFlag = true;
    const out: QueuedMessage[] = [];
    for (const u of this.unacked.values()) { out.push(u.m); this.owner.forgetAckId(u.ackId); }
    this.unacked.clear();
    return out;
  }
}

/** Whether STOMP 1.0, which has no escaping, can carry this header without corrupting the frame. */
export function representableIn10([name, value]: [string, string]): boolean {
  return !/[\n:]/.test(name) && !name.endsWith('\r') && !value.includes('\n') && !value.endsWith('\r');
}
