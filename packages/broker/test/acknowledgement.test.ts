// Goal: ack modes, prefetch, NACK, redelivery and the dead letter queue behave as [STOMP 1.2: SUBSCRIBE
// ack Header, ACK, NACK] and ActiveMQ's redelivery policy say, in every protocol version's ACK shape;
// method: StompClients on a real broker, counting deliveries and reading the broker's queue stats.
import { describe, expect, it } from 'vitest';
import { barrier, frame, headersOf, messageOf, sendMany, startTestBroker, subscribe, waitFor } from './test-helpers.js';

const persistent = { persistent: 'true' };

describe('ack modes', () => {
  it('auto: a message is gone once delivered; a later consumer gets nothing', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/auto');
    await sendMany(c, '/queue/auto', 3, persistent);
    await inbox.count(3);
    await waitFor(() => b.stats('/queue/auto').dequeued === 3, 'three acks');
    await c.disconnect();
    const later = await b.connect();
    const again = await subscribe(later, '/queue/auto');
    await barrier(later);
    expect(again.messages).toHaveLength(0);
    expect(b.stats('/queue/auto')).toMatchObject({ pending: 0, inflight: 0 });
  });

  it('client: ACK of the 3rd acknowledges 1–3; after the consumer leaves only 4 and 5 come back, redelivered', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    await sendMany(producer, '/queue/cumulative', 5, persistent);
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/cumulative', { ack: 'client' });
    const got = await inbox.count(5);
    got[2]!.ack();
    await barrier(c);
    expect(b.stats('/queue/cumulative')).toMatchObject({ pending: 0, inflight: 2, dequeued: 3 });
    await c.disconnect();
    const c2 = await b.connect();
    const second = await subscribe(c2, '/queue/cumulative', { ack: 'client' });
    await second.count(2);
    await barrier(c2);
    expect(second.texts).toEqual(['m4', 'm5']);
    for (const m of second.messages) expect(m.headers.redelivered).toBe('true');
    expect(second.messages.map((m) => m.messageId)).toEqual(got.slice(3).map((m) => m.messageId));
  });

  it('client-individual: an ACK covers only its message', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    await sendMany(c, '/queue/individual', 3, persistent);
    const inbox = await subscribe(c, '/queue/individual', { ack: 'client-individual' });
    const got = await inbox.count(3);
    got[1]!.ack();
    await barrier(c);
    expect(b.stats('/queue/individual')).toMatchObject({ inflight: 2, dequeued: 1 });
    await c.disconnect();
    const c2 = await b.connect();
    const again = await subscribe(c2, '/queue/individual', { ack: 'client-individual' });
    await again.count(2);
    await barrier(c2);
    expect(again.texts).toEqual(['m1', 'm3']);
  });

  it('client: the same subscription gets more once it acks, and ACKing twice is an ERROR', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/twice', { ack: 'client-individual' });
    await c.sendWithReceipt('/queue/twice', 'x');
    const [m] = await inbox.count(1);
    m!.ack();
    await barrier(c);
    m!.ack();
    await c.closed;
    expect(c.lastError?.message).toContain('unknown ack id');
  });

  it('refuses an ACK on an ack:auto subscription', async () => {
    const b = await startTestBroker();
    const c = await b.connect({ acceptVersion: '1.1' });
    const inbox = await subscribe(c, '/queue/autoack', { id: 'a' });
    await c.sendWithReceipt('/queue/autoack', 'x');
    const [m] = await inbox.count(1);
    c.sendFrame(frame('ACK', { 'message-id': m!.messageId, subscription: 'a' }));
    await c.closed;
    expect(c.lastError?.message).toContain('on subscription "a", which uses ack:auto');
  });
});

