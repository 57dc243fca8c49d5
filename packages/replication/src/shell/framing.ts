/**
 * The replication wire format: each frame is a u32 big-endian payload length followed by that many bytes
 * of msgpackr. Bytes in, values out, no socket (STYLE.md §1), so the decoder is tested at every split point.
 *
 * msgpackr runs without records (`useRecords: false`): a record structure is state shared between encoder
 * and decoder, and a frame must decode alone (a reconnect starts a fresh decoder). Buffers travel as msgpack
 * bin and come back as Buffers, so store payloads (message bodies) cross unchanged.
 *
 * Size. ActiveMQ's replicated LevelDB slaves failed with "Maximum protocol buffer length exceeded" when a
 * master shipped a frame larger than the slave would read; the group then never caught up. Here the limit
 * is one named constant both ends share, and senders split what they can (an APPEND's entries) so that
 * only a single oversized entry can ever hit it: that fails at the sender, loudly, not at every slave.
 */
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import type { AppendMessage, PeerMessage } from '../core/types.js';
import { ReplShellError } from './errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Bytes of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/**
 * Largest frame payload a peer accepts: 128 MiB. It must hold one APPEND of a single entry, and an entry
 * carries a whole message (the broker's maxFrameSize defaults to 100 MiB, ActiveMQ's own default) with its
 * headers, so a message the broker accepted can always be replicated. Bounded because a u32 prefix could
 * announce 4 GiB: garbage or a hostile peer must not make us buffer that before we notice.
 */
export const REPL_FRAME_BYTES_MAX = 128 * MiB;

/**
 * Size a sender aims for: 1 MiB. An APPEND larger than this is split into several, and the shell cuts
 * snapshot chunks to it, so a slave decodes (and a link queues) many small frames instead of one huge one,
 * and an ACK or heartbeat is never stuck behind a 100 MiB batch for long.
 */
export const REPL_FRAME_BYTES_TARGET = 1 * MiB;

assert(REPL_FRAME_BYTES_TARGET < REPL_FRAME_BYTES_MAX, 'the split target must leave room below the hard limit');
assert(REPL_FRAME_BYTES_MAX <= 0xffff_ffff, 'a frame length must fit the u32 prefix');

const packr = new Packr({ useRecords: false, moreTypes: false });

