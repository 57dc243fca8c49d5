// Goal: no byte sequence a client sends can crash the broker, wedge it, corrupt what it writes back,
// or cost another client its connection or a stored message; method: a few hundred seeded mutations
// of valid frames and random byte strings, each on its own raw socket to a real broker, while a
// bystander client keeps working (reproduce a failure with FUZZ_SEED=<seed> npx vitest run fuzzing).
import { describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from '@mini-amq/stomp';
import { frame, RawStomp, sendMany, startTestBroker, subscribe, waitFor } from './test-helpers.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2024);
const CASES = 400;
const CONCURRENCY = 16;

/** mulberry32: small, seedable, good enough to pick mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = (f: Frame, version: '1.0' | '1.2' = '1.2'): Buffer => encodeFrame(f, version);
const CONNECT_12 = enc(frame('CONNECT', { 'accept-version': '1.2', host: 'localhost' }), '1.0');

/** Valid frame sequences to mutate; destinations stay under /queue/fuzz and /topic/fuzz. */
const templates: Buffer[] = [
  enc(frame('SEND', { destination: '/queue/fuzz', receipt: 'r1', 'x-h': 'v' }, 'hello')),
  enc(frame('SEND', { destination: '/topic/fuzz', 'content-length': 4, persistent: 'true', priority: 5 }, Buffer.from([0, 1, 0, 2]))),
  enc(frame('SUBSCRIBE', { destination: '/queue/fuzz', id: 's1', ack: 'client', 'activemq.prefetchSize': 2, selector: "x-h = 'v'" })),
  enc(frame('SUBSCRIBE', { destination: '/queue/fuzz.browse', id: 'b', browser: 'true', receipt: 'rb' })),
  Buffer.concat([enc(frame('SUBSCRIBE', { destination: '/queue/fuzz', id: 's2', ack: 'client-individual' })), enc(frame('UNSUBSCRIBE', { id: 's2', receipt: 'u' }))]),
  Buffer.concat([enc(frame('BEGIN', { transaction: 't' })), enc(frame('SEND', { destination: '/queue/fuzz', transaction: 't' }, 'tx')), enc(frame('COMMIT', { transaction: 't', receipt: 'c' }))]),
  Buffer.concat([enc(frame('BEGIN', { transaction: 't' })), enc(frame('ABORT', { transaction: 't' }))]),
  enc(frame('ACK', { id: 'x-1' })),
  enc(frame('NACK', { id: 'x-2', transaction: 't' })),
  enc(frame('SEND', { destination: '/temp-queue/fuzz', 'reply-to': '/temp-queue/fuzz', expires: Date.now() - 1 }, 'tmp')),
  enc(frame('DISCONNECT', { receipt: 'bye' })),
  Buffer.from('SEND\ndestination:/queue/fuzz\nescaped:a\\cb\\nc\\\\\n\nbody\0\n\n'),
  Buffer.from('\n\n\r\nSEND\r\ndestination:/queue/fuzz\r\n\r\ncrlf\0'),
];

const SPECIAL = [0x00, 0x0a, 0x0d, 0x3a, 0x5c, 0x20, 0xff, 0x80];

/** One mutation of `input`, chosen by `rnd`. */
function mutate(input: Buffer, rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  const bytes = Buffer.from(input);
  const at = int(bytes.length + 1);
  switch (int(8)) {
    case 0: { // flip a few bits
      for (let i = 0, n = 1 + int(4); i < n && bytes.length > 0; i++) bytes[int(bytes.length)]! ^= 1 << int(8);
      return bytes;
    }
    case 1: // a special byte in place of another
      if (bytes.length > 0) bytes[int(bytes.length)] = SPECIAL[int(SPECIAL.length)]!;
      return bytes;
    case 2: // insert random bytes
      return Buffer.concat([bytes.subarray(0, at), randomBytes(1 + int(16), rnd), bytes.subarray(at)]);
    case 3: // delete a range
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + int(8)))]);
    case 4: // truncate
      return bytes.subarray(0, at);
    case 5: // duplicate a range
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.max(0, at - 1 - int(12)), at), bytes.subarray(at)]);
    case 6: // splice with another template
      return Buffer.concat([bytes.subarray(0, at), templates[int(templates.length)]!.subarray(int(20))]);
    default: // a header line with odd content
      return Buffer.concat([bytes.subarray(0, bytes.indexOf(0x0a) + 1), Buffer.from(`${randomAscii(1 + int(6), rnd)}:${randomAscii(int(12), rnd)}\n`), bytes.subarray(bytes.indexOf(0x0a) + 1)]);
  }
}

