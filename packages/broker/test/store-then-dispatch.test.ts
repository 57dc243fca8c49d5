// concurrentStoreAndDispatchQueues (ActiveMQ's KahaDB setting): by default a persistent message reaches
// consumers while it is being stored; with false (a replicated group's master) only once the store says its
// write is durable, and still in send order. A store whose writes we release by hand shows the difference.
import { describe, expect, it } from 'vitest';
import { MemoryStore, MemoryVolume, type AppendResult, type LogEntry } from '@mini-amq/store';
import { startTestBroker, subscribe, waitFor } from './test-helpers.js';

/** A MemoryStore whose `durable` promises resolve only when the test says so. */
class HeldStore extends MemoryStore {
  /** Hold nothing until told to (a broker recovering from the volume writes nothing it must wait for). */
  holding = true;
  private readonly held: Array<() => void> = [];
  override append(entries: readonly LogEntry[]): AppendResult {
    const result = super.append(entries);
    if (!this.holding) return result;
    const durable = new Promise<void>((resolve) => this.held.push(() => result.durable.then(resolve)));
    return { firstIndex: result.firstIndex, durable };
  }
  get waiting(): number { return this.held.length; }
  release(): void {
    for (const r of this.held.splice(0)) r();
  }
}

describe('concurrentStoreAndDispatchQueues', () => {
  it('false: a persistent message is dispatched only once its write is durable, in send order', async () => {
    const store = new HeldStore();
    const broker = await startTestBroker({ store, concurrentStoreAndDispatchQueues: false });
    const consumer = await broker.connect();
    const inbox = await subscribe(consumer, '/queue/held');
    const producer = await broker.connect();
    for (let i = 1; i <= 3; i++) producer.send('/queue/held', `p${i}`, { persistent: 'true' });
    await waitFor(() => store.waiting >= 3, 'three writes waiting for the store');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(inbox.texts).toEqual([]);
    store.release();
    await inbox.count(3);
    expect(inbox.texts).toEqual(['p1', 'p2', 'p3']);
  });

  it('true (the default): it is dispatched while the write is still under way', async () => {
    const store = new HeldStore();
    const broker = await startTestBroker({ store });
    const consumer = await broker.connect();
    const inbox = await subscribe(consumer, '/queue/held');
    const producer = await broker.connect();
    producer.send('/queue/held', 'early', { persistent: 'true' });
    await inbox.count(1);
    expect(store.waiting).toBeGreaterThanOrEqual(1);
    store.release();
  });

  it('false: a message stored but not yet dispatched is not also paged in from a recovered backlog', async () => {
    // A backlog larger than the in-memory window, on a volume a second broker recovers from.
    const volume = new MemoryVolume();
    const first = await startTestBroker({ store: new MemoryStore({ volume }) });
    const p1 = await first.connect();
    for (let i = 0; i < 2_500; i++) p1.send('/queue/backlog', `old${i}`, { persistent: 'true' });
    await p1.disconnect();
    await first.close();

    const store = new HeldStore({ volume });
    store.holding = false;
    const broker = await startTestBroker({ store, concurrentStoreAndDispatchQueues: false });
    store.holding = true;
    const producer = await broker.connect();
    producer.send('/queue/backlog', 'new', { persistent: 'true' });
    // Its write lands in the volume (readable) while its dispatch waits for the held `durable`.
    await waitFor(() => store.waiting >= 1, 'the new write waiting');
    const consumer = await broker.connect();
    const inbox = await subscribe(consumer, '/queue/backlog', { ack: 'client-individual' });
    inbox.onMessage = (m) => m.ack();
    await inbox.count(2_500);
    await new Promise((resolve) => setTimeout(resolve, 200));
    store.release();
    await inbox.count(2_501);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(inbox.texts.filter((t) => t === 'new')).toEqual(['new']);
    expect(inbox.texts).toHaveLength(2_501);
  });
});
