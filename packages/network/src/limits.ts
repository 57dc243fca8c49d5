/**
 * Every bound a network bridge keeps, with its unit and its reason (STYLE.md §5). A bridge that reaches a
 * bound logs a warning naming it and carries on without the extra item (a destination, a consumer).
 */
import assert from 'node:assert/strict';
import { FAILOVER_PENDING_BYTES_MAX, FAILOVER_PENDING_SENDS_MAX, MiB } from '@mini-amq/stomp';
import { NETWORK_PATH_BROKERS_MAX } from '@mini-amq/broker';

/** Destinations with consumers one side's demand tracker follows; past it new ones are ignored (and logged). */
export const DEMAND_DESTINATIONS_MAX = 10_000;
/** Network consumers tracked per destination (local ones are only counted, so they need no bound). */
export const NETWORK_CONSUMERS_PER_DESTINATION_MAX = 1_000;
/**
 * Subscriptions one forwarding direction holds on its source broker. The broker allows 10,000 per
 * connection (SUBSCRIPTIONS_PER_CONNECTION_MAX); a duplex bridge's remote connection also carries the
 * inbound direction's, so each direction stays well under half.
 */
export const FORWARD_SUBSCRIPTIONS_MAX = 4_000;
/** [ActiveMQ NetworkConnector prefetchSize, default 1000] the prefetch of every bridge subscription. */
export const FORWARD_PREFETCH = 1_000;
/** Forwarded messages one direction has sent and not yet seen receipted; more wait in its backlog. */
export const FORWARD_IN_FLIGHT_MESSAGES_MAX = 2_000;
/** The same bound in body bytes (a lone larger message is still sent). */
export const FORWARD_IN_FLIGHT_BYTES_MAX = 32 * MiB;
// The sink's FailoverClient keeps every unreceipted SEND for re-sending; it must never refuse ours.
assert(FORWARD_IN_FLIGHT_MESSAGES_MAX < FAILOVER_PENDING_SENDS_MAX / 2);
assert(FORWARD_IN_FLIGHT_BYTES_MAX <= FAILOVER_PENDING_BYTES_MAX / 2);
/**
 * Message ids of forwarded topic messages remembered, so that a message reaching a bridge through two
 * of its subscriptions (a wildcard and an exact topic both with demand) is forwarded once.
 */
export const TOPIC_MESSAGE_IDS_REMEMBERED_MAX = 10_000;
/** The largest networkTTL: a message's path can name no more brokers than the broker accepts in a path. */
export const NETWORK_TTL_MAX = NETWORK_PATH_BROKERS_MAX - 1;

/** First wait before a bridge dials again after failing to connect, in ms; it doubles up to the max. */
export const BRIDGE_RECONNECT_DELAY_INITIAL_MS = 100;
/** Longest wait between a bridge's dials, in ms: a group's new master is found within about this. */
export const BRIDGE_RECONNECT_DELAY_MAX_MS = 2_000;
/** Until CONNECTED, per dial, in ms. */
export const BRIDGE_CONNECT_TIMEOUT_MS = 5_000;
/** STOMP heart-beats both ways on bridge connections, in ms: a silent peer is given up after ~2 of them. */
export const BRIDGE_HEARTBEAT_MS = 5_000;
/** How long close() waits for the receipts of messages already forwarded before it lets go, in ms. */
export const BRIDGE_CLOSE_GRACE_MS = 2_000;
/** How long a bridge waits for the remote broker to say its name before it asks again, in ms. */
export const REMOTE_IDENTITY_RETRY_MS = 2_000;
