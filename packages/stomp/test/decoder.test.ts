// Goal: FrameDecoder yields the same frames and errors however the bytes are chunked; method: decode
// each sample whole, then split at every byte position, byte by byte and at seeded random points.
import { describe, expect, it } from 'vitest';
import { FrameDecoder, HEART_BEAT, KiB, MiB, StompError, header, type DecoderLimits, type Frame, type HeartBeat, type StompVersion } from '@mini-amq/stomp';

type Item = Frame | HeartBeat;

interface Setup {
  version?: StompVersion;
  /** Set this version once a CONNECT/CONNECTED is pulled, as the server does after negotiation. */
  versionAfterConnect?: StompVersion;
  limits?: Partial<DecoderLimits>;
}

function pullAll(d: FrameDecoder, out: Item[], setup: Setup): void {
  for (let item = d.next(); item !== null; item = d.next()) {
    out.push(item);
    if (setup.versionAfterConnect !== undefined && (item.command === 'CONNECT' || item.command === 'CONNECTED')) {
      d.version = setup.versionAfterConnect;
    }
  }
}

function decodeChunks(chunks: Buffer[], setup: Setup = {}): { items: Item[]; decoder: FrameDecoder } {
  const d = new FrameDecoder(setup.limits);
  if (setup.version !== undefined) d.version = setup.version;
  const items: Item[] = [];
  for (const c of chunks) {
    d.push(c);
    pullAll(d, items, setup);
  }
  return { items, decoder: d };
}

/** Deterministic PRNG (mulberry32) so a failing random split reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every way of cutting `bytes` the tests try: each split point, byte-by-byte, seeded random cuts. */
function chunkings(bytes: Buffer): Array<{ name: string; chunks: Buffer[] }> {
  const out: Array<{ name: string; chunks: Buffer[] }> = [];
  for (let i = 0; i <= bytes.length; i++) out.push({ name: `split at ${i}`, chunks: [bytes.subarray(0, i), bytes.subarray(i)] });
  out.push({ name: 'byte by byte', chunks: [...bytes].map((b) => Buffer.from([b])) });
  for (let seed = 1; seed <= 20; seed++) {
    const next = random(seed);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length;) {
      const n = 1 + Math.floor(next() * 7);
      chunks.push(bytes.subarray(at, at + n));
      at += n;
    }
    out.push({ name: `random seed ${seed}`, chunks });
  }
  return out;
}

