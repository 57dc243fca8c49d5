// concurrentStoreAndDispatchQueues (ActiveMQ's KahaDB setting): by default a persistent message reaches
// consumers while it is being stored; with false (a replicated group's master) only once the store says its
// write is durable, and still in send order. A store whose writes we release by hand shows the difference.
import { describe, expect, it } from 'vitest';
import { MemoryStore, type AppendResult, type LogEntry } from '@mini-amq/store';
import { startTestBroker, subscribe, waitFor } from './test-helpers.js';

/** A MemoryStore whose `durable` promises resolve only when the test says so. */
class HeldStore extends MemoryStore {
  private readonly held: Array<() => void> = [];
  override append(entries: readonly LogEntry[]): AppendResult {
    const result = super.append(entries);
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
});
