/**
 * encodeFrame: one STOMP frame to one Buffer. The broker encodes every MESSAGE through this, so the
 * head is built as one string and written with the body into a single allocation (Buffer.allocUnsafe
 * draws small frames from Node's pool).
 */
import { StompError } from './errors.js';
import { escapeHeader, usesEscaping } from './escaping.js';
import type { Frame, StompVersion } from './frame.js';

/** One heart-beat: [STOMP 1.2: Heart-beating] "the sender MUST send new data ... or an EOL". */
export const HEART_BEAT_BYTES = Buffer.from('\n');

/**
 * Encodes a frame for a connection speaking `version`. Headers are escaped for 1.1/1.2 except in
 * CONNECT/CONNECTED; no content-length is added (the caller decides, since in ActiveMQ its presence
 * turns a TextMessage into a BytesMessage).
 * Throws STOMP_MALFORMED_FRAME when a header cannot be written unescaped (a line feed, a colon in a
 * name, a trailing CR) rather than emitting bytes the peer would parse as different headers.
 */
export function encodeFrame(frame: Frame, version: StompVersion): Buffer {
  let head = frame.command + '\n';
  if (usesEscaping(frame.command, version)) {
    const v = version as '1.1' | '1.2';
    for (const [name, value] of frame.headers) head += escapeHeader(name, v) + ':' + escapeHeader(value, v) + '\n';
  } else {
    for (const [name, value] of frame.headers) head += rawHeader(frame.command, name, value, version) + '\n';
  }
  head += '\n';
  const body = frame.body;
  const headBytes = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headBytes + body.length + 1);
  out.write(head, 0, 'utf8');
  body.copy(out, headBytes);
  out[headBytes + body.length] = 0;
  return out;
}

function rawHeader(command: string, name: string, value: string, version: StompVersion): string {
  const problem = name.includes('\n') ? 'its name contains a line feed'
    : name.includes(':') ? 'its name contains a colon'
    : value.includes('\n') ? 'its value contains a line feed'
    // A CR right before the EOL would be read as part of a CRLF.
    : value.endsWith('\r') ? 'its value ends with a carriage return'
    : null;
  if (problem === null) return name + ':' + value;
  const where = version === '1.0' ? 'STOMP 1.0' : `a ${command} frame`;
  throw new StompError('STOMP_MALFORMED_FRAME', `header ${JSON.stringify(name)} cannot be sent in ${where} (no escaping there): ${problem}`);
}
