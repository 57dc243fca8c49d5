/**
 * Learns the remote broker's name, which a bridge needs before it forwards anything: it is the sink its
 * loop-guard selector keeps messages from going back to, and the head of the path its subscriptions
 * advertise. The bridge asks the broker's statistics destination (`ActiveMQ.Statistics.Broker`, answered
 * with JSON naming `brokerName`) on every (re)connection, and again every REMOTE_IDENTITY_RETRY_MS until
 * an answer comes: a new master of a group answers for itself.
 */
import { STATISTICS_BROKER } from '@mini-amq/broker';
import type { FailoverClient, Message } from '@mini-amq/stomp';
import { REMOTE_IDENTITY_RETRY_MS } from './limits.js';

const REPLY_TO = '/temp-queue/amq-bridge-identity';

export class RemoteIdentity {
  /** The remote broker's name, once it answered. */
  name: string | null = null;
  private answered = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private asking = false;

  constructor(private readonly client: FailoverClient, private readonly onName: (name: string) => void) {}

  start(): void {
    this.client.subscribe(REPLY_TO, (m) => this.onAnswer(m));
    this.ask();
  }

  /** Connected again (perhaps to another member of a group): ask again. */
  reconnected(): void {
    this.answered = false;
    this.ask();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private ask(): void {
    if (this.stopped || this.answered) return;
    // One question at a time: while the broker is away the client queues it, and re-sends it on reconnect.
    if (!this.asking) {
      this.asking = true;
      this.client.sendWithReceipt(`/queue/${STATISTICS_BROKER}`, '', { 'reply-to': REPLY_TO })
        .catch(() => {})
        .finally(() => { this.asking = false; });
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.ask(), REMOTE_IDENTITY_RETRY_MS);
    this.timer.unref();
  }

  private onAnswer(m: Message): void {
    let name: unknown;
    try {
      name = (JSON.parse(m.text) as { brokerName?: unknown }).brokerName;
    } catch {
      return;
    }
    if (typeof name !== 'string' || name === '') return;
    this.answered = true;
    clearTimeout(this.timer);
    this.name = name;
    this.onName(name);
  }
}
