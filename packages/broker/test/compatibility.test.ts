// Goal: the compatibility spellings the README promises work: ActiveMQ's legacy SUB/UNSUB commands,
// RabbitMQ's `prefetch-count` as a prefetch, and `activemq.noLocal` on topics; method: StompClients on a
// real broker, with a barrier round trip to prove what did not arrive.
import { describe, expect, it } from 'vitest';
import { barrier, frame, sendMany, startTestBroker, subscribe, waitFor } from './test-helpers.js';

describe('compatibility spellings', () => {
  it('SUB and UNSUB act as SUBSCRIBE and UNSUBSCRIBE', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const got: string[] = [];
    c.on('message', (m: { text: string }) => got.push(m.text));
    await c.request(frame('SUB', { destination: '/queue/legacy', id: 'old' }));
    await sendMany(c, '/queue/legacy', 2);
    await waitFor(() => got.length === 2, 'two messages through SUB');
    await c.request(frame('UNSUB', { id: 'old' }));
    await sendMany(c, '/queue/legacy', 1);
    await barrier(c);
    expect(got).toEqual(['m1', 'm2']);
    expect(b.stats('/queue/legacy')).toMatchObject({ consumers: 0, pending: 1 });
  });

  it("prefetch-count limits unacked deliveries like activemq.prefetchSize", async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/rabbit', { ack: 'client-individual', headers: { 'prefetch-count': '2' } });
    await sendMany(c, '/queue/rabbit', 5);
    await inbox.count(2);
    await barrier(c);
    expect(inbox.messages).toHaveLength(2);
    inbox.messages[0]!.ack();
    await inbox.count(3);
    await barrier(c);
    expect(inbox.messages).toHaveLength(3);
  });

  it('activemq.noLocal keeps a connection from receiving its own topic messages', async () => {
    const b = await startTestBroker();
    const own = await b.connect();
    const other = await b.connect();
    const local = await subscribe(own, '/topic/nolocal', { headers: { 'activemq.noLocal': 'true' } });
    const remote = await subscribe(other, '/topic/nolocal');
    await sendMany(own, '/topic/nolocal', 2, {}, 'own');
    await sendMany(other, '/topic/nolocal', 1, {}, 'other');
    await remote.count(3);
    await local.count(1);
    await barrier(own);
    expect(local.texts).toEqual(['other1']);
    expect(remote.texts.sort()).toEqual(['other1', 'own1', 'own2']);
  });
});