describe('prefetch', () => {
  it('activemq.prefetchSize:2 delivers only 2 until an ACK makes room', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/prefetch', { ack: 'client-individual', headers: { 'activemq.prefetchSize': '2' } });
    await sendMany(await b.connect(), '/queue/prefetch', 5);
    await inbox.count(2);
    await barrier(c);
    expect(inbox.texts).toEqual(['m1', 'm2']);
    expect(b.stats('/queue/prefetch')).toMatchObject({ pending: 3, inflight: 2 });
    inbox.messages[0]!.ack();
    await inbox.count(3);
    await barrier(c);
    expect(inbox.texts).toEqual(['m1', 'm2', 'm3']);
  });

  it('client mode counts every unacked message against the prefetch until a cumulative ACK frees them', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/prefetch.client', { ack: 'client', headers: { 'activemq.prefetchSize': '3' } });
    await sendMany(await b.connect(), '/queue/prefetch.client', 7);
    await inbox.count(3);
    inbox.messages[2]!.ack();
    await inbox.count(6);
    await barrier(c);
    expect(inbox.texts).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  });
});

describe('NACK and redelivery', () => {
  it('redelivers a NACKed message with redelivered:true and the same message-id', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/nack', { ack: 'client-individual' });
    inbox.onMessage = (m) => { if (inbox.messages.length === 1) m.nack(); };
    await c.sendWithReceipt('/queue/nack', 'again', persistent);
    const [first, second] = await inbox.count(2);
    expect(first!.headers.redelivered).toBeUndefined();
    expect(second!.headers.redelivered).toBe('true');
    expect(second!.messageId).toBe(first!.messageId);
    expect(second!.text).toBe('again');
  });

  it('lets another consumer take a NACKed message', async () => {
    const b = await startTestBroker();
    const a = await b.connect();
    const other = await b.connect();
    const inboxA = await subscribe(a, '/queue/nack.other', { id: 'a', ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' } });
    await a.sendWithReceipt('/queue/nack.other', 'hot potato', persistent);
    const [m] = await inboxA.count(1);
    const inboxB = await subscribe(other, '/queue/nack.other', { ack: 'client-individual' });
    // NACK and leave at once: the message must go to the other consumer.
    m!.nack();
    await a.request(frame('UNSUBSCRIBE', { id: 'a' }));
    const [redelivered] = await inboxB.count(1);
    expect(redelivered!.messageId).toBe(m!.messageId);
    expect(redelivered!.headers.redelivered).toBe('true');
  });

  it('redelivers what a consumer held unacked when it disconnects, to another consumer', async () => {
    const b = await startTestBroker();
    const leaving = await b.connect();
    const held = await subscribe(leaving, '/queue/leave', { ack: 'client' });
    await sendMany(leaving, '/queue/leave', 3, persistent);
    await held.count(3);
    const staying = await b.connect();
    const inbox = await subscribe(staying, '/queue/leave', { ack: 'client' });
    leaving.close(); // no DISCONNECT: a dropped socket
    const got = await inbox.count(3);
    expect(got.map((m) => m.text)).toEqual(['m1', 'm2', 'm3']);
    for (const m of got) expect(m.headers.redelivered).toBe('true');
  });

  it('after maximumRedeliveries (default 6) redeliveries moves the message to ActiveMQ.DLQ with original-destination', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/poison', { ack: 'client-individual' });
    inbox.onMessage = (m) => m.nack();
    await c.sendWithReceipt('/queue/poison', 'bad', { ...persistent, 'x-trace': 't1' });
    const dlq = await subscribe(await b.connect(), '/queue/ActiveMQ.DLQ', { ack: 'client-individual' });
    const [dead] = await dlq.count(1);
    // 1 delivery + 6 redeliveries, then the 7th NACK dead-letters it.
    expect(inbox.messages).toHaveLength(7);
    expect(inbox.messages.filter((m) => m.headers.redelivered === 'true')).toHaveLength(6);
    expect(dead!.headers).toMatchObject({ 'original-destination': '/queue/poison', destination: '/queue/ActiveMQ.DLQ', 'x-trace': 't1', persistent: 'true' });
    expect(dead!.messageId).toBe(inbox.messages[0]!.messageId);
    expect(dead!.text).toBe('bad');
    expect(dead!.headers.dlqDeliveryFailureCause).toContain('Delivery[7]');
    expect(b.stats('/queue/poison')).toMatchObject({ pending: 0, inflight: 0 });
  });

  it('honours a smaller maximumRedeliveries, counting consumers that leave as failed deliveries too', async () => {
    const b = await startTestBroker({ maximumRedeliveries: 1 });
    const producer = await b.connect();
    await producer.sendWithReceipt('/queue/fragile', 'x', persistent);
    for (let attempt = 0; attempt < 2; attempt++) {
      const c = await b.connect();
      const inbox = await subscribe(c, '/queue/fragile', { ack: 'client' });
      const [m] = await inbox.count(1);
      expect(m!.headers.redelivered).toBe(attempt === 0 ? undefined : 'true');
      await c.disconnect();
    }
    const dlq = await subscribe(await b.connect(), '/queue/ActiveMQ.DLQ');
    const [dead] = await dlq.count(1);
    expect(dead!.headers['original-destination']).toBe('/queue/fragile');
    const c = await b.connect();
    const empty = await subscribe(c, '/queue/fragile');
    await barrier(c);
    expect(empty.messages).toHaveLength(0);
  });
});

