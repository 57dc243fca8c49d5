/**
 * Contract of the STOMP codec (implementation lives in decoder.ts / encoder.ts).
 *
 * FrameDecoder is pull-style: `push(chunk)` only buffers; `next()` returns one frame (or a heart-beat,
 * or null when more bytes are needed). Pulling one frame at a time lets the connection switch the
 * escaping rules right after CONNECT is handled, and lets flow control stop processing frames that are
 * already buffered.
 */
export { FrameDecoder } from './decoder.js';
export { encodeFrame, HEART_BEAT_BYTES } from './encoder.js';
