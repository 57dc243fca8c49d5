/**
 * FrameDecoder: bytes in, STOMP frames out, no socket (STYLE.md §1).
 *
 * Pull-style: `push(chunk)` only buffers; `next()` returns one frame, a heart-beat, or null when more
 * bytes are needed. Pulling one frame at a time lets the server switch `version` right after CONNECT
 * (escaping rules change mid-stream) and stop pulling while flow control holds a connection.
 *
 * Buffering: one contiguous working buffer with a read offset. A chunk pushed while nothing is buffered
 * is adopted without copying; otherwise chunks are copied into a buffer that grows geometrically (up to
 * the size a content-length announces), so a large body arriving in many chunks costs amortised O(1)
 * copies per byte and is never re-scanned: `scanned` remembers how far the current delimiter search got.
 */
import assert from 'node:assert/strict';
import { excerpt, StompError } from './errors.js';
import { unescapeHeader, usesEscaping } from './escaping.js';
import { HEART_BEAT, type Frame, type HeaderList, type HeartBeat, type StompVersion } from './frame.js';
import {
  COMMAND_BYTES_MAX,
  DECODER_BUFFER_BYTES_MIN,
  DECODER_RETAINED_BUFFER_BYTES_MAX,
  DEFAULT_DECODER_LIMITS,
  type DecoderLimits,
} from './limits.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const EMPTY = Buffer.alloc(0);

type Phase = 'command' | 'headers' | 'body';

/** Streaming STOMP 1.0–1.2 frame decoder; see the file comment for its contract. */
export class FrameDecoder {
  /** Escaping rules for the frames pulled from now on; '1.0' (none) until CONNECT is negotiated. */
  version: StompVersion = '1.0';
  private readonly limits: DecoderLimits;

  private buf: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  /** False while `buf` is a pushed chunk or was handed out as a body: it must not be written to. */
  private owned = false;
  /** Bytes after `start` already searched for the delimiter the current phase waits for. */
  private scanned = 0;
  /** Bytes after `start` the current frame still needs, once its content-length is known; else 0. */
  private expectedBytes = 0;

  private phase: Phase = 'command';
  /** Bytes of the current frame consumed so far (command and header lines). */
  private frameBytes = 0;
  private command = '';
  private headers: HeaderList = [];
  private escaping = false;
  /** -1 until a content-length header is seen; [STOMP 1.2: Repeated Header Entries] the first one counts. */
  private contentLength = -1;
  private failure: unknown = null;

  constructor(limits: Partial<DecoderLimits> = {}) {
    this.limits = { ...DEFAULT_DECODER_LIMITS, ...limits };
    for (const [name, value] of Object.entries(this.limits)) {
      assert(Number.isSafeInteger(value) && value > 0, `${name} must be a positive integer, got ${String(value)}`);
    }
  }

  /** Bytes pushed and not yet consumed by `next()`. */
  get bufferedBytes(): number {
    return this.end - this.start;
  }

