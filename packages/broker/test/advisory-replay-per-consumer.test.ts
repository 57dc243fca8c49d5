// Goal: an advisory subscriber that sets `amq-advisory-replay:consumer` (a network bridge) is first told
// every consumer that exists, one replayed ConsumerAdded each with its own network path, where the default
// names one per destination; a bad value is refused; method: StompClients on a real broker.
import { describe, expect, it } from 'vitest';
import { barrier, rejectionOf, startTestBroker, subscribe } from './test-helpers.js';

describe('advisory replay per consumer', () => {
  it('replays one ConsumerAdded per consumer, each with its id, flag and path', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const net = (path: string) => ({ 'activemq.networkSubscription': 'true', 'amq-network-path': path });
    await subscribe(c, '/queue/a', { id: 'n1', headers: net('B') });
    await subscribe(c, '/queue/a', { id: 'n2', headers: net('C,D') });
    await subscribe(c, '/queue/a', { id: 'l1' });
    await subscribe(c, '/topic/t', { id: 't1' });
    const watcher = await b.connect();
    const inbox = await subscribe(watcher, '/topic/ActiveMQ.Advisory.Consumer.>', { headers: { 'amq-advisory-replay': 'consumer' } });
    await inbox.count(4);
    await barrier(watcher);
    const facts = inbox.messages.map((m) => [m.headers.consumerDestination, m.headers.consumerId?.split(':').pop(), m.headers.networkConsumer, m.headers.networkPath, m.headers.consumerCount, m.headers.replay]);
    expect(facts.sort()).toEqual([
      ['/queue/a', 'l1', 'false', undefined, '3', 'true'],
      ['/queue/a', 'n1', 'true', 'B', '3', 'true'],
      ['/queue/a', 'n2', 'true', 'C,D', '3', 'true'],
      ['/topic/t', 't1', 'false', undefined, '1', 'true'],
    ]);
  });

  it('refuses a value other than destination or consumer', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const err = await rejectionOf(c.subscribe('/topic/ActiveMQ.Advisory.Consumer.>', () => {}, { headers: { 'amq-advisory-replay': 'all' }, receipt: true }).ready!);
    expect(err.message).toMatch(/amq-advisory-replay must be destination or consumer/);
  });
});
