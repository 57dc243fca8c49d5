// Goal: FailoverClient survives a broker going away the way ActiveMQ's failover transport does, and
// says clearly what it cannot save; method: real TCP sockets to scripted fake brokers
// (test/fake-broker.ts) that a test crashes, stops and restarts, checking the frames each one got.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FailoverClient,
  frame,
  header,
  PRODUCER_ID_HEADER,
  PRODUCER_SEQ_HEADER,
  StompClient,
  StompError,
  type FailoverClientEvents,
  type FailoverConnectOptions,
  type Frame,
  type Message,
  type ReconnectInfo,
} from '@mini-amq/stomp';
import { startFakeBroker, type FakeBroker, type FakeBrokerOptions, freePort } from './fake-broker.js';
import { rejection } from './assertions.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function broker(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
  const b = await startFakeBroker('tcp', options);
  cleanups.push(() => b.close());
  return b;
}

async function connect(uri: string, options: FailoverConnectOptions = {}): Promise<FailoverClient> {
  const client = await FailoverClient.connect(uri, options);
  cleanups.push(() => client.close());
  return client;
}

const addr = (b: FakeBroker | number): string => `tcp://127.0.0.1:${typeof b === 'number' ? b : b.port}`;
const failover = (brokers: Array<FakeBroker | number>, query = ''): string =>
  `failover:(${brokers.map(addr).join(',')})${query === '' ? '' : `?${query}`}`;
const headersOf = (f: Frame): Record<string, string> => Object.fromEntries(f.headers);
const without = (f: Frame, name: string): Array<[string, string]> => f.headers.filter(([n]) => n !== name);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The next `event`'s arguments. (node:events' once would reject on an 'error' event, which some tests expect.) */
function once<E extends keyof FailoverClientEvents>(client: FailoverClient, event: E): Promise<FailoverClientEvents[E]> {
  return new Promise((resolve) => {
    client.once(event, ((...args: FailoverClientEvents[E]) => resolve(args)) as never);
  });
}
const nextReconnect = async (client: FailoverClient): Promise<ReconnectInfo> => (await once(client, 'reconnect'))[0];