  /**
   * Buffers a chunk. The decoder may keep a reference to it until its bytes are consumed, so the caller
   * must not modify it afterwards (socket chunks are never reused by Node).
   */
  push(chunk: Buffer): void {
    if (this.failure !== null || chunk.length === 0) return;
    if (this.start === this.end) {
      this.start = this.end = 0;
      if (!this.owned || this.buf.length < chunk.length) {
        this.buf = chunk;
        this.end = chunk.length;
        this.owned = false;
        return;
      }
    }
    this.ensureRoom(chunk.length);
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  /**
   * The next frame, HEART_BEAT for an EOL between frames, or null when more bytes are needed.
   * Throws StompError on malformed input; the decoder is then unusable and rethrows the same error.
   */
  next(): Frame | HeartBeat | null {
    if (this.failure !== null) throw this.failure;
    try {
      return this.step();
    } catch (err) {
      this.failure = err;
      this.buf = EMPTY;
      this.start = this.end = 0;
      throw err;
    }
  }

  private step(): Frame | HeartBeat | null {
    if (this.phase === 'command') {
      if (this.start === this.end) return null;
      const beat = this.heartBeat();
      if (beat !== undefined) return beat;
      const line = this.readLine(COMMAND_BYTES_MAX);
      if (line === null) return null;
      this.beginFrame(line);
    }
    while (this.phase === 'headers') {
      const line = this.readLine(this.limits.headerLineBytesMax);
      if (line === null) return null;
      if (line === '') this.endHeaders();
      else this.addHeader(line);
    }
    return this.readBody();
  }

  /**
   * [STOMP 1.2: Heart-beating] heart-beats are EOLs between frames; [STOMP 1.2: STOMP Frames] "The
   * NULL octet can be optionally followed by multiple EOLs" lands here too. Returns undefined when
   * the buffer starts a command instead, null when a lone CR needs its LF.
   */
  private heartBeat(): HeartBeat | null | undefined {
    const first = this.buf[this.start] as number;
    if (first === LF) return this.skip(1);
    if (first === CR) {
      if (this.end - this.start < 2) return null;
      if (this.buf[this.start + 1] === LF) return this.skip(2);
    }
    if (!isLetter(first)) {
      throw malformed(`expected a STOMP command, got the byte 0x${first.toString(16).padStart(2, '0')}`);
    }
    return undefined;
  }

  private skip(n: number): HeartBeat {
    this.start += n;
    this.releaseIfIdle();
    return HEART_BEAT;
  }

  /**
   * One line without its EOL, or null when its LF has not arrived. A CR before the LF belongs to the
   * EOL in every version: [STOMP 1.2: Augmented BNF] allows CRLF, and before CONNECT is negotiated the
   * decoder cannot know a client will speak 1.2.
   */
  private readLine(max: number): string | null {
    const { buf, start, end } = this;
    const lf = indexIn(buf, LF, start + this.scanned, end);
    if (lf === -1) {
      this.scanned = end - start;
      // The last byte may be the CR of a CRLF, so only more than max + 1 bytes prove the line too long.
      if (end - start > max + 1) throw this.lineTooLong(max);
      this.checkFrameBytes(end - start);
      return null;
    }
    const contentEnd = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
    if (contentEnd - start > max) throw this.lineTooLong(max);
    const line = buf.toString('utf8', start, contentEnd);
    this.frameBytes += lf + 1 - start;
    this.start = lf + 1;
    this.scanned = 0;
    this.checkFrameBytes(0);
    return line;
  }

  private lineTooLong(max: number): StompError {
    if (this.phase === 'command') return malformed(`command line exceeds ${max} bytes (not a STOMP command)`);
    return new StompError('STOMP_HEADER_TOO_LARGE', `header line exceeds ${max} bytes`);
  }

  /** `pending` bytes of this frame are buffered beyond `frameBytes`; its NUL is still to come. */
  private checkFrameBytes(pending: number): void {
    const max = this.limits.frameBytesMax;
    if (this.frameBytes + pending + 1 > max) throw frameTooLarge(max);
  }

  private beginFrame(command: string): void {
    if (!COMMAND.test(command)) throw malformed(`invalid command line ${excerpt(command)}`);
    this.command = command;
    this.escaping = usesEscaping(command, this.version);
    this.phase = 'headers';
  }

  private addHeader(line: string): void {
    if (this.headers.length >= this.limits.headersPerFrameMax) {
      throw new StompError('STOMP_TOO_MANY_HEADERS', `${this.command} frame has more than ${this.limits.headersPerFrameMax} headers`);
    }
    const colon = line.indexOf(':');
    if (colon === -1) throw malformed(`header line has no ':' separator: ${excerpt(line)}`);
    if (colon === 0) throw malformed(`header line has an empty name: ${excerpt(line)}`);
    let name = line.slice(0, colon);
    let value = line.slice(colon + 1);
    if (this.escaping) {
      const version = this.version as '1.1' | '1.2';
      name = unescapeHeader(name, version, name, 'name');
      value = unescapeHeader(value, version, name);
    }
    if (name === 'content-length' && this.contentLength === -1) this.contentLength = parseContentLength(value);
    this.headers.push([name, value]);
  }

  private endHeaders(): void {
    this.phase = 'body';
    this.scanned = 0;
    const max = this.limits.frameBytesMax;
    // Refuse a declared size up front rather than buffer towards it.
    if (this.contentLength >= 0 && this.frameBytes + this.contentLength + 1 > max) {
      throw frameTooLarge(max, `content-length ${this.contentLength}`);
    }
  }

  private readBody(): Frame | null {
    const { buf, start, end } = this;
    const length = this.contentLength;
    if (length >= 0) {
      // [STOMP 1.2: Header content-length] "octets MUST be read ... regardless of NULL octets in the body"
      if (end - start < length + 1) {
        this.expectedBytes = length + 1;
        return null;
      }
      const after = buf[start + length] as number;
      if (after !== NUL) {
        throw malformed(`the ${length}-byte body given by content-length is followed by 0x${after.toString(16).padStart(2, '0')}, not a NUL octet`);
      }
      return this.finish(length);
    }
    const nul = indexIn(buf, NUL, start + this.scanned, end);
    if (nul === -1) {
      this.scanned = end - start;
      this.checkFrameBytes(end - start);
      return null;
    }
    this.checkFrameBytes(nul - start);
    return this.finish(nul - start);
  }

  /** Emits the frame whose body is the next `length` bytes (followed by its NUL) and resets for the next. */
  private finish(length: number): Frame {
    const frame: Frame = { command: this.command, headers: this.headers, body: this.takeBody(length) };
    this.start += length + 1;
    this.phase = 'command';
    this.scanned = 0;
    this.frameBytes = 0;
    this.command = '';
    this.headers = [];
    this.contentLength = -1;
    this.expectedBytes = 0;
    this.releaseIfIdle();
    return frame;
  }

  /**
   * Small bodies are copied so they do not pin a large shared buffer in memory (a broker keeps messages
   * around); a large one takes the buffer over, which is then no longer written to.
   */
  private takeBody(length: number): Buffer {
    if (length === 0) return EMPTY;
    if (length > DECODER_RETAINED_BUFFER_BYTES_MAX) {
      this.owned = false;
      return this.buf.subarray(this.start, this.start + length);
    }
    const body = Buffer.allocUnsafe(length);
    this.buf.copy(body, 0, this.start, this.start + length);
    return body;
  }

  private releaseIfIdle(): void {
    if (this.start !== this.end) return;
    this.start = this.end = 0;
    if (!this.owned || this.buf.length > DECODER_RETAINED_BUFFER_BYTES_MAX) {
      this.buf = EMPTY;
      this.owned = false;
    }
  }

  /**
   * Makes room for `extra` more bytes after `end` in a buffer we own, compacting or growing it.
   * Growth doubles with what has arrived, never with what a header merely announces (a 60-byte frame
   * head declaring 100 MiB must not cost 100 MiB), and stops at the frame's known size or the limit.
   */
  private ensureRoom(extra: number): void {
    if (this.owned && this.buf.length - this.end >= extra) return;
    const live = this.end - this.start;
    const need = live + extra;
    if (this.owned && need <= this.buf.length && live <= this.buf.length >>> 1) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      const ceiling = this.expectedBytes > 0 ? this.expectedBytes : this.limits.frameBytesMax + 1;
      const doubled = Math.min(Math.max(2 * live, DECODER_BUFFER_BYTES_MIN), ceiling);
      const next = Buffer.allocUnsafe(Math.max(need, doubled));
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.owned = true;
    }
    this.start = 0;
    this.end = live;
  }
}

