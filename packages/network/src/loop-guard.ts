/**
 * The loop guard: what a forwarded message carries and the selector that keeps a bridge from forwarding
 * it where it must not go. Pure.
 *
 * Every forwarded message carries two headers (properties a selector can read):
 * - `NetworkPath`: the brokers it has left, delimited on both sides, `,A,B,` (so `LIKE '%,B,%'` finds B);
 * - `NetworkHops`: how many times it has been forwarded.
 * A bridge consumes with `(NetworkHops IS NULL OR NetworkHops < networkTTL) AND (NetworkPath IS NULL OR
 * NetworkPath NOT LIKE '%,<sink>,%')`, so a message is forwarded at most networkTTL times and never back to a
 * broker it has been on. (ActiveMQ keeps the same facts in its messages' brokerPath and a TTL.)
 */
import { NETWORK_MESSAGE_ID_HEADER } from '@mini-amq/broker';
import { PRODUCER_ID_HEADER, PRODUCER_SEQ_HEADER, type HeaderList } from '@mini-amq/stomp';

/** The brokers a forwarded message has left, `,A,B,`. */
export const NETWORK_PATH_PROPERTY = 'NetworkPath';
/** How many times a message has been forwarded. */
export const NETWORK_HOPS_PROPERTY = 'NetworkHops';

/**
 * MESSAGE headers that describe one delivery (or that the sender's client sets itself), not the message:
 * not passed on. The sink's FailoverClient sets its own amq-producer-id/seq, which de-duplicate a
 * re-send after it reconnects.
 */
const DELIVERY_HEADERS = new Set([
  'subscription', 'message-id', 'destination', 'ack', 'redelivered', 'timestamp', 'content-length', 'receipt',
  'transaction', PRODUCER_ID_HEADER, PRODUCER_SEQ_HEADER, NETWORK_PATH_PROPERTY, NETWORK_HOPS_PROPERTY,
]);

/** The selector of a bridge subscription forwarding to broker `sink` (see the file comment). */
export function loopGuardSelector(sink: string, networkTTL: number): string {
  return `(${NETWORK_HOPS_PROPERTY} IS NULL OR ${NETWORK_HOPS_PROPERTY} < ${networkTTL}) AND `
    + `(${NETWORK_PATH_PROPERTY} IS NULL OR ${NETWORK_PATH_PROPERTY} NOT LIKE ${likeContaining(`,${sink},`)} ESCAPE '\\')`;
}

/** A LIKE pattern literal matching any text that contains `text`: `%`, `_` and `\` escaped with `\`, quotes doubled. */
function likeContaining(text: string): string {
  const escaped = text.replace(/[\\%_]/g, (c) => `\\${c}`);
  return `'%${escaped.replace(/'/g, "''")}%'`;
}

/**
 * The SEND headers that forward a received MESSAGE from broker `from`: its own headers (first occurrence
 * of each) less the delivery ones, `persistent`, `priority` and `expires` kept, the path extended by
 * `from` and the hop count raised by one.
 */
export function forwardedHeaders(headers: HeaderList, from: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let path: string | undefined;
  let hops: string | undefined;
  let originalId: string | undefined;
  let messageId: string | undefined;
  for (const [name, value] of headers) {
    if (name === NETWORK_PATH_PROPERTY) { path ??= value; continue; }
    if (name === NETWORK_HOPS_PROPERTY) { hops ??= value; continue; }
    if (name === NETWORK_MESSAGE_ID_HEADER) { originalId ??= value; continue; }
    if (name === 'message-id') messageId ??= value;
    if (DELIVERY_HEADERS.has(name) || name in out) continue;
    if (name === 'expires' && value === '0') continue;
    if (name === 'persistent' && value !== 'true') continue;
    out[name] = value;
  }
  out[NETWORK_PATH_PROPERTY] = `${path !== undefined && path.startsWith(',') ? path : ','}${from},`;
  const n = hops !== undefined && /^[0-9]{1,6}$/.test(hops) ? Number(hops) : 0;
  out[NETWORK_HOPS_PROPERTY] = String(n + 1);
  // The id it was first stored under, kept across hops: with the path, the receiving broker's key for
  // dropping a redelivery of a message it already has (see the broker's NETWORK_MESSAGE_ID_HEADER).
  const id = originalId ?? messageId;
  if (id !== undefined) out[NETWORK_MESSAGE_ID_HEADER] = id;
  return out;
}

/** The brokers named by a NetworkPath value, in order. */
export function pathBrokers(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').filter((b) => b !== '');
}
