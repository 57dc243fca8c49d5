/**
 * Network connector settings as ActiveMQ users write them [ActiveMQ: Networks of Brokers,
 * NetworkConnector attributes]: a URI such as `static:(tcp://a:61613,tcp://b:61613)?duplex=true` or
 * `masterslave:(tcp://a:61613,tcp://b:61613,tcp://c:61613)`, with the connector's own options (ActiveMQ's
 * names and defaults) in its query, plus values from a config file or flags. Validated once, here, into a
 * frozen NetworkConnectorConfig (STYLE.md §8); errors name the setting and what is accepted.
 *
 * Where we differ from ActiveMQ: `conduitSubscriptions=false` and `dynamicOnly` are accepted and change
 * nothing (a bridge always holds one subscription per destination, and there are no network durable
 * subscriptions to activate); remote credentials (`userName`/`password`) are not supported yet.
 */
import { isWildcard } from '@mini-amq/broker';
import { formatBrokerUri, parseBrokerUri, parseUriOptions } from '@mini-amq/stomp';
import { NetworkError, type NetworkErrorCode } from './errors.js';
import { NETWORK_TTL_MAX } from './limits.js';

/** One network connector, resolved. */
export interface NetworkConnectorConfig {
  /** ActiveMQ's `name` (default `bridge`); shown in status and logs. */
  readonly name: string;
  /** The URI as written, e.g. `static:(tcp://127.0.0.1:61623,tcp://127.0.0.1:61633)`. */
  readonly uri: string;
  /** `static`: one bridge per remote; `masterslave`: one bridge to whichever remote is master. */
  readonly kind: 'static' | 'masterslave';
  /** The inner broker URIs (tcp://, stomp://, ws://), as StompClient and FailoverClient take them. */
  readonly remotes: readonly string[];
  /** The remote forwards back over the same connections (default false). */
  readonly duplex: boolean;
  /** Brokers a message may be forwarded through, and demand may come from (default 1). */
  readonly networkTTL: number;
  /** One bridge subscription per destination (default true; false behaves the same, see the file comment). */
  readonly conduitSubscriptions: boolean;
  /** Bridge subscriptions take a priority below every local consumer (default false). */
  readonly decreaseNetworkConsumerPriority: boolean;
  /** Accepted for ActiveMQ configs; no effect (default false). */
  readonly dynamicOnly: boolean;
  /** Never forwarded, whatever else says (STOMP form with ActiveMQ wildcards, e.g. `/queue/secret.>`). */
  readonly excludedDestinations: readonly string[];
  /** When not empty, only these are forwarded on demand. */
  readonly dynamicallyIncludedDestinations: readonly string[];
  /** Forwarded always, demand or not (queues: consumed; topics: subscribed). */
  readonly staticallyIncludedDestinations: readonly string[];
}

/** The settings a connector may take besides its URI. */
export type NetworkConnectorSettings = Omit<NetworkConnectorConfig, 'uri' | 'kind' | 'remotes'>;

/** ActiveMQ's defaults for a `<networkConnector>`. */
export const NETWORK_CONNECTOR_DEFAULTS: Readonly<NetworkConnectorSettings> = Object.freeze({
  name: 'bridge',
  duplex: false,
  networkTTL: 1,
  conduitSubscriptions: true,
  decreaseNetworkConsumerPriority: false,
  dynamicOnly: false,
  excludedDestinations: Object.freeze([]) as readonly string[],
  dynamicallyIncludedDestinations: Object.freeze([]) as readonly string[],
  staticallyIncludedDestinations: Object.freeze([]) as readonly string[],
});

type SettingKind = 'name' | 'boolean' | 'ttl' | 'destinations';

const SETTING_KINDS: Readonly<Record<keyof NetworkConnectorSettings, SettingKind>> = {
  name: 'name',
  duplex: 'boolean',
  networkTTL: 'ttl',
  conduitSubscriptions: 'boolean',
  decreaseNetworkConsumerPriority: 'boolean',
  dynamicOnly: 'boolean',
  excludedDestinations: 'destinations',
  dynamicallyIncludedDestinations: 'destinations',
  staticallyIncludedDestinations: 'destinations',
};
const KNOWN = Object.keys(SETTING_KINDS).join(', ');