function expectSameAtEverySplit(bytes: Buffer, setup: Setup = {}): Item[] {
  const whole = decodeChunks([bytes], setup).items;
  for (const { name, chunks } of chunkings(bytes)) {
    // Copies, so no test passes because chunks share memory with the whole.
    const { items, decoder } = decodeChunks(chunks.map((c) => Buffer.from(c)), setup);
    expect(items, name).toEqual(whole);
    expect(decoder.bufferedBytes, name).toBe(0);
  }
  return whole;
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const f = (command: string, headers: Array<[string, string]>, body: string | Buffer = ''): Frame => ({
  command, headers, body: typeof body === 'string' ? b(body) : body,
});

describe('FrameDecoder samples, whole and at every split point', () => {
  it('CONNECT with accept-version, never un-escaped even when the version is 1.2', () => {
    const bytes = b('CONNECT\naccept-version:1.0,1.1,1.2\nhost:localhost\nlogin:a\\cb\\t\n\n\0');
    const items = expectSameAtEverySplit(bytes, { version: '1.2' });
    expect(items).toEqual([f('CONNECT', [['accept-version', '1.0,1.1,1.2'], ['host', 'localhost'], ['login', 'a\\cb\\t']])]);
  });

  it('CONNECTED is not un-escaped either', () => {
    const items = expectSameAtEverySplit(b('CONNECTED\nversion:1.2\nserver:x\\cy\n\n\0'), { version: '1.2' });
    expect(items).toEqual([f('CONNECTED', [['version', '1.2'], ['server', 'x\\cy']])]);
  });

  it('SEND whose content-length body contains NUL octets', () => {
    const bytes = Buffer.concat([b('SEND\ndestination:/queue/a\ncontent-length:7\n\n'), Buffer.from([0, 1, 0, 0x41, 0, 0xff, 0]), b('\0')]);
    const items = expectSameAtEverySplit(bytes);
    expect(items).toEqual([f('SEND', [['destination', '/queue/a'], ['content-length', '7']], Buffer.from([0, 1, 0, 0x41, 0, 0xff, 0]))]);
  });

  it('MESSAGE with escaped header names and values in 1.2', () => {
    const bytes = b('MESSAGE\ndestination:/queue/a\nmessage-id:id\\c1\nfoo\\nbar:x\\\\y\\rz\\c\n\nbody\0');
    const items = expectSameAtEverySplit(bytes, { version: '1.2' });
    expect(items).toEqual([f('MESSAGE', [['destination', '/queue/a'], ['message-id', 'id:1'], ['foo\nbar', 'x\\y\rz:']], 'body')]);
  });

  it('the same MESSAGE bytes are left as they are in 1.0', () => {
    const items = expectSameAtEverySplit(b('MESSAGE\nmessage-id:id\\c1\nx:a\\tb\n\n\0'), { version: '1.0' });
    expect(items).toEqual([f('MESSAGE', [['message-id', 'id\\c1'], ['x', 'a\\tb']])]);
  });

  it('1.1 un-escapes \\n \\c \\\\ (and UTF-8 header text survives any split)', () => {
    const items = expectSameAtEverySplit(Buffer.from('MESSAGE\nh\\c:v\\n\\\\é✓\n\n\0', 'utf8'), { version: '1.1' });
    expect(items).toEqual([f('MESSAGE', [['h:', 'v\n\\é✓']])]);
  });

  it('CRLF line endings (STOMP 1.2), including a CRLF after the NUL', () => {
    const bytes = b('SEND\r\ndestination:/queue/a\r\nreceipt:r1\r\n\r\nhello\0\r\n');
    const items = expectSameAtEverySplit(bytes, { version: '1.2' });
    expect(items).toEqual([f('SEND', [['destination', '/queue/a'], ['receipt', 'r1']], 'hello'), HEART_BEAT]);
  });

  it('repeated headers are kept in order; header() and content-length take the first', () => {
    const bytes = b('MESSAGE\nfoo:1\nfoo:2\ncontent-length:3\ncontent-length:99\n\nabc\0');
    const [frame] = expectSameAtEverySplit(bytes) as Frame[];
    expect(frame?.headers).toEqual([['foo', '1'], ['foo', '2'], ['content-length', '3'], ['content-length', '99']]);
    expect(header(frame as Frame, 'foo')).toBe('1');
    expect(frame?.body).toEqual(b('abc'));
  });

  it('heart-beat EOLs before, between and after frames', () => {
    const bytes = b('\n\r\nSEND\ndestination:/q\n\n\0\n\n\r\nSEND\ndestination:/r\n\nx\0\n');
    const items = expectSameAtEverySplit(bytes);
    expect(items).toEqual([
      HEART_BEAT, HEART_BEAT,
      f('SEND', [['destination', '/q']]),
      HEART_BEAT, HEART_BEAT, HEART_BEAT,
      f('SEND', [['destination', '/r']], 'x'),
      HEART_BEAT,
    ]);
  });

  it('several frames in one chunk, with the version switched after CONNECT mid-chunk', () => {
    const bytes = b(
      'CONNECT\naccept-version:1.2\nlogin:a\\cb\n\n\0' +
      'SEND\ndestination:/queue/a\\cb\ncontent-length:2\n\n\0\0\0' +
      'SUBSCRIBE\nid:0\ndestination:/topic/t\nack:client\n\n\0' +
      'DISCONNECT\nreceipt:77\n\n\0',
    );
    const items = expectSameAtEverySplit(bytes, { versionAfterConnect: '1.2' });
    expect(items).toEqual([
      f('CONNECT', [['accept-version', '1.2'], ['login', 'a\\cb']]),
      f('SEND', [['destination', '/queue/a:b'], ['content-length', '2']], Buffer.from([0, 0])),
      f('SUBSCRIBE', [['id', '0'], ['destination', '/topic/t'], ['ack', 'client']]),
      f('DISCONNECT', [['receipt', '77']]),
    ]);
  });

  it('a header value may contain colons (split at the first) and be empty', () => {
    const items = expectSameAtEverySplit(b('SEND\nurl:http://x:1/\nempty:\n\n\0'));
    expect(items).toEqual([f('SEND', [['url', 'http://x:1/'], ['empty', '']])]);
  });

  it('content-length 0 and a frame with no headers', () => {
    const items = expectSameAtEverySplit(b('SEND\ncontent-length:0\n\n\0DISCONNECT\n\n\0'));
    expect(items).toEqual([f('SEND', [['content-length', '0']]), f('DISCONNECT', [])]);
  });
});

describe('FrameDecoder pull contract', () => {
  it('returns null until a frame is complete and reports bufferedBytes', () => {
    const d = new FrameDecoder();
    d.push(b('SEND\ndest'));
    expect(d.next()).toBeNull();
    d.push(b('ination:/q\n\nbo'));
    expect(d.next()).toBeNull();
    expect(d.bufferedBytes).toBe(2); // the parsed header lines are consumed; 'bo' is not
    d.push(b('dy\0SEND'));
    expect(d.next()).toEqual(f('SEND', [['destination', '/q']], 'body'));
    expect(d.bufferedBytes).toBe(4);
    expect(d.next()).toBeNull();
  });

  it('bodies stay intact after the buffer is compacted, grown or handed over', () => {
    const d = new FrameDecoder();
    const big = Buffer.alloc(2 * MiB, 0x61);
    const frames: Frame[] = [];
    const pull = (): void => { for (let x = d.next(); x !== null; x = d.next()) if (x.command !== null) frames.push(x); };
    d.push(b('SEND\n\nfirst\0SEND\ncontent-length:2097152\n\n'));
    pull();
    for (let at = 0; at < big.length; at += 64 * KiB) { d.push(big.subarray(at, at + 64 * KiB)); pull(); }
    d.push(b('\0SEND\n\nthird'));
    pull();
    for (let i = 0; i < 100; i++) { d.push(b(`${'x'.repeat(1000)}`)); pull(); }
    d.push(b('\0'));
    pull();
    expect(frames.map((x) => x.body.length)).toEqual([5, 2 * MiB, 5 + 100 * 1000]);
    expect(frames[0]?.body).toEqual(b('first'));
    expect(frames[1]?.body.equals(big)).toBe(true);
    expect(frames[2]?.body.subarray(0, 5)).toEqual(b('third'));
  });

  it('does not modify pushed chunks', () => {
    const chunk = b('SEND\nh:v\n\nbody');
    const copy = Buffer.from(chunk);
    const d = new FrameDecoder();
    d.push(chunk);
    d.next();
    d.push(b('\0'));
    d.next();
    expect(chunk).toEqual(copy);
  });

  it('does not allocate what a content-length merely announces', () => {
    const d = new FrameDecoder();
    const before = process.memoryUsage().arrayBuffers;
    d.push(b('SEND\ncontent-length:52428800\n\n'));
    d.push(Buffer.alloc(10));
    expect(d.next()).toBeNull();
    // 50 MiB announced, 10 bytes arrived: the working buffer stays small.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(5 * MiB);
  });

  it('decodes a 10 MiB body in 1 KiB chunks without re-scanning (with and without content-length)', () => {
    for (const withLength of [true, false]) {
      const d = new FrameDecoder();
      const size = 10 * MiB;
      d.push(b(`SEND\n${withLength ? `content-length:${size}\n` : ''}\n`));
      expect(d.next()).toBeNull();
      const chunk = Buffer.alloc(KiB, 0x62);
      const started = performance.now();
      for (let sent = 0; sent < size; sent += KiB) {
        d.push(chunk);
        expect(d.next()).toBeNull();
      }
      d.push(b('\0'));
      const frame = d.next() as Frame;
      const elapsed = performance.now() - started;
      expect(frame.body.length).toBe(size);
      // Re-scanning from the start on each chunk would touch ~50 GB here; one pass is milliseconds.
      expect(elapsed).toBeLessThan(3_000);
    }
  });
});

/** Decodes bytes and returns the first error, checking it is the same at every split point. */
function errorAtEverySplit(bytes: Buffer, setup: Setup = {}): StompError {
  const first = catchError(() => decodeChunks([bytes], setup));
  for (const { name, chunks } of chunkings(bytes)) {
    const err = catchError(() => decodeChunks(chunks, setup));
    expect({ name, code: err.code, message: err.message }).toEqual({ name, code: first.code, message: first.message });
  }
  return first;
}

function catchError(fn: () => unknown): StompError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StompError);
    return err as StompError;
  }
  throw new Error('expected a StompError, nothing was thrown');
}

