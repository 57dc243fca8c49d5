// Goal: BEGIN/COMMIT/ABORT make SENDs and ACKs atomic per [STOMP 1.2: BEGIN, COMMIT, ABORT], an
// aborted ACK gives its message back, and any misuse of a transaction id is an ERROR; method:
// StompClients and raw sockets on a real broker, with barriers to prove what has NOT been delivered.
import { describe, expect, it } from 'vitest';
import { barrier, frame, headersOf, messageOf, sendMany, startTestBroker, subscribe, waitFor } from './test-helpers.js';

const persistent = { persistent: 'true' };

describe('transacted sends', () => {
  it('delivers nothing until COMMIT, then everything in order', async () => {
    const b = await startTestBroker();
    const consumer = await b.connect();
    const inbox = await subscribe(consumer, '/queue/tx.send');
    const producer = await b.connect();
    const tx = producer.begin();
    producer.send('/queue/tx.send', 'one', { transaction: tx });
    producer.send('/queue/tx.send', 'two', { transaction: tx, ...persistent });
    await barrier(producer);
    await barrier(consumer);
    expect(inbox.messages).toHaveLength(0);
    expect(b.stats('/queue/tx.send').enqueued).toBe(0);
    await producer.commit(tx, { receipt: true });
    await inbox.count(2);
    expect(inbox.texts).toEqual(['one', 'two']);
  });

  it('discards the sends of an ABORTed transaction', async () => {
    const b = await startTestBroker();
    const consumer = await b.connect();
    const inbox = await subscribe(consumer, '/queue/tx.abort');
    const producer = await b.connect();
    const tx = producer.begin();
    producer.send('/queue/tx.abort', 'never', { transaction: tx });
    await producer.abort(tx, { receipt: true });
    await producer.sendWithReceipt('/queue/tx.abort', 'after');
    await inbox.count(1);
    await barrier(consumer);
    expect(inbox.texts).toEqual(['after']);
  });

  it('discards the sends of a transaction left open when the connection closes', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    const tx = producer.begin();
    producer.send('/queue/tx.open', 'never', { transaction: tx });
    await barrier(producer);
    await producer.disconnect();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/tx.open');
    await barrier(c);
    expect(inbox.messages).toHaveLength(0);
  });

  it('keeps transactions apart: two open at once commit independently', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/tx.two');
    const t1 = c.begin('t1');
    const t2 = c.begin('t2');
    c.send('/queue/tx.two', 'a', { transaction: t1 });
    c.send('/queue/tx.two', 'b', { transaction: t2 });
    await c.commit(t2, { receipt: true });
    await inbox.count(1);
    await c.abort(t1, { receipt: true });
    await barrier(c);
    expect(inbox.texts).toEqual(['b']);
  });
});

describe('transacted acks', () => {
  it('ACK inside a transaction then ABORT: the message can be ACKed again', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/tx.ack', { ack: 'client-individual' });
    await c.sendWithReceipt('/queue/tx.ack', 'x', persistent);
    const [m] = await inbox.count(1);
    const tx = c.begin();
    m!.ack(tx);
    await barrier(c);
    expect(b.stats('/queue/tx.ack')).toMatchObject({ inflight: 1, dequeued: 0 });
    await c.abort(tx, { receipt: true });
    await c.request(frame('ACK', { id: m!.headers.ack! }));
    expect(b.stats('/queue/tx.ack')).toMatchObject({ inflight: 0, dequeued: 1 });
  });

  it('ACK inside a transaction then ABORT: the message is redelivered when the consumer leaves', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/tx.ack.leave', { ack: 'client-individual' });
    await c.sendWithReceipt('/queue/tx.ack.leave', 'x', persistent);
    const [m] = await inbox.count(1);
    const tx = c.begin();
    m!.ack(tx);
    await c.abort(tx, { receipt: true });
    await c.disconnect();
    const c2 = await b.connect();
    const again = await subscribe(c2, '/queue/tx.ack.leave', { ack: 'client-individual' });
    const [r] = await again.count(1);
    expect(r!.messageId).toBe(m!.messageId);
    expect(r!.headers.redelivered).toBe('true');
  });

  it('ACK inside a transaction then COMMIT: the message is gone', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/tx.ack.commit', { ack: 'client' });
    await c.sendWithReceipt('/queue/tx.ack.commit', 'x', persistent);
    const [m] = await inbox.count(1);
    const tx = c.begin();
    m!.ack(tx);
    await c.commit(tx, { receipt: true });
    expect(b.stats('/queue/tx.ack.commit')).toMatchObject({ inflight: 0, dequeued: 1 });
    await c.disconnect();
    const c2 = await b.connect();
    const again = await subscribe(c2, '/queue/tx.ack.commit');
    await barrier(c2);
    expect(again.messages).toHaveLength(0);
  });

  it('client mode: after an aborted ACK, a cumulative ACK of a later message still covers the earlier ones', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/tx.cumulative', { ack: 'client' });
    await sendMany(c, '/queue/tx.cumulative', 3, persistent);
    const got = await inbox.count(3);
    const tx = c.begin();
    got[0]!.ack(tx);
    await c.abort(tx, { receipt: true });
    await c.request(frame('ACK', { id: got[2]!.headers.ack! }));
    expect(b.stats('/queue/tx.cumulative')).toMatchObject({ inflight: 0, dequeued: 3 });
  });

  it('ACKs held by a transaction open at disconnect come back as redeliveries', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/tx.ack.open', { ack: 'client-individual' });
    await c.sendWithReceipt('/queue/tx.ack.open', 'x', persistent);
    const [m] = await inbox.count(1);
    const tx = c.begin();
    m!.ack(tx);
    await barrier(c);
    c.close();
    const c2 = await b.connect();
    const again = await subscribe(c2, '/queue/tx.ack.open');
    const [r] = await again.count(1);
    expect(r!.headers.redelivered).toBe('true');
  });

  it('NACK inside a transaction takes effect on COMMIT only', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const inbox = await subscribe(c, '/queue/tx.nack', { ack: 'client-individual' });
    await c.sendWithReceipt('/queue/tx.nack', 'x', persistent);
    const [m] = await inbox.count(1);
    const tx = c.begin();
    m!.nack(tx);
    await barrier(c);
    expect(inbox.messages).toHaveLength(1);
    await c.commit(tx, { receipt: true });
    const [, again] = await inbox.count(2);
    expect(again!.headers.redelivered).toBe('true');
  });

  it('moves a message acked in a transaction and sends in the same COMMIT atomically', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const input = await subscribe(c, '/queue/tx.in', { ack: 'client-individual' });
    const output = await subscribe(c, '/queue/tx.out');
    await c.sendWithReceipt('/queue/tx.in', 'job', persistent);
    const [job] = await input.count(1);
    const tx = c.begin();
    c.send('/queue/tx.out', `done:${job!.text}`, { transaction: tx, ...persistent });
    job!.ack(tx);
    await c.commit(tx, { receipt: true });
    await output.count(1);
    expect(output.texts).toEqual(['done:job']);
    await waitFor(() => b.stats('/queue/tx.in').dequeued === 1, 'the input to be acked');
  });
});

