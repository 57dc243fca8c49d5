/**
 * A producer and a consumer that keep books: which sequence numbers were receipted, which were
 * received, on which broker, and in which connection "incarnation" (bumped on every reconnect).
 */
import { FailoverClient } from '@mini-amq/stomp';

export interface Delivery { readonly seq: number; readonly messageId: string; readonly uri: string | null; readonly incarnation: number; readonly redelivered: boolean }

export class CountingConsumer {
  readonly deliveries: Delivery[] = [];
  incarnation = 0;
  lastAt = Date.now();
  private constructor(readonly client: FailoverClient) {
    client.on('reconnect', () => { this.incarnation++; });
    client.on('error', () => {});
  }

  static async start(url: string, destination: string): Promise<CountingConsumer> {
    const client = await FailoverClient.connect(url);
    const consumer = new CountingConsumer(client);
    client.subscribe(destination, (m) => {
      consumer.deliveries.push({ seq: Number(m.headers.seq), messageId: m.messageId, uri: client.uri, incarnation: consumer.incarnation, redelivered: m.headers.redelivered === 'true' });
      consumer.lastAt = Date.now();
      m.ack();
    }, { ack: 'client-individual', id: 'counting' });
    return consumer;
  }

  /** Resolves once nothing has arrived for `quietMs` (or `maxMs` passed). */
  async idle(quietMs: number, maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (Date.now() - this.lastAt < quietMs && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  seqs(): number[] { return this.deliveries.map((d) => d.seq); }
}

export class CountingProducer {
  readonly receipted = new Map<number, string | null>();
  private nextSeq = 0;
  private stopped = false;
  private running: Promise<void> | null = null;
  private constructor(readonly client: FailoverClient, private readonly destination: string, private readonly inFlight: number) {
    client.on('error', () => {});
  }

  static async start(url: string, destination: string, inFlight: number): Promise<CountingProducer> {
    const producer = new CountingProducer(await FailoverClient.connect(url), destination, inFlight);
    producer.running = producer.loop();
    return producer;
  }

  get sent(): number { return this.nextSeq; }

  private async loop(): Promise<void> {
    const pending = new Set<Promise<void>>();
    while (!this.stopped) {
      const seq = this.nextSeq++;
      const p: Promise<void> = this.client.sendWithReceipt(this.destination, `message ${seq}`, { persistent: 'true', seq: String(seq) })
        .then(() => { this.receipted.set(seq, this.client.uri); }, () => {})
        .finally(() => pending.delete(p));
      pending.add(p);
      if (pending.size >= this.inFlight) await Promise.race(pending);
    }
    await Promise.allSettled(pending);
  }

  /** Stops sending and waits until every SEND has its receipt (the failover client re-sends as needed). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

/** Seqs that occur more than once in a list. */
export function repeated(seqs: readonly number[]): number[] {
  const seen = new Set<number>();
  const twice = new Set<number>();
  for (const s of seqs) (seen.has(s) ? twice : seen).add(s);
  return [...twice].sort((a, b) => a - b);
}

/** What a consumer's books say against a producer's receipts; see audit(). */
export interface DeliveryAudit {
  /** Receipted seqs never delivered. */
  readonly missing: number[];
  /** Seqs delivered twice within one connection incarnation (a redelivery needs a reconnect). */
  readonly sameConnectionTwice: number[];
  /**
   * Seqs delivered with two different message-ids: stored twice, i.e. a re-sent SEND the producer
   * de-duplication did not drop (a redelivery keeps its message-id).
   */
  readonly storedTwice: number[];
  /** First deliveries (of each seq) that came after a higher seq's first delivery. */
  readonly firstsOutOfOrder: number[];
  /** Deliveries beyond the first of each seq. */
  readonly redeliveries: number;
}

/** Checks a CountingConsumer's deliveries against a CountingProducer's receipts. */
export function audit(producer: CountingProducer, consumer: CountingConsumer): DeliveryAudit {
  const delivered = new Set(consumer.seqs());
  const missing = [...producer.receipted.keys()].filter((seq) => !delivered.has(seq));
  const firstIncarnation = new Map<number, number>();
  const ids = new Map<number, Set<string>>();
  const sameConnectionTwice: number[] = [];
  for (const d of consumer.deliveries) {
    const first = firstIncarnation.get(d.seq);
    if (first === undefined) firstIncarnation.set(d.seq, d.incarnation);
    else if (first === d.incarnation) sameConnectionTwice.push(d.seq);
    let set = ids.get(d.seq);
    if (set === undefined) ids.set(d.seq, (set = new Set()));
    set.add(d.messageId);
  }
  const storedTwice = [...ids].filter(([, set]) => set.size > 1).map(([seq]) => seq);
  const firsts = [...firstIncarnation.keys()];
  const firstsOutOfOrder = firsts.filter((seq, i) => i > 0 && seq < firsts[i - 1]!);
  return { missing, sameConnectionTwice, storedTwice, firstsOutOfOrder, redeliveries: consumer.deliveries.length - firstIncarnation.size };
}
