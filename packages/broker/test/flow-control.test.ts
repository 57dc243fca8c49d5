// Goal: producer flow control keeps a destination's memory near `destinationMemoryLimit` by no longer
// reading from a producer that fills it, resumes that producer once consumers make room, and leaves
// everyone else (other destinations, heart-beats of the paused producer) unaffected; method: a real
// broker with a 64 KiB limit, a consumer that does not ack (prefetch 1, client mode), and a producer
// writing far more than the limit as non-persistent SENDs without receipts.
import { describe, expect, it } from 'vitest';
import type { Message } from '@mini-amq/stomp';
import { sleep, startTestBroker, subscribe, waitFor } from './test-helpers.js';

const LIMIT = 64 * 1024;
const BODY = Buffer.alloc(1024, 0x61);
const COUNT = 1_500; // ~1.5 MiB written, 23 × the limit

describe('producer flow control', () => {
  it('pauses a producer at the destination memory limit and resumes it when the consumer acks', async () => {
    const b = await startTestBroker({ destinationMemoryLimit: LIMIT });
    const consumer = await b.connect();
    const inbox = await subscribe(consumer, '/queue/flow', { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' } });
    const producer = await b.connect();
    for (let i = 0; i < COUNT; i++) producer.send('/queue/flow', BODY, { n: i });

    await waitFor(() => b.stats('/queue/flow').memoryBytes >= LIMIT, 'the queue to reach its memory limit');
    await sleep(200); // a producer that was not paused would push hundreds more messages in this time
    const paused = b.stats('/queue/flow');
    const perMessage = paused.memoryBytes / (paused.pending + paused.inflight);
    expect(paused.memoryBytes).toBeLessThanOrEqual(LIMIT + 2 * perMessage);
    expect(paused.enqueued).toBeLessThan(COUNT / 10);
    expect(inbox.messages).toHaveLength(1);
    expect(producer.isOpen).toBe(true);

    // The consumer starts acking: the producer resumes and every message arrives, in order.
    const ack = (m: Message): void => m.ack();
    inbox.messages[0]!.ack();
    inbox.onMessage = ack;
    await inbox.count(COUNT, 20_000);
    expect(inbox.messages.map((m) => Number(m.headers.n))).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    await waitFor(() => b.stats('/queue/flow').memoryBytes === 0, 'the queue to drain');
  });

  it('keeps serving other destinations, and the same consumer connection, while a producer is paused', async () => {
    const b = await startTestBroker({ destinationMemoryLimit: LIMIT });
    const consumer = await b.connect();
    await subscribe(consumer, '/queue/flow.full', { ack: 'client', headers: { 'activemq.prefetchSize': '1' } });
    const producer = await b.connect();
    for (let i = 0; i < 300; i++) producer.send('/queue/flow.full', BODY);
    await waitFor(() => b.stats('/queue/flow.full').memoryBytes >= LIMIT, 'the queue to fill');
    const other = await b.connect();
    const otherInbox = await subscribe(other, '/queue/flow.other');
    await other.sendWithReceipt('/queue/flow.other', 'unaffected');
    await otherInbox.count(1);
    await consumer.sendWithReceipt('/queue/flow.other', 'also fine');
    await otherInbox.count(2);
  });

  it('does not time out the heart-beats of a producer it stopped reading from', async () => {
    const b = await startTestBroker({ destinationMemoryLimit: LIMIT });
    const consumer = await b.connect();
    const inbox = await subscribe(consumer, '/queue/flow.hb', { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' } });
    const producer = await b.connect({ heartBeat: [100, 0] });
    for (let i = 0; i < 300; i++) producer.send('/queue/flow.hb', BODY);
    await waitFor(() => b.stats('/queue/flow.hb').memoryBytes >= LIMIT, 'the queue to fill');
    await sleep(600); // 4 × the 150 ms the broker allows a silent peer
    expect(producer.isOpen).toBe(true);
    inbox.onMessage = (m) => m.ack();
    inbox.messages[0]!.ack();
    await inbox.count(300);
    await producer.sendWithReceipt('/queue/flow.hb', 'done');
  });
});
