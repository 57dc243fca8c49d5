/** @mini-amq/stomp: the STOMP codec (decoder, encoder, limits) and the client side (StompClient, URIs). */
export * from './frame.js';
export * from './errors.js';
export * from './limits.js';
export { FrameDecoder } from './decoder.js';
export { encodeFrame, HEART_BEAT_BYTES } from './encoder.js';
export { escapeHeader, unescapeHeader, usesEscaping } from './escaping.js';
export { parseBrokerUri, parseUriOptions, formatBrokerUri, type BrokerUri, type TransportScheme } from './uri.js';
export { parseHeartBeat, negotiateHeartBeat, HEART_BEAT_GRACE_FACTOR, NO_HEART_BEAT, type HeartBeatPlan } from './heartbeat.js';
export { Message, type MessageAcknowledger } from './message.js';
export { CLIENT_WRITE_BUFFER_BYTES_MAX, STOMP_WS_PROTOCOLS } from './transport.js';
export {
  CONNECT_DEFAULTS,
  DISCONNECT_TIMEOUT_MS,
  SOCKET_CLOSE_GRACE_MS,
  type BrokerAddress,
  type ConnectOptions,
} from './options.js';
export {
  StompClient,
  type AckMode,
  type HeaderValues,
  type StompClientEvents,
  type SubscribeOptions,
  type Subscription,
} from './client.js';
