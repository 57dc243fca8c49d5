// Goal: every kind of bad input gets an ERROR frame whose `message` names the problem, then only that
// connection closes [STOMP 1.2: ERROR "MUST then close the connection"], while other clients carry on
// and no stored message is lost (STYLE.md §6); method: one raw socket per case writing exact bytes to a
// real broker that also serves a bystander client and holds persistent messages.
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '@mini-amq/stomp';
import { barrier, frame, header, headersOf, messageOf, sendMany, startTestBroker, subscribe, type TestBroker } from './test-helpers.js';

interface BadCase {
  readonly name: string;
  /** Bytes written after a 1.2 CONNECT (or instead of it, when `beforeConnect`). */
  readonly bytes: string | Buffer;
  readonly expected: string | RegExp;
  readonly beforeConnect?: boolean;
  /** Connect as STOMP 1.0 (no accept-version) instead of 1.2. */
  readonly v10?: boolean;
  readonly maxFrameSize?: number;
}

const send = (headers: string, body = 'x'): string => `SEND\n${headers}\n\n${body}\0`;
const manyHeaders = Array.from({ length: 1001 }, (_, i) => `h${i}:v`).join('\n');

const cases: BadCase[] = [
  { name: 'a malformed header line', bytes: send('destination:/queue/a\nno-colon-here'), expected: "header line has no ':' separator" },
  { name: 'a header with an empty name', bytes: send('destination:/queue/a\n:value'), expected: 'header line has an empty name' },
  { name: 'an unknown command', bytes: 'FROBNICATE\n\n\0', expected: 'unknown STOMP command "FROBNICATE"' },
  { name: 'a frame larger than maxFrameSize', bytes: send('destination:/queue/a', 'y'.repeat(2048)), expected: 'maxFrameSize of 1024 bytes', maxFrameSize: 1024 },
  { name: 'a content-length larger than maxFrameSize', bytes: send('destination:/queue/a\ncontent-length:5000', 'y'), expected: 'content-length 5000', maxFrameSize: 1024 },
  { name: 'too many headers', bytes: send(`destination:/queue/a\n${manyHeaders}`), expected: 'more than 1000 headers' },
  { name: 'a header line over 64 KiB', bytes: send(`destination:/queue/a\nbig:${'z'.repeat(70_000)}`), expected: 'header line exceeds' },
  { name: 'a SEND without destination', bytes: send('x-a:b'), expected: 'SEND frame has no destination header' },
  { name: 'a bad destination prefix', bytes: send('destination:/foo/bar'), expected: 'ActiveMQ STOMP destinations must begin with one of: /queue/ /topic/ /temp-queue/ /temp-topic/' },
  { name: 'a SUBSCRIBE to a bad destination prefix', bytes: 'SUBSCRIBE\ndestination:foo\nid:1\n\n\0', expected: 'ActiveMQ STOMP destinations must begin with one of' },
  { name: 'a destination without a name', bytes: send('destination:/queue/'), expected: 'has no name after /queue/' },
  { name: 'an over-long destination', bytes: send(`destination:/queue/${'d'.repeat(1100)}`), expected: 'longer than 1024 characters' },
  { name: 'an ACK of an unknown id', bytes: 'ACK\nid:no-such-ack\n\n\0', expected: 'unknown ack id "no-such-ack"' },
  { name: 'an ACK without id (1.2)', bytes: 'ACK\nmessage-id:m\n\n\0', expected: 'ACK frame has no id header' },
  { name: 'an ACK of an unknown message-id (1.0)', bytes: 'ACK\nmessage-id:ID:nope\n\n\0', expected: 'message-id "ID:nope"', v10: true },
  { name: 'a COMMIT of an unknown transaction', bytes: 'COMMIT\ntransaction:tx-x\n\n\0', expected: 'COMMIT of transaction "tx-x"' },
  { name: 'an out-of-range priority', bytes: send('destination:/queue/a\npriority:10'), expected: 'priority must be an integer from 0 to 9, got "10"' },
  { name: 'a non-numeric priority', bytes: send('destination:/queue/a\npriority:high'), expected: 'priority must be an integer from 0 to 9, got "high"' },
  { name: 'an invalid ack mode', bytes: 'SUBSCRIBE\ndestination:/queue/a\nid:1\nack:sometimes\n\n\0', expected: 'ack must be auto, client or client-individual, got "sometimes"' },
  { name: 'prefetch 0', bytes: 'SUBSCRIBE\ndestination:/queue/a\nid:1\nactivemq.prefetchSize:0\n\n\0', expected: 'prefetch 0 is not supported over STOMP' },
  { name: 'a SUBSCRIBE without id (1.2)', bytes: 'SUBSCRIBE\ndestination:/queue/a\n\n\0', expected: 'SUBSCRIBE frame has no id header' },
  { name: 'a duplicate subscription id', bytes: 'SUBSCRIBE\ndestination:/queue/a\nid:1\n\n\0SUBSCRIBE\ndestination:/queue/b\nid:1\n\n\0', expected: 'subscription id "1" is already in use' },
  { name: 'an UNSUBSCRIBE of an unknown id', bytes: 'UNSUBSCRIBE\nid:ghost\n\n\0', expected: 'no subscription with id "ghost"' },
  { name: 'an undefined escape sequence (1.2)', bytes: send('destination:/queue/a\nx:tab\\there'), expected: 'undefined escape sequence \\t' },
  { name: 'a body longer than its content-length', bytes: send('destination:/queue/a\ncontent-length:1', 'xyz'), expected: 'not a NUL octet' },
  { name: 'a non-numeric content-length', bytes: send('destination:/queue/a\ncontent-length:ten'), expected: 'content-length must be a non-negative integer' },
  { name: 'an HTTP request instead of CONNECT', bytes: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', expected: 'invalid command line', beforeConnect: true },
  { name: 'a TLS ClientHello', bytes: Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00]), expected: 'got the byte 0x16', beforeConnect: true },
  { name: 'a frame before CONNECT', bytes: send('destination:/queue/a'), expected: 'expected CONNECT or STOMP', beforeConnect: true },
];