describe('transaction errors', () => {
  async function connected(b: Awaited<ReturnType<typeof startTestBroker>>) {
    const raw = await b.raw();
    await raw.connect();
    return raw;
  }

  it('COMMIT of an unknown transaction is an ERROR that names it and the receipt', async () => {
    const b = await startTestBroker();
    const raw = await connected(b);
    raw.write(frame('COMMIT', { transaction: 'nope', receipt: 'c1' }));
    const error = await raw.error();
    expect(messageOf(error)).toContain('"nope"');
    expect(headersOf(error)['receipt-id']).toBe('c1');
  });

  it('ABORT of an unknown transaction is an ERROR', async () => {
    const b = await startTestBroker();
    const raw = await connected(b);
    raw.write(frame('ABORT', { transaction: 'nope' }));
    expect(messageOf(await raw.error())).toContain('ABORT of transaction "nope"');
  });

  it('BEGIN of a transaction already open is an ERROR', async () => {
    const b = await startTestBroker();
    const raw = await connected(b);
    raw.write(frame('BEGIN', { transaction: 't' }));
    raw.write(frame('BEGIN', { transaction: 't' }));
    expect(messageOf(await raw.error())).toContain('transaction "t" is already open');
  });

  it('COMMIT twice is an ERROR the second time', async () => {
    const b = await startTestBroker();
    const raw = await connected(b);
    raw.write(frame('BEGIN', { transaction: 't' }));
    raw.write(frame('COMMIT', { transaction: 't', receipt: 'ok' }));
    expect(headersOf(await raw.next())).toEqual({ 'receipt-id': 'ok' });
    raw.write(frame('COMMIT', { transaction: 't' }));
    expect(messageOf(await raw.error())).toContain('COMMIT of transaction "t"');
  });

  it('SEND naming an unknown transaction is an ERROR and sends nothing', async () => {
    const b = await startTestBroker();
    const raw = await connected(b);
    raw.write(frame('SEND', { destination: '/queue/tx.unknown', transaction: 'ghost' }, 'x'));
    expect(messageOf(await raw.error())).toContain('transaction "ghost" was not begun');
    expect(b.stats('/queue/tx.unknown').enqueued).toBe(0);
  });

  it('BEGIN without a transaction header is an ERROR', async () => {
    const b = await startTestBroker();
    const raw = await connected(b);
    raw.write(frame('BEGIN'));
    expect(messageOf(await raw.error())).toContain('BEGIN frame has no transaction header');
  });

  it('a transaction belongs to its connection: another cannot COMMIT it', async () => {
    const b = await startTestBroker();
    const owner = await connected(b);
    owner.write(frame('BEGIN', { transaction: 'mine', receipt: 'b' }));
    await owner.next();
    const thief = await connected(b);
    thief.write(frame('COMMIT', { transaction: 'mine' }));
    expect(messageOf(await thief.error())).toContain('"mine"');
    owner.write(frame('COMMIT', { transaction: 'mine', receipt: 'c' }));
    expect(headersOf(await owner.next())).toEqual({ 'receipt-id': 'c' });
  });
});