/** ActiveMQ connector options we do not implement: named as such, so a copied config is not called a typo. */
const ACTIVEMQ_UNSUPPORTED = new Set([
  'userName', 'password', 'prefetchSize', 'advisoryPrefetchSize', 'suppressDuplicateQueueSubscriptions',
  'suppressDuplicateTopicSubscriptions', 'bridgeTempDestinations', 'alwaysSyncSend', 'messageTTL', 'consumerTTL',
  'advisoryForFailedForward', 'useVirtualDestSubs', 'gcDestinationViews', 'syncDurableSubs', 'networkAdvisoryFilter',
  'staticBridge', 'localUri', 'brokerName', 'useCompression', 'consumerPriorityBase', 'dispatchAsync',
  'checkDuplicateMessagesOnDuplex', 'useBrokerNameAsIdSees', 'clientIdToken', 'advisoryAckPercentage', 'durableDestinations',
]);

const SCHEMES: Readonly<Record<string, NetworkConnectorConfig['kind']>> = {
  static: 'static', masterslave: 'masterslave', failover: 'masterslave',
};

/**
 * Parses `static:(a,b)?duplex=true&networkTTL=2`, `static://(…)`, `static:a` (one remote, no options),
 * `masterslave:(a,b,c)` (also `failover:(…)`). `extra` (a config file object, a `--duplex` flag) goes over
 * the defaults and the URI's query options go over `extra`. Throws NetworkError: NETWORK_BAD_URI for the
 * URI, NETWORK_CONFIG for a bad value in `extra`.
 */
export function parseNetworkConnector(uri: string, extra: Partial<NetworkConnectorSettings> = {}): NetworkConnectorConfig {
  const bad = (why: string, cause?: unknown): NetworkError =>
    new NetworkError('NETWORK_BAD_URI', `bad network connector URI ${JSON.stringify(uri)}: ${why}`, cause === undefined ? undefined : { cause });
  const text = uri.trim();
  const m = /^([A-Za-z]+):(.*)$/s.exec(text);
  const kind = m === null ? undefined : SCHEMES[(m[1] as string).toLowerCase()];
  if (m === null || kind === undefined) {
    throw bad('expected static:(tcp://host:port,…) (one bridge per broker) or masterslave:(tcp://host:port,…) (one bridge to the master of a group)');
  }
  let rest = (m[2] as string).trim();
  if (rest.startsWith('//')) rest = rest.slice(2).trim();
  let list: string;
  let query = '';
  if (rest.startsWith('(')) {
    const close = rest.indexOf(')');
    if (close === -1) throw bad('missing ")" after the broker URIs');
    list = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith('?')) throw bad(`unexpected ${JSON.stringify(after)} after ")"; connector options go after "?"`);
    query = after.slice(1);
  } else {
    if (rest.includes(')')) throw bad('unbalanced parentheses');
    // [ActiveMQ URISupport.parseComposite] without parentheses a "?" belongs to the (last) broker URI.
    list = rest;
  }
  const remotes = parseRemotes(list, bad);
  if (!rest.startsWith('(')) rejectMisplacedOptions(remotes[remotes.length - 1] as string, bad);
  let raw: Record<string, string>;
  try {
    raw = parseUriOptions(query, uri);
  } catch (err) {
    throw bad((err as Error).message, err);
  }
  const fromUri: Partial<Record<keyof NetworkConnectorSettings, unknown>> = {};
  for (const [name, value] of Object.entries(raw)) {
    const key = settingKey(name, (why) => bad(why));
    fromUri[key] = fromText(SETTING_KINDS[key], value);
  }
  const settings: Record<string, unknown> = { ...NETWORK_CONNECTOR_DEFAULTS };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) continue;
    const key = settingKey(name, (why) => new NetworkError('NETWORK_CONFIG', `network connector ${JSON.stringify(uri)}: ${why}`));
    settings[key] = checked('NETWORK_CONFIG', key, value, uri);
  }
  for (const [key, value] of Object.entries(fromUri)) settings[key] = checked('NETWORK_BAD_URI', key as keyof NetworkConnectorSettings, value, uri);
  const s = settings as unknown as NetworkConnectorSettings;
  return Object.freeze({ ...s, uri, kind, remotes });
}