function randomBytes(n: number, rnd: () => number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

function randomAscii(n: number, rnd: () => number): string {
  const chars = 'abcXYZ09-:\\ \t.';
  let s = '';
  for (let i = 0; i < n; i++) s += chars[Math.floor(rnd() * chars.length)];
  return s;
}

/** `connectFirst`: null = write the bytes on a fresh socket; else CONNECT as that version first. */
interface Input { readonly connectFirst: '1.0' | '1.2' | null; readonly chunks: Buffer[] }

/** The whole run, decided by the seed before any socket opens. */
function inputs(seed: number): Input[] {
  const rnd = prng(seed);
  const out: Input[] = [];
  for (let i = 0; i < CASES; i++) {
    const kind = rnd();
    let bytes: Buffer;
    if (kind < 0.1) bytes = randomBytes(1 + Math.floor(rnd() * 200), rnd);
    else if (kind < 0.2) bytes = mutate(CONNECT_12, rnd); // a broken CONNECT
    else {
      bytes = templates[Math.floor(rnd() * templates.length)]!;
      for (let m = 0, n = 1 + Math.floor(rnd() * 3); m < n; m++) bytes = mutate(bytes, rnd);
    }
    // Cut the bytes into a few writes, so frames also arrive split.
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length;) {
      const len = 1 + Math.floor(rnd() * Math.max(1, bytes.length / 2));
      chunks.push(bytes.subarray(at, at + len));
      at += len;
    }
    out.push({ connectFirst: kind < 0.2 ? null : rnd() < 0.3 ? '1.0' : '1.2', chunks });
  }
  return out;
}

describe('fuzzing', () => {
  it(`survives ${CASES} mutated and random inputs (seed ${SEED})`, async () => {
    const b = await startTestBroker({ maxFrameSize: 64 * 1024 });
    const bystander = await b.connect();
    const alive = await subscribe(bystander, '/topic/alive');
    await sendMany(bystander, '/queue/keep', 3, { persistent: 'true' });

    const problems: string[] = [];
    const run = async (input: Input, index: number): Promise<void> => {
      const raw = await RawStomp.open(b.stompPort!);
      if (input.connectFirst !== null) {
        const answer = await raw.connect(input.connectFirst === '1.0' ? { login: 'fuzz' } : undefined);
        if (answer.command !== 'CONNECTED') problems.push(`#${index}: CONNECT answered with ${answer.command}`);
      }
      for (const chunk of input.chunks) {
        raw.socket.write(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
      raw.socket.end();
      // The broker closes on our FIN (or earlier, after an ERROR); a socket it keeps is a leak.
      const closed = await Promise.race([raw.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3_000))]);
      if (!closed) problems.push(`#${index}: the broker did not close the socket`);
      if (raw.decodeError !== null) problems.push(`#${index}: the broker wrote bytes a decoder rejects: ${raw.decodeError.message}`);
      const errorAt = raw.frames.findIndex((f) => f.command === 'ERROR');
      if (errorAt !== -1 && errorAt !== raw.frames.length - 1) problems.push(`#${index}: frames after an ERROR`);
      raw.socket.destroy();
    };

    const all = inputs(SEED);
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < all.length) {
        const i = next++;
        await run(all[i]!, i);
      }
    }));

    expect(problems, `seed ${SEED}`).toEqual([]);
    // Every fuzz connection is closed by now; the broker must have let go of them too, promptly.
    await waitFor(() => b.server.connectionCount === 1, 'only the bystander to remain connected', 1_000);
    await bystander.sendWithReceipt('/topic/alive', 'still here');
    await alive.count(1);
    const consumer = await b.connect();
    const kept = await subscribe(consumer, '/queue/keep');
    await kept.count(3);
    expect(kept.texts).toEqual(['m1', 'm2', 'm3']);
  });
});