describe('FrameDecoder errors', () => {
  it('STOMP_FRAME_TOO_LARGE: a declared content-length over the limit is refused up front', () => {
    const d = new FrameDecoder({ frameBytesMax: MiB });
    d.push(b('SEND\ndestination:/q\ncontent-length:2097152\n\n'));
    const err = catchError(() => d.next());
    expect(err.code).toBe('STOMP_FRAME_TOO_LARGE');
    expect(err.message).toBe('frame exceeds wireFormat.maxFrameSize of 1048576 bytes (content-length 2097152)');
  });

  it('STOMP_FRAME_TOO_LARGE: a 2 MiB body without NUL fails before ~1 MiB is buffered', () => {
    const limit = MiB;
    const chunk = Buffer.alloc(64 * KiB, 0x78);
    const d = new FrameDecoder({ frameBytesMax: limit });
    d.push(b('SEND\ndestination:/q\n\n'));
    let pushed = 0;
    let err: StompError | undefined;
    while (pushed < 2 * MiB && err === undefined) {
      d.push(chunk);
      pushed += chunk.length;
      try { d.next(); } catch (e) { err = e as StompError; }
    }
    expect(err?.code).toBe('STOMP_FRAME_TOO_LARGE');
    expect(err?.message).toBe('frame exceeds wireFormat.maxFrameSize of 1048576 bytes');
    // Caught on the first pull after crossing the limit: never more than one chunk beyond it.
    expect(pushed).toBeLessThanOrEqual(limit + chunk.length);
    expect(pushed).toBeGreaterThan(limit - chunk.length);
  });

  it('STOMP_FRAME_TOO_LARGE: the limit counts every byte of the frame including its NUL', () => {
    const frame = b('SEND\ncontent-length:5\n\nhello\0'); // 29 bytes
    expect(decodeChunks([frame], { limits: { frameBytesMax: frame.length } }).items).toHaveLength(1);
    expect(errorAtEverySplit(frame, { limits: { frameBytesMax: frame.length - 1 } }).code).toBe('STOMP_FRAME_TOO_LARGE');
    const noLength = b('SEND\n\nhello\0'); // 12 bytes
    expect(decodeChunks([noLength], { limits: { frameBytesMax: noLength.length } }).items).toHaveLength(1);
    const err = errorAtEverySplit(noLength, { limits: { frameBytesMax: noLength.length - 1 } });
    expect(err.message).toBe('frame exceeds wireFormat.maxFrameSize of 11 bytes');
  });

  it('STOMP_FRAME_TOO_LARGE: many header lines add up to more than the limit', () => {
    const bytes = b(`SEND\n${'h:0123456789\n'.repeat(10)}\n\0`);
    expect(errorAtEverySplit(bytes, { limits: { frameBytesMax: 64 } }).code).toBe('STOMP_FRAME_TOO_LARGE');
  });

  it('STOMP_HEADER_TOO_LARGE: a header line longer than headerLineBytesMax, with or without its LF', () => {
    const limits = { headerLineBytesMax: 16 };
    expect(expectSameAtEverySplit(b('SEND\nh:23456789012345\r\n\n\0'), { limits })).toHaveLength(1); // 16 bytes + CRLF
    const err = errorAtEverySplit(b('SEND\nh:234567890123456\n\n\0'), { limits });
    expect(err.code).toBe('STOMP_HEADER_TOO_LARGE');
    expect(err.message).toBe('header line exceeds 16 bytes');
    expect(errorAtEverySplit(b(`SEND\nh:${'x'.repeat(100)}`), { limits }).code).toBe('STOMP_HEADER_TOO_LARGE');
  });

  it('STOMP_TOO_MANY_HEADERS: more than headersPerFrameMax headers', () => {
    const limits = { headersPerFrameMax: 3 };
    expect(expectSameAtEverySplit(b('SEND\na:1\nb:2\nc:3\n\n\0'), { limits })).toHaveLength(1);
    const err = errorAtEverySplit(b('SEND\na:1\nb:2\nc:3\nd:4\n\n\0'), { limits });
    expect(err.code).toBe('STOMP_TOO_MANY_HEADERS');
    expect(err.message).toBe('SEND frame has more than 3 headers');
  });

  const malformed: Array<[string, string, string]> = [
    ['a header line without a colon', 'SEND\ndestination/q\n\n\0', `header line has no ':' separator: "destination/q"`],
    ['a header with an empty name', 'SEND\n:v\n\n\0', `header line has an empty name: ":v"`],
    ['a command line longer than 64 bytes', `${'A'.repeat(65)}\n\n\0`, 'command line exceeds 64 bytes (not a STOMP command)'],
    ['an endless command line', 'A'.repeat(200), 'command line exceeds 64 bytes (not a STOMP command)'],
    ['a stray NUL where a command belongs', '\0', 'expected a STOMP command, got the byte 0x00'],
    ['a TLS ClientHello', '\x16\x03\x01\x02\x00', 'expected a STOMP command, got the byte 0x16'],
    ['a CR not followed by LF', '\rSEND\n\n\0', 'expected a STOMP command, got the byte 0x0d'],
    ['an HTTP request line', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'invalid command line "GET / HTTP/1.1"'],
    ['content-length that is not a number', 'SEND\ncontent-length:abc\n\n\0', 'content-length must be a non-negative integer, got "abc"'],
    ['a negative content-length', 'SEND\ncontent-length:-1\n\n\0', 'content-length must be a non-negative integer, got "-1"'],
    ['a fractional content-length', 'SEND\ncontent-length:1.5\n\n\0', 'content-length must be a non-negative integer, got "1.5"'],
    ['an empty content-length', 'SEND\ncontent-length:\n\n\0', 'content-length must be a non-negative integer, got ""'],
    ['a content-length beyond 2^53', 'SEND\ncontent-length:99999999999999999999\n\n\0', 'content-length must be a non-negative integer, got "99999999999999999999"'],
    ['no NUL after the content-length body', 'SEND\ncontent-length:2\n\nabc\0', 'the 2-byte body given by content-length is followed by 0x63, not a NUL octet'],
  ];
  for (const [what, input, message] of malformed) {
    it(`STOMP_MALFORMED_FRAME: ${what}`, () => {
      const err = errorAtEverySplit(b(input));
      expect(err.code).toBe('STOMP_MALFORMED_FRAME');
      expect(err.message).toBe(message);
    });
  }

  it('tolerates spaces around content-length digits (STOMP 1.0 clients wrote "content-length: 5")', () => {
    const items = expectSameAtEverySplit(b('SEND\ncontent-length: 2 \n\n\0\0\0'));
    expect(items).toEqual([f('SEND', [['content-length', ' 2 ']], Buffer.from([0, 0]))]);
  });

  const escapes: Array<[string, StompVersion, string, string]> = [
    ['\\t in 1.2', '1.2', 'MESSAGE\nh:a\\tb\n\n\0', String.raw`header "h" contains the undefined escape sequence \t (STOMP 1.2 defines only \r \n \c \\)`],
    ['\\r in 1.1 (only 1.2 defines it)', '1.1', 'MESSAGE\nh:a\\rb\n\n\0', String.raw`header "h" contains the undefined escape sequence \r (STOMP 1.1 defines only \n \c \\)`],
    ['a lone backslash at the end of a value', '1.2', 'MESSAGE\nh:ab\\\n\n\0', String.raw`header "h" contains a lone \ at its end (STOMP 1.2 defines only \r \n \c \\)`],
    ['a bad escape in a header name', '1.2', 'MESSAGE\nh\\x:v\n\n\0', String.raw`header name "h\\x" contains the undefined escape sequence \x (STOMP 1.2 defines only \r \n \c \\)`],
    ['a control character after a backslash', '1.2', 'MESSAGE\nh:\\\x01\n\n\0', String.raw`header "h" contains the undefined escape sequence \ followed by "\u0001" (STOMP 1.2 defines only \r \n \c \\)`],
  ];
  for (const [what, version, input, message] of escapes) {
    it(`STOMP_BAD_ESCAPE: ${what}`, () => {
      const err = errorAtEverySplit(b(input), { version });
      expect(err.code).toBe('STOMP_BAD_ESCAPE');
      expect(err.message).toBe(message);
    });
  }

  it('after a fatal error the decoder rethrows the same error and ignores new bytes', () => {
    const d = new FrameDecoder();
    d.push(b('SEND\nno-colon\n\n\0SEND\n\n\0'));
    const err = catchError(() => d.next());
    d.push(b('SEND\n\n\0'));
    expect(() => d.next()).toThrow(err);
    expect(catchError(() => d.next())).toBe(err);
    expect(d.bufferedBytes).toBe(0);
  });

  it('rejects nonsensical limits as a programming error', () => {
    expect(() => new FrameDecoder({ frameBytesMax: 0 })).toThrow('frameBytesMax must be a positive integer, got 0');
  });
});