/** A command starts with a letter and has no spaces; anything else is not STOMP (a TLS hello, HTTP...). */
const COMMAND = /^[A-Za-z][A-Za-z0-9_-]*$/;

function isLetter(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

/** Header lines are short: a plain loop finds their LF sooner than a native call is set up. */
const SHORT_SCAN_BYTES = 128;

/** indexOf bounded to [from, to): bytes past `end` of an owned buffer are uninitialised. */
function indexIn(buf: Buffer, byte: number, from: number, to: number): number {
  const shortEnd = Math.min(to, from + SHORT_SCAN_BYTES);
  for (let i = from; i < shortEnd; i++) if (buf[i] === byte) return i;
  if (shortEnd >= to) return -1;
  if (to === buf.length) return buf.indexOf(byte, shortEnd);
  const i = buf.subarray(shortEnd, to).indexOf(byte);
  return i === -1 ? -1 : shortEnd + i;
}

const CONTENT_LENGTH = /^ *([0-9]+) *$/;

/** Spaces around the digits are tolerated: STOMP 1.0 clients commonly wrote `content-length: 5`. */
function parseContentLength(value: string): number {
  const m = CONTENT_LENGTH.exec(value);
  const n = m === null ? NaN : Number(m[1]);
  if (!Number.isSafeInteger(n)) throw malformed(`content-length must be a non-negative integer, got ${excerpt(value)}`);
  return n;
}

/** The message must not depend on where chunks were cut, so it names no running count. */
function frameTooLarge(max: number, detail?: string): StompError {
  const why = `frame exceeds wireFormat.maxFrameSize of ${max} bytes`;
  return new StompError('STOMP_FRAME_TOO_LARGE', detail === undefined ? why : `${why} (${detail})`);
}

function malformed(message: string): StompError {
  return new StompError('STOMP_MALFORMED_FRAME', message);
}

