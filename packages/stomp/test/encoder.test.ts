// Goal: encodeFrame writes exactly the STOMP bytes each version expects; method: compare exact bytes for
// known frames, then round-trip tricky headers through encodeFrame and FrameDecoder per version.
import { describe, expect, it } from 'vitest';
import { encodeFrame, frame, FrameDecoder, HEART_BEAT_BYTES, StompError, type Frame, type StompVersion } from '@mini-amq/stomp';

function decodeOne(bytes: Buffer, version: StompVersion): Frame {
  const d = new FrameDecoder();
  d.version = version;
  d.push(bytes);
  const item = d.next();
  expect(d.bufferedBytes).toBe(0);
  if (item === null || item.command === null) throw new Error('expected one frame');
  return item;
}

const text = (bytes: Buffer): string => bytes.toString('latin1');

describe('encodeFrame bytes', () => {
  it('writes command, headers in order, blank line, body and NUL', () => {
    const bytes = encodeFrame(frame('SEND', { destination: '/queue/a', 'content-length': 5, persistent: true }, 'hello'), '1.2');
    expect(text(bytes)).toBe('SEND\ndestination:/queue/a\ncontent-length:5\npersistent:true\n\nhello\0');
  });

  it('does not add a content-length by itself', () => {
    expect(text(encodeFrame(frame('SEND', { destination: '/q' }, 'x'), '1.2'))).toBe('SEND\ndestination:/q\n\nx\0');
  });

  it('escapes names and values in 1.2: \\\\ \\n \\r \\c', () => {
    const bytes = encodeFrame({ command: 'MESSAGE', headers: [['a:b', 'x\\y\nz\rw:v']], body: Buffer.alloc(0) }, '1.2');
    expect(text(bytes)).toBe('MESSAGE\na\\cb:x\\\\y\\nz\\rw\\cv\n\n\0');
  });

  it('escapes in 1.1 but leaves CR alone (1.1 defines no escape for it)', () => {
    const bytes = encodeFrame({ command: 'MESSAGE', headers: [['h', 'x\\y\nz\rw:v']], body: Buffer.alloc(0) }, '1.1');
    expect(text(bytes)).toBe('MESSAGE\nh:x\\\\y\\nz\rw\\cv\n\n\0');
  });

  it('does not escape in 1.0, nor in CONNECT/CONNECTED of any version', () => {
    const h: Array<[string, string]> = [['login', 'a\\b:c']];
    expect(text(encodeFrame({ command: 'SEND', headers: h, body: Buffer.alloc(0) }, '1.0'))).toBe('SEND\nlogin:a\\b:c\n\n\0');
    for (const command of ['CONNECT', 'CONNECTED', 'STOMP']) {
      expect(text(encodeFrame({ command, headers: h, body: Buffer.alloc(0) }, '1.2'))).toBe(`${command}\nlogin:a\\b:c\n\n\0`);
    }
  });

  it('refuses headers that cannot be written without escaping instead of corrupting the frame', () => {
    const cases: Array<[StompVersion, string, [string, string], string]> = [
      ['1.0', 'SEND', ['h', 'a\nb'], 'header "h" cannot be sent in STOMP 1.0 (no escaping there): its value contains a line feed'],
      ['1.0', 'SEND', ['a:b', 'v'], 'header "a:b" cannot be sent in STOMP 1.0 (no escaping there): its name contains a colon'],
      ['1.0', 'SEND', ['a\nb', 'v'], 'header "a\\nb" cannot be sent in STOMP 1.0 (no escaping there): its name contains a line feed'],
      ['1.0', 'SEND', ['h', 'v\r'], 'header "h" cannot be sent in STOMP 1.0 (no escaping there): its value ends with a carriage return'],
      ['1.2', 'CONNECT', ['passcode', 'a\nb'], 'header "passcode" cannot be sent in a CONNECT frame (no escaping there): its value contains a line feed'],
    ];
    for (const [version, command, h, message] of cases) {
      let caught: unknown;
      try { encodeFrame({ command, headers: [h], body: Buffer.alloc(0) }, version); } catch (err) { caught = err; }
      expect(caught).toBeInstanceOf(StompError);
      expect((caught as StompError).code).toBe('STOMP_MALFORMED_FRAME');
      expect((caught as StompError).message).toBe(message);
    }
  });

  it('sizes the buffer by UTF-8 bytes, not characters', () => {
    const bytes = encodeFrame(frame('SEND', { 'x-ü': 'é✓😀' }, Buffer.from('ß', 'utf8')), '1.2');
    expect(bytes.equals(Buffer.from('SEND\nx-ü:é✓😀\n\nß\0', 'utf8'))).toBe(true);
  });

  it('HEART_BEAT_BYTES is one EOL', () => {
    expect(HEART_BEAT_BYTES).toEqual(Buffer.from('\n'));
  });
});

describe('encode → decode round trip', () => {
  const tricky: Array<[string, string]> = [
    ['destination', '/queue/a:b'],
    ['colon:in:name', 'value:with:colons'],
    ['newline', 'line1\nline2\n'],
    ['backslash\\name', 'C:\\path\\to\\file\\'],
    ['escape-lookalikes', '\\n \\c \\r \\\\ literally'],
    ['cr', 'a\rb\r\nc'],
    ['unicode', 'héllo ✓ 😀'],
    ['empty', ''],
    ['repeated', 'first'],
    ['repeated', 'second'],
  ];
  const bodies = [Buffer.alloc(0), Buffer.from('plain'), Buffer.from([0, 0, 1, 0, 255])];

  for (const version of ['1.1', '1.2'] as const) {
    it(`keeps every header and body intact in ${version}`, () => {
      // 1.1 cannot escape CR, and a CR just before the EOL reads as part of a CRLF: such a value cannot survive 1.1.
      const headers = version === '1.1' ? tricky.filter(([, v]) => !v.endsWith('\r')) : tricky;
      for (const body of bodies) {
        for (const command of ['SEND', 'MESSAGE', 'ERROR']) {
          const f: Frame = { command, headers: [...headers, ['content-length', String(body.length)]], body };
          expect(decodeOne(encodeFrame(f, version), version)).toEqual(f);
        }
      }
    });
  }

  it('keeps 1.0 headers intact when they need no escaping (colons in values are fine)', () => {
    const f: Frame = { command: 'SEND', headers: [['destination', '/queue/a:b'], ['x', 'a\\nb'], ['content-length', '3']], body: Buffer.from([1, 0, 2]) };
    expect(decodeOne(encodeFrame(f, '1.0'), '1.0')).toEqual(f);
  });

  it('keeps CONNECT headers raw in 1.2 both ways', () => {
    const f: Frame = { command: 'CONNECT', headers: [['login', 'a\\cb'], ['passcode', 'p:w']], body: Buffer.alloc(0) };
    expect(text(encodeFrame(f, '1.2'))).toBe('CONNECT\nlogin:a\\cb\npasscode:p:w\n\n\0');
    expect(decodeOne(encodeFrame(f, '1.2'), '1.2')).toEqual(f);
  });
});
