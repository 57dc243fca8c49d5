/** @mini-amq/stomp: the STOMP codec (decoder, encoder, limits) and the client side (StompClient, URIs, FailoverClient). */
export * from './frame.js';
export * from './errors.js';
export * from './limits.js';
export { FrameDecoder } from './decoder.js';
export { encodeFrame, HEART_BEAT_BYTES } from './encoder.js';
export { escapeHeader, unescapeHeader, usesEscaping } from './escaping.js';
export { parseBrokerUri, parseUriOptions, formatBrokerUri, type BrokerUri, type TransportScheme } from './uri.js';
export { parseHeartBeat, negotiateHeartBeat, HEART_BEAT_GRACE_FACTOR, NO_HEART_BEAT, type HeartBeatPlan } from './heartbeat.js';
export { Message, type MessageAcknowledger } from './message.js';
export { CLIENT_WRITE_BUFFER_BYTES_MAX, STOMP_WS_PROTOCOLS, TurnBatchedWriter } from './transport.js';
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
export {
  parseFailoverUri,
  resolveFailoverOptions,
  FAILOVER_DEFAULTS,
  FAILOVER_DELAY_MS_MAX,
  SINGLE_URI_DEFAULTS,
  type FailoverOptions,
  type FailoverUri,
} from './failover-uri.js';
export {
  ServerPool,
  seededRandom,
  STABLE_CONNECTION_MS,
  type PoolPhase,
  type PoolStep,
  type ServerPoolOptions,
} from './server-pool.js';
export {
  FailoverClient,
  isAuthenticationFailure,
  FAILOVER_PENDING_BYTES_MAX,
  FAILOVER_PENDING_SENDS_MAX,
  PRODUCER_ID_HEADER,
  PRODUCER_SEQ_HEADER,
  type DisconnectInfo,
  type FailoverClientEvents,
  type FailoverConnectOptions,
  type ReconnectInfo,
} from './failover-client.js';