/** A TCP server that records the order it is dialled in and hangs up at once (a broker that is down). */
async function hangUpServer(name: string, order: string[]): Promise<number> {
  const server = net.createServer((socket) => {
    order.push(name);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

/** Frames of one kind a broker received, over all its connections. */
const framesOf = (b: FakeBroker, command: string): Frame[] => b.connections.flatMap((c) => c.frames.filter((f) => f.command === command));

describe('failover to another broker', () => {
  it('moves to B, re-subscribes with the same id, ack and headers, then re-sends unreceipted SENDs in order with the same producer id and seq', async () => {
    const a = await broker({ onFrame: (f) => f.command === 'SEND' }); // A never confirms a SEND
    const b = await broker();
    const lines: string[] = [];
    const client = await connect(failover([a, b], 'randomize=false'), { clientId: 'app-1', log: (line) => lines.push(line) });
    expect(client.uri).toBe(addr(a));
    const disconnects: unknown[] = [];
    client.on('disconnect', (info) => disconnects.push(info));

    client.subscribe('/topic/prices', () => {}, {
      id: 'durable-1', ack: 'client-individual', headers: { 'activemq.subscriptionName': 'prices-app-1', selector: "region = 'EU'" },
    });
    const sent = [client.sendWithReceipt('/queue/orders', 'one'), client.sendWithReceipt('/queue/orders', 'two', { persistent: 'true' })];
    await a.waitForFrame((f) => f.command === 'SEND' && f.body.toString() === 'two');
    const reconnected = nextReconnect(client);
    await a.close();
    sent.push(client.sendWithReceipt('/queue/orders', 'three'));

    expect(await reconnected).toEqual({ uri: addr(b), attempt: 1 });
    await Promise.all(sent);
    expect(client.uri).toBe(addr(b));
    expect(lines).toContain(`Successfully connected to ${addr(a)}`);
    expect(lines).toContain(`Successfully reconnected to ${addr(b)}`);
    expect(disconnects).toHaveLength(1);
    expect(disconnects[0]).toMatchObject({ uri: addr(a), error: { code: 'STOMP_CONNECTION_CLOSED' } });

    const onB = b.connections[0]?.frames ?? [];
    expect(onB.map((f) => f.command)).toEqual(['CONNECT', 'SUBSCRIBE', 'SEND', 'SEND', 'SEND']);
    expect(headersOf(onB[0] as Frame)['client-id']).toBe('app-1');
    const [subA] = framesOf(a, 'SUBSCRIBE');
    expect(onB[1]?.headers).toEqual(subA?.headers);
    expect(headersOf(onB[1] as Frame)).toEqual({
      destination: '/topic/prices', id: 'durable-1', ack: 'client-individual', 'activemq.subscriptionName': 'prices-app-1', selector: "region = 'EU'",
    });
    const sendsB = onB.slice(2);
    expect(sendsB.map((f) => f.body.toString())).toEqual(['one', 'two', 'three']);
    expect(sendsB.map((f) => header(f, PRODUCER_SEQ_HEADER))).toEqual(['1', '2', '3']);
    for (const f of sendsB) expect(header(f, PRODUCER_ID_HEADER)).toBe(client.producerId);
    // A re-sent SEND is the same frame but for its receipt id.
    const sendsA = framesOf(a, 'SEND');
    for (const [i, f] of sendsA.entries()) expect(without(sendsB[i] as Frame, 'receipt')).toEqual(without(f, 'receipt'));
  });

  it('works the same over WebSocket brokers', async () => {
    const a = await startFakeBroker('ws', { onFrame: (f) => f.command === 'SEND' });
    const b = await startFakeBroker('ws');
    cleanups.push(() => a.close(), () => b.close());
    const ws = (x: FakeBroker): string => `ws://127.0.0.1:${x.port}/`;
    const client = await connect(`failover:(${ws(a)},${ws(b)})?randomize=false`);
    const sent = client.sendWithReceipt('/queue/q', 'over ws');
    await a.waitForFrame((f) => f.command === 'SEND');
    const reconnected = nextReconnect(client);
    await a.close();
    expect((await reconnected).uri).toBe(ws(b));
    await sent;
    expect(framesOf(b, 'SEND').map((f) => header(f, PRODUCER_SEQ_HEADER))).toEqual(['1']);
  });

  it('randomize=false dials the URIs in the order written; randomize=true uses the injected random function', async () => {
    const b = await broker();
    const order: string[] = [];
    const x = await hangUpServer('x', order);
    const y = await hangUpServer('y', order);
    await connect(failover([x, y, b], 'randomize=false'));
    expect(order).toEqual(['x', 'y']);

    order.length = 0;
    // random() = 0 shuffles [x, y, b] into [y, b, x]: y is dialled, then b answers.
    const client = await connect(failover([x, y, b]), { random: () => 0 });
    expect(order).toEqual(['y']);
    expect(client.uri).toBe(addr(b));
  });

  it('drops ACKs for messages received before the failover; acks messages from the new broker', async () => {
    const a = await broker();
    const b = await broker();
    const client = await connect(failover([a, b], 'randomize=false'));
    const received: Message[] = [];
    const sub = client.subscribe('/queue/work', (m) => received.push(m), { id: 'w', ack: 'client-individual' });
    await a.waitForFrame((f) => f.command === 'SUBSCRIBE');
    a.connections[0]?.send(frame('MESSAGE', { subscription: sub.id, 'message-id': 'A-1', destination: '/queue/work', ack: 'a-ack-1' }, 'from A'));
    await expect.poll(() => received.length).toBe(1);

    const reconnected = nextReconnect(client);
    await a.close();
    await reconnected;
    received[0]?.ack(); // the broker redelivers A-1 anyway: nothing is sent
    b.connections[0]?.send(frame('MESSAGE', { subscription: sub.id, 'message-id': 'B-1', destination: '/queue/work', ack: 'b-ack-1' }, 'from B'));
    await expect.poll(() => received.length).toBe(2);
    received[1]?.ack();
    await b.waitForFrame((f) => f.command === 'ACK');
    expect(framesOf(b, 'ACK').map((f) => header(f, 'id'))).toEqual(['b-ack-1']);
    expect(framesOf(a, 'ACK')).toEqual([]);
  });

  it('leaves a SEND the broker refused (an ERROR naming its receipt) alone: rejected, not re-sent', async () => {
    const a = await broker({
      onFrame: (f, c) => {
        if (f.command !== 'SEND' || f.body.toString() !== 'forbidden') return false;
        c.send(frame('ERROR', { 'receipt-id': header(f, 'receipt'), message: 'User app is not authorized to write to: queue://secret' }));
        return true;
      },
    });
    const b = await broker();
    const client = await connect(failover([a, b], 'randomize=false'));
    const err = await rejection(client.sendWithReceipt('/queue/secret', 'forbidden'));
    expect(err.code).toBe('STOMP_SERVER_ERROR');
    expect(err.message).toBe('User app is not authorized to write to: queue://secret');
    const reconnected = nextReconnect(client);
    await a.close();
    await reconnected;
    await client.sendWithReceipt('/queue/open', 'fine');
    expect(framesOf(b, 'SEND').map((f) => f.body.toString())).toEqual(['fine']);
  });
});

describe('transactions across a failover', () => {
  it('fails an open transaction: in-flight and later sends reject, commit rejects with STOMP_TRANSACTION_ROLLED_BACK', async () => {
    const a = await broker({ onFrame: (f) => f.command === 'SEND' && f.body.toString() === 'held' });
    const b = await broker();
    const client = await connect(failover([a, b], 'randomize=false'));
    const tx = client.begin('tx1');
    await client.sendWithReceipt('/queue/q', 'staged', { transaction: tx });
    const held = rejection(client.sendWithReceipt('/queue/q', 'held', { transaction: tx }));
    await a.waitForFrame((f) => f.body.toString() === 'held');

    const reconnected = nextReconnect(client);
    await a.close();
    await reconnected;
    const message = 'transaction tx1 was rolled back by a failover; its sends were discarded, send them again';
    const heldError = await held;
    expect([heldError.code, heldError.message]).toEqual(['STOMP_TRANSACTION_ROLLED_BACK', message]);
    expect(() => client.send('/queue/q', 'more', { transaction: tx })).toThrow(message);
    expect((await rejection(client.sendWithReceipt('/queue/q', 'more', { transaction: tx }))).code).toBe('STOMP_TRANSACTION_ROLLED_BACK');
    const commitError = await rejection(client.commit(tx));
    expect(commitError.code).toBe('STOMP_TRANSACTION_ROLLED_BACK');
    expect(commitError.message).toBe(message);
    expect(commitError.cause).toBeInstanceOf(StompError);

    // Nothing of tx1 reached B; the id is free again and a new transaction works there.
    expect(b.connections[0]?.frames.filter((f) => header(f, 'transaction') !== undefined)).toEqual([]);
    client.begin('tx1');
    await client.sendWithReceipt('/queue/q', 'again', { transaction: 'tx1' });
    await client.commit('tx1');
    expect(b.connections[0]?.frames.map((f) => f.command)).toEqual(['CONNECT', 'BEGIN', 'SEND', 'COMMIT']);
  });

  it('reports a COMMIT whose RECEIPT was lost as in doubt, not as rolled back', async () => {
    const a = await broker({ onFrame: (f) => f.command === 'COMMIT' });
    const b = await broker();
    const client = await connect(failover([a, b], 'randomize=false'));
    client.begin('tx9');
    await client.sendWithReceipt('/queue/q', 'x', { transaction: 'tx9' });
    const commit = rejection(client.commit('tx9'));
    await a.waitForFrame((f) => f.command === 'COMMIT');
    await a.close();
    const err = await commit;
    expect(err.code).toBe('STOMP_TRANSACTION_IN_DOUBT');
    expect(err.message).toBe(`connection to ${addr(a)} was lost after COMMIT of transaction tx9 was sent and before the broker confirmed it; it may or may not have been committed`);
  });

  it('a transaction begun while disconnected is written in order after the reconnect', async () => {
    const a = await broker();
    const client = await connect(failover([a], 'initialReconnectDelay=50'));
    const disconnected = once(client, 'disconnect');
    a.dropConnections();
    await disconnected;
    expect(client.isOpen).toBe(false);
    const tx = client.begin();
    const sent = client.sendWithReceipt('/queue/q', 'queued', { transaction: tx });
    const committed = client.commit(tx);
    await Promise.all([sent, committed]);
    expect(a.connections[1]?.frames.map((f) => f.command)).toEqual(['CONNECT', 'BEGIN', 'SEND', 'COMMIT']);
  });
});

describe('priorityBackup', () => {
  it('returns to A when A is back, replaying subscriptions there and leaving B with DISCONNECT', async () => {
    const a = await broker();
    const port = a.port;
    const b = await broker();
    const lines: string[] = [];
    const client = await connect(failover([a, b], 'randomize=false&priorityBackup=true&initialReconnectDelay=10&maxReconnectDelay=50'), { log: (l) => lines.push(l) });
    client.subscribe('/queue/p', () => {}, { id: 'p-1' });
    const toB = nextReconnect(client);
    await a.close();
    expect((await toB).uri).toBe(addr(b));
    await b.waitForFrame((f) => f.command === 'SUBSCRIBE');

    const back = nextReconnect(client);
    const a2 = await broker({ port });
    expect((await back).uri).toBe(addr(port));
    expect(client.uri).toBe(addr(port));
    await a2.waitForFrame((f) => f.command === 'SUBSCRIBE' && header(f, 'id') === 'p-1');
    await b.waitForFrame((f) => f.command === 'DISCONNECT');
    await client.sendWithReceipt('/queue/p', 'home');
    expect(framesOf(a2, 'SEND').map((f) => f.body.toString())).toEqual(['home']);
    expect(lines.filter((l) => l.startsWith('Successfully reconnected'))).toEqual([`Successfully reconnected to ${addr(b)}`, `Successfully reconnected to ${addr(port)}`]);
  });

  it('without priorityBackup, stays on B when A comes back', async () => {
    const a = await broker();
    const port = a.port;
    const b = await broker();
    const client = await connect(failover([a, b], 'randomize=false&initialReconnectDelay=10&maxReconnectDelay=50'));
    const toB = nextReconnect(client);
    await a.close();
    await toB;
    const a2 = await broker({ port });
    await sleep(200);
    expect(client.uri).toBe(addr(b));
    expect(a2.connections).toHaveLength(0);
  });
});

describe('giving up and waiting', () => {
  it('maxReconnectAttempts gives up with STOMP_CONNECT_FAILED, closes, and rejects what waited', async () => {
    const a = await broker();
    const lines: string[] = [];
    const client = await connect(failover([a], 'maxReconnectAttempts=2&initialReconnectDelay=10'), { log: (l) => lines.push(l) });
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    const closed = once(client, 'close');
    await a.close();
    const queued = rejection(client.sendWithReceipt('/queue/q', 'never'));
    const [error] = (await closed) as [StompError];
    expect(error.code).toBe('STOMP_CONNECT_FAILED');
    expect(error.message).toMatch(new RegExp(
      `^could not reconnect to any broker after 2 attempt\\(s\\) in 2 round\\(s\\); tried ${addr(a)}; last error: cannot connect to ${addr(a)}: connect ECONNREFUSED`,
    ));
    expect(errors).toEqual([error]);
    expect(lines).toContain(`Failed to connect to [${addr(a)}] after: 2 attempt(s)`);
    const queuedError = await queued;
    expect(queuedError.code).toBe('STOMP_CONNECTION_CLOSED');
    expect(queuedError.cause).toBe(error);
    expect(client.isClosed).toBe(true);
    expect(client.lastError).toBe(error);
    expect(() => client.send('/queue/q', 'x')).toThrow(StompError);
  });

  it('timeout rejects sends that waited too long for a connection, and the client keeps reconnecting', async () => {
    const a = await broker({ onFrame: (f) => f.command === 'SEND' && f.body.toString() === 'unconfirmed' });
    const port = a.port;
    const client = await connect(failover([a], 'timeout=200&initialReconnectDelay=10&maxReconnectDelay=50'));
    const unconfirmed = rejection(client.sendWithReceipt('/queue/q', 'unconfirmed'));
    await a.waitForFrame((f) => f.body.toString() === 'unconfirmed');
    const disconnected = once(client, 'disconnect');
    await a.close();
    await disconnected;

    const started = performance.now();
    const late = await rejection(client.sendWithReceipt('/queue/q', 'late'));
    expect(late.code).toBe('STOMP_TIMEOUT');
    expect(late.message).toBe('no broker connection within 200 ms (failover timeout); the message to /queue/q was not sent');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    const requeued = await unconfirmed;
    expect(requeued.message).toBe('no broker connection within 200 ms (failover timeout) to re-send the message to /queue/q; its RECEIPT never came, so the broker may or may not have it');
    // A fire-and-forget send reports through 'error'.
    const errorEvent = once(client, 'error');
    expect(client.send('/queue/q', 'fire')).toBe(false);
    expect(((await errorEvent) as [StompError])[0].code).toBe('STOMP_TIMEOUT');
    expect(client.isClosed).toBe(false);

    const back = nextReconnect(client);
    const a2 = await broker({ port });
    await back;
    await client.sendWithReceipt('/queue/q', 'back');
    expect(framesOf(a2, 'SEND').map((f) => f.body.toString())).toEqual(['back']);
  });

  it('waits for a connection without limit by default and sends once there is one', async () => {
    const a = await broker();
    const port = a.port;
    const client = await connect(failover([a], 'initialReconnectDelay=10&maxReconnectDelay=20'));
    const disconnected = once(client, 'disconnect');
    await a.close();
    await disconnected;
    const queued = client.sendWithReceipt('/queue/q', 'patient');
    await sleep(300);
    const a2 = await broker({ port });
    await queued;
    expect(framesOf(a2, 'SEND').map((f) => f.body.toString())).toEqual(['patient']);
  });
});

describe('connect', () => {
  it('rejects with STOMP_CONNECT_FAILED naming every URI tried and the last error', async () => {
    const [x, y] = [await freePort(), await freePort()];
    const lines: string[] = [];
    const started = performance.now();
    const err = await rejection(FailoverClient.connect(failover([x, y], 'randomize=false&startupMaxReconnectAttempts=2&initialReconnectDelay=30'), { log: (l) => lines.push(l) }));
    expect(err.code).toBe('STOMP_CONNECT_FAILED');
    expect(err.message).toMatch(new RegExp(
      `^could not connect to any broker after 4 attempt\\(s\\) in 2 round\\(s\\); tried ${addr(x)}, ${addr(y)}; last error: cannot connect to ${addr(y)}: connect ECONNREFUSED`,
    ));
    expect(err.cause).toBeInstanceOf(StompError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25); // one back-off wait between the rounds
    expect(lines.filter((l) => l.startsWith('Connect to'))).toHaveLength(4);
  });

  it('a plain URI is tried once', async () => {
    const port = await freePort();
    const err = await rejection(FailoverClient.connect(addr(port)));
    expect(err.message).toMatch(new RegExp(`^could not connect to any broker after 1 attempt\\(s\\) in 1 round\\(s\\); tried ${addr(port)}; last error: cannot connect to ${addr(port)}: connect ECONNREFUSED`));
  });

  it('fails at once with the broker message when credentials are refused, without trying forever', async () => {
    const a = await broker({
      onFrame: (f, c) => {
        c.send(frame('ERROR', { message: 'User name [admin] or password is invalid.' }));
        c.end();
        return true;
      },
    });
    const b = await broker();
    const err = await rejection(FailoverClient.connect(failover([a, b], 'randomize=false'), { login: 'admin', passcode: 'wrong' }));
    expect(err.code).toBe('STOMP_SERVER_ERROR');
    expect(err.message).toBe('User name [admin] or password is invalid.');
    expect(a.connections).toHaveLength(1);
    expect(b.connections).toHaveLength(0);
  });

  it('retries other ERRORs on CONNECT (a client id the broker still holds from the lost connection)', async () => {
    let refusals = 0;
    const a = await broker({
      onFrame: (f, c) => {
        if (f.command !== 'CONNECT' || refusals >= 2) return false;
        refusals++;
        c.send(frame('ERROR', { message: 'Broker: a - Client: app-1 already connected' }));
        c.end();
        return true;
      },
    });
    const client = await connect(failover([a], 'initialReconnectDelay=10'), { clientId: 'app-1' });
    expect(client.isOpen).toBe(true);
    expect(a.connections).toHaveLength(3);
  });

  it('rejects bad URIs and options before dialling', async () => {
    await expect(FailoverClient.connect('failover:(tcp://a:1)?bogus=1')).rejects.toMatchObject({ code: 'STOMP_BAD_URI' });
    await expect(FailoverClient.connect('tcp://127.0.0.1:1', { heartBeat: [-1, 0] })).rejects.toThrow(RangeError);
    await expect(FailoverClient.connect('tcp://127.0.0.1:1', { failover: { timeout: 0 } })).rejects.toThrow('timeout must be -1');
    await expect(FailoverClient.connect('tcp://127.0.0.1:1', { maxPendingSends: 0 })).rejects.toThrow('maxPendingSends must be a positive whole number, got 0');
  });
});

describe('exactly-once headers', () => {
  it('every SEND carries the producer id and the next sequence number; callers cannot override them; StompClient adds none', async () => {
    const a = await broker();
    const client = await connect(failover([a]), { producerId: 'producer-7' });
    expect(client.producerId).toBe('producer-7');
    client.send('/queue/q', 'a');
    await client.sendWithReceipt('/queue/q', 'b', { [PRODUCER_ID_HEADER]: 'forged', [PRODUCER_SEQ_HEADER]: 99, custom: 'kept' });
    client.begin('t');
    await client.sendWithReceipt('/queue/q', 'c', { transaction: 't' });
    await client.commit('t');
    const sends = framesOf(a, 'SEND');
    expect(sends.map((f) => [header(f, PRODUCER_ID_HEADER), header(f, PRODUCER_SEQ_HEADER)])).toEqual([['producer-7', '1'], ['producer-7', '2'], ['producer-7', '3']]);
    expect(sends[1]?.headers.filter(([n]) => n.startsWith('amq-producer'))).toHaveLength(2);
    expect(header(sends[1] as Frame, 'custom')).toBe('kept');
    // Without a producerId option, each client gets its own random id.
    const other = await connect(failover([a]));
    expect(other.producerId).toMatch(/^ID:[0-9a-f-]{36}$/);
    expect(other.producerId).not.toBe((await connect(failover([a]))).producerId);

    const plain = await StompClient.connect(addr(a));
    cleanups.push(() => plain.close());
    await plain.sendWithReceipt('/queue/q', 'plain');
    const last = framesOf(a, 'SEND').find((f) => f.body.toString() === 'plain') as Frame;
    expect(header(last, PRODUCER_ID_HEADER)).toBeUndefined();
  });
});

describe('single URI and lifecycle', () => {
  it('a plain URI does not reconnect: the loss closes the client', async () => {
    const a = await broker({ onFrame: (f) => f.command === 'SEND' });
    const client = await connect(addr(a));
    const pending = rejection(client.sendWithReceipt('/queue/q', 'x'));
    await a.waitForFrame((f) => f.command === 'SEND');
    const closed = once(client, 'close');
    a.dropConnections();
    const [error] = (await closed) as [StompError];
    expect(error.code).toBe('STOMP_CONNECTION_CLOSED');
    expect((await pending).code).toBe('STOMP_CONNECTION_CLOSED');
    await sleep(50);
    expect(a.connections).toHaveLength(1);
  });

  it('a plain URI with failover options reconnects to the same broker', async () => {
    const a = await broker();
    const client = await connect(addr(a), { failover: { maxReconnectAttempts: -1, initialReconnectDelay: 10 } });
    const back = nextReconnect(client);
    a.dropConnections();
    expect(await back).toEqual({ uri: addr(a), attempt: 1 });
  });

  it('replays live subscriptions, including ones made while disconnected, and not unsubscribed ones', async () => {
    const a = await broker();
    const client = await connect(failover([a], 'initialReconnectDelay=50'));
    client.subscribe('/queue/keep', () => {}, { id: 'keep' });
    const dropped = client.subscribe('/queue/drop', () => {}, { id: 'drop' });
    await dropped.unsubscribe();
    expect(framesOf(a, 'UNSUBSCRIBE').map((f) => header(f, 'id'))).toEqual(['drop']);
    const disconnected = once(client, 'disconnect');
    a.dropConnections();
    await disconnected;
    const late = client.subscribe('/queue/new', () => {}, { id: 'new', receipt: true });
    await late.ready;
    expect(a.connections[1]?.frames.filter((f) => f.command === 'SUBSCRIBE').map((f) => header(f, 'id'))).toEqual(['keep', 'new']);
  });

  it('close() while reconnecting stops dialling and rejects queued work', async () => {
    const a = await broker();
    const client = await connect(failover([a], 'initialReconnectDelay=20&useExponentialBackOff=false'));
    const disconnected = once(client, 'disconnect');
    await a.close();
    await disconnected;
    const queued = rejection(client.sendWithReceipt('/queue/q', 'x'));
    const closed = once(client, 'close');
    client.close();
    expect((await closed)[0]).toBeNull();
    expect((await queued).code).toBe('STOMP_CONNECTION_CLOSED');
    expect(client.isClosed).toBe(true);
  });

  it('disconnect() sends DISCONNECT after the pending SENDs are confirmed and closes without error', async () => {
    const a = await broker();
    const client = await connect(failover([a]));
    const sent = client.sendWithReceipt('/queue/q', 'last');
    const closeEvents: Array<Error | null> = [];
    client.on('close', (e) => closeEvents.push(e));
    await client.disconnect();
    await sent;
    expect(a.connections[0]?.frames.map((f) => f.command)).toEqual(['CONNECT', 'SEND', 'DISCONNECT']);
    expect(closeEvents).toEqual([null]);
    await sleep(50);
    expect(a.connections).toHaveLength(1);
  });

  it('bounds what it keeps for re-sending: maxPendingSends, writable and waitDrain', async () => {
    const a = await broker({ onFrame: (f) => f.command === 'SEND' }); // receipts only when the test says
    const client = await connect(failover([a]), { maxPendingSends: 2 });
    expect(client.send('/queue/q', '1')).toBe(true);
    expect(client.send('/queue/q', '2')).toBe(false);
    expect(client.writable).toBe(false);
    expect(() => client.send('/queue/q', '3')).toThrow(expect.objectContaining({ code: 'STOMP_TOO_MANY_PENDING_SENDS' }));
    const drained = client.waitDrain();
    const first = await a.waitForFrame((f) => f.command === 'SEND');
    a.connections[0]?.send(frame('RECEIPT', { 'receipt-id': header(first, 'receipt') }));
    await drained;
    expect(client.send('/queue/q', '3')).toBe(false);
    await a.waitForFrame((f) => header(f, PRODUCER_SEQ_HEADER) === '3');
    expect(framesOf(a, 'SEND').map((f) => header(f, PRODUCER_SEQ_HEADER))).toEqual(['1', '2', '3']);
  });
});
