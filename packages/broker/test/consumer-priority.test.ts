// Goal: `activemq.priority` on SUBSCRIBE [ActiveMQ: Consumer Priority]: a queue serves its highest-priority
// consumers that have room first and lower ones only with what those cannot take (full, or a selector
// refuses), equal priorities share round robin as before, and a bad value is refused; method: StompClients
// on a real broker, prefetch to make a consumer full.
import { describe, expect, it } from 'vitest';
import { rejectionOf, sendMany, startTestBroker, subscribe, waitFor } from './test-helpers.js';

describe('consumer priority', () => {
  it('sends everything to the higher-priority consumer while it has room', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const low = await subscribe(c, '/queue/p', { id: 'low', headers: { 'activemq.priority': '-1' } });
    const normal = await subscribe(c, '/queue/p', { id: 'normal' });
    const high = await subscribe(c, '/queue/p', { id: 'high', headers: { 'activemq.priority': '9' } });
    await sendMany(await b.connect(), '/queue/p', 20);
    await high.count(20);
    expect(normal.messages).toHaveLength(0);
    expect(low.messages).toHaveLength(0);
  });

  it('gives lower priorities what a full higher-priority consumer cannot take', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const high = await subscribe(c, '/queue/p', { id: 'high', ack: 'client-individual', headers: { 'activemq.priority': '5', 'activemq.prefetchSize': '3' } });
    const a = await subscribe(c, '/queue/p', { id: 'a' });
    const b2 = await subscribe(c, '/queue/p', { id: 'b' });
    await sendMany(await b.connect(), '/queue/p', 13);
    await waitFor(() => high.messages.length + a.messages.length + b2.messages.length === 13, 'all 13 delivered');
    expect(high.messages).toHaveLength(3);
    // The two at the default priority share the rest round robin.
    expect([a.messages.length, b2.messages.length].sort()).toEqual([5, 5]);
  });

  it('passes a message the higher-priority consumer\'s selector refuses to a lower one', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const high = await subscribe(c, '/queue/p', { id: 'high', headers: { 'activemq.priority': '5', selector: "kind = 'x'" } });
    const low = await subscribe(c, '/queue/p', { id: 'low' });
    const p = await b.connect();
    await p.sendWithReceipt('/queue/p', 'y1', { kind: 'y' });
    await p.sendWithReceipt('/queue/p', 'x1', { kind: 'x' });
    await waitFor(() => high.messages.length + low.messages.length === 2, 'both delivered');
    expect(high.texts).toEqual(['x1']);
    expect(low.texts).toEqual(['y1']);
  });

  it('refuses a priority outside a Java byte', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const err = await rejectionOf(c.subscribe('/queue/p', () => {}, { headers: { 'activemq.priority': '128' }, receipt: true }).ready!);
    expect(err.message).toMatch(/activemq\.priority must be an integer from -128 to 127/);
  });
});
