/**
 * Every bound the STOMP codec enforces, with its unit and its reason.
 * User-facing names stay ActiveMQ's (`wireFormat.maxFrameSize`); units are converted where config is read.
 */
import assert from 'node:assert/strict';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** ActiveMQ's `wireFormat.maxFrameSize` default for STOMP transport connectors (104857600). */
export const FRAME_BYTES_MAX = 100 * MiB;
/** One header line (name:value) may not exceed this; stops a header-only flood from buffering without end. */
export const HEADER_LINE_BYTES_MAX = 64 * KiB;
/** Headers per frame; ActiveMQ has no such bound, RabbitMQ allows 1000 (`stomp.max_headers`)... we pick the same. */
export const HEADERS_PER_FRAME_MAX = 1000;
/** A command line longer than this is garbage, not a STOMP command. */
export const COMMAND_BYTES_MAX = 64;

assert(HEADER_LINE_BYTES_MAX < FRAME_BYTES_MAX);
assert(COMMAND_BYTES_MAX < HEADER_LINE_BYTES_MAX);

/** The limits one decoder applies; a connector may lower `frameBytesMax` (`wireFormat.maxFrameSize`). */
export interface DecoderLimits {
  readonly frameBytesMax: number;
  readonly headerLineBytesMax: number;
  readonly headersPerFrameMax: number;
}

export const DEFAULT_DECODER_LIMITS: DecoderLimits = Object.freeze({
  frameBytesMax: FRAME_BYTES_MAX,
  headerLineBytesMax: HEADER_LINE_BYTES_MAX,
  headersPerFrameMax: HEADERS_PER_FRAME_MAX,
});

/**
 * A decoder keeps its working buffer between frames up to this size, so a steady stream of small frames
 * reuses one allocation; a buffer grown for a bigger frame is dropped once that frame is consumed.
 */
export const DECODER_RETAINED_BUFFER_BYTES_MAX = 1 * MiB;
/** Smallest working buffer a decoder allocates when a frame spans chunks. */
export const DECODER_BUFFER_BYTES_MIN = 16 * KiB;

/** Receipts one client may wait for at once; beyond this a receipted call fails rather than growing a map without end. */
export const RECEIPTS_PENDING_MAX = 65_536;
