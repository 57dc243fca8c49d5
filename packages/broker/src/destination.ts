/**
 * STOMP destination names as ActiveMQ reads them [ActiveMQ stomp.md: destinations]:
 * `/queue/X`, `/topic/X`, `/temp-queue/X`, `/temp-topic/X`, and the `/remote-temp-*` forms a reply-to
 * is rewritten to so that another connection can answer a temporary destination.
 */
import { BrokerError } from './errors.js';

export type DestinationKind = 'queue' | 'topic' | 'temp-queue' | 'temp-topic';

export interface DestinationName {
  readonly kind: DestinationKind;
  /** The name after the prefix (for temp kinds: the broker-global name). */
  readonly name: string;
}

/** Longest destination name we accept; ActiveMQ has no bound, a header line is the only other one. */
export const DESTINATION_CHARS_MAX = 1024;

const PREFIXES: ReadonlyArray<[string, DestinationKind, boolean]> = [
  ['/queue/', 'queue', false],
  ['/topic/', 'topic', false],
  ['/temp-queue/', 'temp-queue', false],
  ['/temp-topic/', 'temp-topic', false],
  ['/remote-temp-queue/', 'temp-queue', true],
  ['/remote-temp-topic/', 'temp-topic', true],
];

/**
 * Parses one destination. `tempScope` turns a connection's own `/temp-queue/X` into its broker-global
 * name; `/remote-temp-queue/G` already carries the global name G.
 */
export function parseDestination(text: string, tempScope: string): DestinationName {
  if (text.length > DESTINATION_CHARS_MAX) {
    throw new BrokerError('BROKER_BAD_DESTINATION', `destination is longer than ${DESTINATION_CHARS_MAX} characters`);
  }
  for (const [prefix, kind, remote] of PREFIXES) {
    if (!text.startsWith(prefix)) continue;
    const rest = text.slice(prefix.length);
    if (rest.length === 0) throw new BrokerError('BROKER_BAD_DESTINATION', `destination "${text}" has no name after ${prefix}`);
    if (kind === 'temp-queue' || kind === 'temp-topic') return { kind, name: remote ? rest : `${tempScope}:${rest}` };
    return { kind, name: rest };
  }
  // Same sentence as ActiveMQ's ProtocolConverter, so people searching for it find the cause.
  throw new BrokerError(
    'BROKER_BAD_DESTINATION',
    `ActiveMQ STOMP destinations must begin with one of: /queue/ /topic/ /temp-queue/ /temp-topic/ (got "${text}")`,
  );
}

/** Composite destinations: a comma-separated list sends to each [ActiveMQ: composite destinations]. */
export function parseDestinationList(text: string, tempScope: string): DestinationName[] {
  return text.split(',').map((part) => parseDestination(part.trim(), tempScope));
}

/** The canonical STOMP spelling; temp destinations are shown in their remote (global) form. */
export function formatDestination(d: DestinationName): string {
  switch (d.kind) {
    case 'queue': return `/queue/${d.name}`;
    case 'topic': return `/topic/${d.name}`;
    case 'temp-queue': return `/remote-temp-queue/${d.name}`;
    case 'temp-topic': return `/remote-temp-topic/${d.name}`;
  }
}