describe('ACK shapes per version', () => {
  it('1.1: ACK names message-id and subscription', async () => {
    const b = await startTestBroker();
    const c = await b.connect({ acceptVersion: '1.1' });
    const inbox = await subscribe(c, '/queue/v11', { id: 's11', ack: 'client-individual' });
    await sendMany(c, '/queue/v11', 2, persistent);
    const [m1] = await inbox.count(2);
    await c.request(frame('ACK', { 'message-id': m1!.messageId, subscription: 's11' }));
    expect(b.stats('/queue/v11')).toMatchObject({ dequeued: 1, inflight: 1 });
    await c.request(frame('NACK', { 'message-id': inbox.messages[1]!.messageId, subscription: 's11' }));
    const [, , again] = await inbox.count(3);
    expect(again!.headers.redelivered).toBe('true');
  });

  it('1.0: ACK names the message-id only; NACK is an ERROR', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    await raw.connect({ login: 'x' });
    raw.write(frame('SUBSCRIBE', { destination: '/queue/v10', ack: 'client', receipt: 's' }));
    await raw.next((f) => f.command === 'RECEIPT');
    const producer = await b.connect();
    await sendMany(producer, '/queue/v10', 2, persistent);
    const m1 = await raw.next((f) => f.command === 'MESSAGE');
    const m2 = await raw.next((f) => f.command === 'MESSAGE');
    expect(headersOf(m1).ack).toBeUndefined();
    expect(headersOf(m1).subscription).toBe('/queue/v10');
    raw.write(frame('ACK', { 'message-id': headersOf(m1)['message-id']!, receipt: 'a1' }));
    expect(headersOf(await raw.next())).toEqual({ 'receipt-id': 'a1' });
    expect(b.stats('/queue/v10')).toMatchObject({ dequeued: 1, inflight: 1 });
    raw.write(frame('NACK', { 'message-id': headersOf(m2)['message-id']!, receipt: 'n1' }));
    const error = await raw.error();
    expect(messageOf(error)).toContain('NACK is not part of STOMP 1.0');
    expect(headersOf(error)['receipt-id']).toBe('n1');
    // The unacked message survives the failed connection.
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/v10');
    const [m] = await inbox.count(1);
    expect(m!.text).toBe('m2');
  });

  it('1.2: ACK needs the id from the MESSAGE ack header, not the message-id', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/v12', { ack: 'client-individual' });
    await c.sendWithReceipt('/queue/v12', 'x');
    const [m] = await inbox.count(1);
    expect(m!.headers.ack).not.toBe(m!.messageId);
    c.sendFrame(frame('ACK', { id: m!.messageId }));
    await c.closed;
    expect(c.lastError?.message).toContain('unknown ack id');
  });
});

