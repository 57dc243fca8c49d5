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