/** A broker with 3 persistent messages on /queue/keep and a bystander subscribed to /topic/alive. */
async function brokerWithBystander(maxFrameSize?: number) {
  const b = await startTestBroker(maxFrameSize === undefined ? {} : { maxFrameSize });
  const bystander = await b.connect();
  const alive = await subscribe(bystander, '/topic/alive');
  await sendMany(bystander, '/queue/keep', 3, { persistent: 'true' });
  return { b, bystander, alive };
}

/** The broker still serves the bystander and still holds the 3 stored messages. */
async function expectUnharmed(b: TestBroker, ctx: Awaited<ReturnType<typeof brokerWithBystander>>): Promise<void> {
  await ctx.bystander.sendWithReceipt('/topic/alive', 'ping');
  await ctx.alive.count(1);
  expect(ctx.bystander.isOpen).toBe(true);
  const consumer = await b.connect();
  const kept = await subscribe(consumer, '/queue/keep');
  await kept.count(3);
  expect(kept.texts).toEqual(['m1', 'm2', 'm3']);
}

describe('bad input', () => {
  for (const c of cases) {
    it(`answers ${c.name} with an ERROR saying so, closes only that connection`, async () => {
      const ctx = await brokerWithBystander(c.maxFrameSize);
      const raw = await ctx.b.raw();
      if (!c.beforeConnect) {
        const connected = await raw.connect(c.v10 === true ? { login: 'x' } : undefined);
        expect(connected.command).toBe('CONNECTED');
      }
      raw.write(c.bytes);
      const error = await raw.error();
      if (typeof c.expected === 'string') expect(messageOf(error)).toContain(c.expected);
      else expect(messageOf(error)).toMatch(c.expected);
      expect(header(error, 'content-type')).toBe('text/plain');
      expect(header(error, 'content-length')).toBe(String(error.body.length));
      await expectUnharmed(ctx.b, ctx);
    });
  }

  it('sends nothing after the ERROR and ignores frames that follow the bad one', async () => {
    const ctx = await brokerWithBystander();
    const raw = await ctx.b.raw();
    await raw.connect();
    raw.write(Buffer.concat([
      Buffer.from(send('destination:/bad/one')),
      encodeFrame(frame('SEND', { destination: '/queue/after.error', receipt: 'r' }, 'late'), '1.2'),
    ]));
    await raw.error();
    expect(raw.frames.map((f) => f.command)).toEqual(['CONNECTED', 'ERROR']);
    await barrier(ctx.bystander);
    expect(ctx.b.stats('/queue/after.error').enqueued).toBe(0);
  });

  it('keeps going when a 1.0 client sends a receipt value the broker cannot write back unescaped', async () => {
    const ctx = await brokerWithBystander();
    const raw = await ctx.b.raw();
    await raw.connect({ login: 'x' }); // 1.0: no escaping, so a trailing CR cannot be echoed
    raw.write('SEND\ndestination:/queue/cr\nreceipt:r\r\r\n\nbody\0');
    raw.write('SEND\ndestination:/nowhere\nreceipt:e\r\r\n\nbody\0');
    const error = await raw.error();
    expect(messageOf(error)).toContain('ActiveMQ STOMP destinations must begin with one of');
    await expectUnharmed(ctx.b, ctx);
    expect(ctx.b.stats('/queue/cr').enqueued).toBe(1);
  });

  it('sends the ERROR to the failing connection only: the bystander sees none, new connections are accepted', async () => {
    const ctx = await brokerWithBystander();
    const errors: string[] = [];
    ctx.bystander.on('frame', (f) => { if (f.command === 'ERROR') errors.push(messageOf(f)); });
    for (let i = 0; i < 5; i++) {
      const raw = await ctx.b.raw();
      await raw.connect();
      raw.write(send('destination:/foo/bar'));
      await raw.error();
    }
    await barrier(ctx.bystander);
    expect(errors).toEqual([]);
    expect(headersOf(await (await ctx.b.raw()).connect()).version).toBe('1.2');
  });
});