function parseRemotes(list: string, bad: (why: string, cause?: unknown) => NetworkError): readonly string[] {
  const parts = list.split(',').map((p) => p.trim());
  if (parts.length === 1 && parts[0] === '') throw bad('no broker URIs (expected e.g. static:(tcp://host:61613))');
  const seen = new Set<string>();
  parts.forEach((part, i) => {
    if (part === '') throw bad(`broker URI ${i + 1} of ${parts.length} is empty`);
    try {
      parseBrokerUri(part);
    } catch (err) {
      throw bad((err as Error).message, err);
    }
    if (seen.has(part)) throw bad(`${part} is listed twice`);
    seen.add(part);
  });
  return Object.freeze(parts);
}

/** `static:tcp://a:1?duplex=true` hands `duplex` to tcp://a:1, where it would silently do nothing. */
function rejectMisplacedOptions(last: string, bad: (why: string) => NetworkError): void {
  const parsed = parseBrokerUri(last);
  for (const key of Object.keys(parsed.options)) {
    if (key in SETTING_KINDS) throw bad(`"${key}" would apply to ${formatBrokerUri(parsed)} only; put connector options after parentheses: static:(uri1,uri2)?${key}=…`);
  }
}

function settingKey(name: string, fail: (why: string) => NetworkError): keyof NetworkConnectorSettings {
  if (name in SETTING_KINDS) return name as keyof NetworkConnectorSettings;
  if (ACTIVEMQ_UNSUPPORTED.has(name)) throw fail(`the ActiveMQ network connector option "${name}" is not supported (supported: ${KNOWN})`);
  throw fail(`unknown network connector option ${JSON.stringify(name)} (known: ${KNOWN})`);
}

/** The typed value of an option written in a URI (checked afterwards, with the other sources' values). */
function fromText(kind: SettingKind, text: string): unknown {
  switch (kind) {
    case 'boolean': {
      const lower = text.toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : text;
    }
    case 'ttl': return /^[0-9]+$/.test(text) ? Number(text) : text;
    case 'destinations': return text === '' ? [] : text.split(',').map((d) => d.trim());
    case 'name': return text;
  }
}

/** `value` for setting `key` when valid, frozen; throws NetworkError(`code`) naming the setting. */
function checked(code: NetworkErrorCode, key: keyof NetworkConnectorSettings, value: unknown, uri: string): unknown {
  const fail = (why: string): never => {
    const where = code === 'NETWORK_BAD_URI' ? `bad network connector URI ${JSON.stringify(uri)}` : `network connector ${JSON.stringify(uri)}`;
    throw new NetworkError(code, `${where}: ${key} ${why}, got ${JSON.stringify(value)}`);
  };
  switch (SETTING_KINDS[key]) {
    case 'boolean':
      if (typeof value !== 'boolean') fail('must be true or false');
      return value;
    case 'ttl':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > NETWORK_TTL_MAX) fail(`must be a whole number from 1 to ${NETWORK_TTL_MAX}`);
      return value;
    case 'name':
      if (typeof value !== 'string' || value.trim() === '') fail('must be a non-empty string');
      return value;
    case 'destinations': {
      if (!Array.isArray(value) || !value.every((d) => typeof d === 'string')) fail('must be a list of destinations such as /queue/orders.>');
      const list = value as string[];
      for (const d of list) {
        const why = destinationProblem(d, key === 'staticallyIncludedDestinations');
        if (why !== null) fail(`has ${JSON.stringify(d)}, which ${why}`);
      }
      return Object.freeze([...list]);
    }
  }
}

/** Null when `d` is a usable destination pattern, else what is wrong with it. */
function destinationProblem(d: string, staticInclude: boolean): string | null {
  const m = /^\/(queue|topic)\/(.+)$/.exec(d);
  if (m === null) return 'is not /queue/<name> or /topic/<name> (ActiveMQ wildcards . * > allowed)';
  const name = m[2] as string;
  const parts = name.split('.');
  if (parts.some((p) => p === '')) return 'has an empty element between dots';
  if (parts.slice(0, -1).includes('>')) return 'has ">" before its last element (">" matches the rest of a name)';
  // The broker takes wildcard subscriptions on topics only: a queue pattern cannot be consumed as such.
  if (staticInclude && m[1] === 'queue' && isWildcard(name)) return 'is a queue wildcard; a statically included queue must be named exactly';
  return null;
}