/** Encodes one value as a frame; REPL_FRAME_TOO_LARGE when its payload exceeds `maxBytes`. */
export function encodeFrame(value: unknown, maxBytes: number = REPL_FRAME_BYTES_MAX): Buffer {
  const payload = packr.pack(value);
  if (payload.length > maxBytes) {
    throw new ReplShellError('REPL_FRAME_TOO_LARGE', `frame of ${payload.length} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  return prefixed(payload);
}

/** The payload behind its u32 BE length. */
function prefixed(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Encodes a peer message as one or more frames of at most `limits.target` bytes where it can: an APPEND is
 * split into consecutive APPENDs (each naming the entry before its first as prevIndex/prevEpoch, the same
 * commitIndex and floor), which a slave applies exactly as it would the whole, since TCP keeps them in
 * order. Anything else, or a single entry, goes whole if it fits `limits.max`; REPL_FRAME_TOO_LARGE if not.
 */
export function encodePeerMessage(
  message: PeerMessage,
  limits: { readonly target?: number; readonly max?: number } = {},
): Buffer[] {
  const target = limits.target ?? REPL_FRAME_BYTES_TARGET;
  const max = limits.max ?? REPL_FRAME_BYTES_MAX;
  const frames: Buffer[] = [];
  const encode = (m: PeerMessage): void => {
    const payload = packr.pack(m);
    if (payload.length > target && m.type === 'APPEND' && m.entries.length > 1) {
      const [a, b] = splitAppend(m);
      encode(a);
      encode(b);
      return;
    }
    if (payload.length > max) {
      throw new ReplShellError(
        'REPL_FRAME_TOO_LARGE',
        `${m.type} of ${payload.length} bytes exceeds the replication frame limit of ${max} bytes and cannot be split`,
      );
    }
    frames.push(prefixed(payload));
  };
  encode(message);
  return frames;
}

/** Halves an APPEND of two or more entries; the second half follows the first's last entry. */
function splitAppend(m: AppendMessage): [AppendMessage, AppendMessage] {
  const half = m.entries.length >> 1;
  const head = m.entries.slice(0, half);
  const tail = m.entries.slice(half);
  const last = head[head.length - 1]!;
  assert.equal(tail[0]!.index, last.index + 1, 'APPEND entries must be dense');
  return [
    { ...m, entries: head },
    { ...m, prevIndex: last.index, prevEpoch: last.epoch, entries: tail },
  ];
}

/** One decoded frame: its value and its size on the wire (prefix included). */
export interface DecodedFrame {
  readonly value: unknown;
  readonly bytes: number;
}

/**
 * Streaming decoder: `push(chunk)` buffers, `next()` returns one frame or null when more bytes are needed.
 * Pull-style so that a link can stop after the first frame (a rejected LOGIN) without decoding the rest.
 * An oversized length is refused as soon as its prefix arrives, before any of the payload is buffered.
 * Errors (REPL_FRAME_TOO_LARGE, REPL_BAD_FRAME) are sticky: the stream has no resynchronisation point.
 */
export class FrameDecoder {
  private readonly maxBytes: number;
  /** Pushed chunks not yet consumed; the first is consumed from `head` on. */
  private chunks: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  /** Payload length of the frame whose prefix has been read; -1 while waiting for a prefix. */
  private length = -1;
  private failure: ReplShellError | null = null;

  constructor(maxBytes: number = REPL_FRAME_BYTES_MAX) {
    assert(Number.isSafeInteger(maxBytes) && maxBytes > 0 && maxBytes <= 0xffff_ffff, 'maxBytes must fit a u32');
    this.maxBytes = maxBytes;
  }

  /** Bytes received and not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (this.failure !== null) throw this.failure;
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  next(): DecodedFrame | null {
    if (this.failure !== null) throw this.failure;
    if (this.length < 0) {
      if (this.buffered < FRAME_HEADER_BYTES) return null;
      const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
      if (length > this.maxBytes) {
        this.fail('REPL_FRAME_TOO_LARGE', `peer announced a frame of ${length} bytes; the limit is ${this.maxBytes}`);
      }
      if (length === 0) this.fail('REPL_BAD_FRAME', 'empty frame');
      this.length = length;
    }
    if (this.buffered < this.length) return null;
    const length = this.length;
    const payload = this.take(length);
    this.length = -1;
    let value: unknown;
    try {
      value = packr.unpack(payload);
    } catch (err) {
      this.fail('REPL_BAD_FRAME', `undecodable frame of ${length} bytes`, err);
    }
    return { value, bytes: FRAME_HEADER_BYTES + length };
  }

  private fail(code: 'REPL_FRAME_TOO_LARGE' | 'REPL_BAD_FRAME', message: string, cause?: unknown): never {
    this.failure = new ReplShellError(code, message, { cause });
    this.chunks = [];
    this.buffered = 0;
    throw this.failure;
  }

  /** Removes and returns the next `n` buffered bytes (n ≤ buffered); copies only when they span chunks. */
  private take(n: number): Buffer {
    assert(n <= this.buffered);
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.consume(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    while (copied < n) {
      const chunk = this.chunks[0]!;
      const k = Math.min(chunk.length - this.head, n - copied);
      chunk.copy(out, copied, this.head, this.head + k);
      copied += k;
      this.consume(k);
    }
    return out;
  }

  /** Advances past `n` bytes of the first chunk (n ≤ what remains of it). */
  private consume(n: number): void {
    this.head += n;
    this.buffered -= n;
    if (this.head === this.chunks[0]!.length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
