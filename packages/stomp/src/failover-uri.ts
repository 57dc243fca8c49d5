/**
 * Failover URIs as ActiveMQ users write them: `failover:(tcp://a:61613,tcp://b:61613)?randomize=false`,
 * `failover://(…)?…` and `failover:tcp://a:61613,tcp://b:61613`, with ActiveMQ's option names and
 * defaults [ActiveMQ: failover-transport-reference, FailoverTransport.java]. A plain `tcp://…` or
 * `ws://…` URI is accepted too: a pool of one that is not re-established when lost.
 *
 * Options are validated once, here, into a frozen FailoverOptions (STYLE.md §8); errors name the
 * setting. The values are milliseconds and counts, as ActiveMQ writes them.
 */
import { StompError } from './errors.js';
import { formatBrokerUri, parseBrokerUri, parseUriOptions, type BrokerUri } from './uri.js';

/** The failover options this client implements, with ActiveMQ's names and units (ms). */
export interface FailoverOptions {
  /** Try the URIs in a random order (reshuffled every round); false = the order written, the first is the primary. */
  readonly randomize: boolean;
  /** Wait after the first round in which every URI failed, in ms. */
  readonly initialReconnectDelay: number;
  /** Cap on the wait between rounds, in ms. */
  readonly maxReconnectDelay: number;
  /** Multiply the wait by backOffMultiplier after each failed round. */
  readonly useExponentialBackOff: boolean;
  /** ActiveMQ also calls it reconnectDelayExponent. */
  readonly backOffMultiplier: number;
  /**
   * Rounds over the URI list before giving up once connected at least once: -1 = forever. Like
   * ActiveMQ (`connectFailures >= limit`), 0 and 1 both mean a single round ("0 = try once").
   */
  readonly maxReconnectAttempts: number;
  /** The same limit before the first connection; -1 = use maxReconnectAttempts. */
  readonly startupMaxReconnectAttempts: number;
  /** How long a send waits for a connection, in ms; -1 = forever (ActiveMQ blocks the sender). */
  readonly timeout: number;
  /** Keep trying to get back to the first URI and switch to it when it is up again. */
  readonly priorityBackup: boolean;
}

/** ActiveMQ's defaults (FailoverTransport.java, 5.6+ where maxReconnectAttempts became -1). */
export const FAILOVER_DEFAULTS: Readonly<FailoverOptions> = Object.freeze({
  randomize: true,
  initialReconnectDelay: 10,
  maxReconnectDelay: 30_000,
  useExponentialBackOff: true,
  backOffMultiplier: 2,
  maxReconnectAttempts: -1,
  startupMaxReconnectAttempts: -1,
  timeout: -1,
  priorityBackup: false,
});

/**
 * A plain URI connects once: one round at startup and, unless the caller passes failover options,
 * no reconnect when the connection is lost.
 */
export const SINGLE_URI_DEFAULTS: Readonly<FailoverOptions> = Object.freeze({ ...FAILOVER_DEFAULTS, randomize: false, maxReconnectAttempts: 0 });

/** Node's setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days), so no delay may exceed it. */
export const FAILOVER_DELAY_MS_MAX = 2 ** 31 - 1;

/** A parsed failover (or plain) URI. */
export interface FailoverUri {
  /** The brokers, in the order written; their own `?options` are kept and ignored. */
  readonly uris: readonly BrokerUri[];
  readonly options: Readonly<FailoverOptions>;
  /** True for `failover:`; false for a plain URI (see SINGLE_URI_DEFAULTS). */
  readonly failover: boolean;
}

type OptionKind = 'boolean' | 'delay' | 'attempts' | 'timeout' | 'multiplier';

const OPTION_KINDS: Readonly<Record<keyof FailoverOptions, OptionKind>> = {
  randomize: 'boolean',
  initialReconnectDelay: 'delay',
  maxReconnectDelay: 'delay',
  useExponentialBackOff: 'boolean',
  backOffMultiplier: 'multiplier',
  maxReconnectAttempts: 'attempts',
  startupMaxReconnectAttempts: 'attempts',
  timeout: 'timeout',
  priorityBackup: 'boolean',
};
const OPTION_NAMES = Object.keys(OPTION_KINDS) as Array<keyof FailoverOptions>;
/** ActiveMQ's other name for backOffMultiplier. */
const ALIASES: Readonly<Record<string, keyof FailoverOptions>> = { reconnectDelayExponent: 'backOffMultiplier' };
const KNOWN = [...OPTION_NAMES, ...Object.keys(ALIASES)].join(', ');

/**
 * ActiveMQ failover options this client does not implement. Naming them in the error saves a user
 * who copied a working ActiveMQ URI from wondering whether they mistyped.
 */
const ACTIVEMQ_UNSUPPORTED = new Set([
  'backup', 'backupPoolSize', 'priorityURIs', 'trackMessages', 'maxCacheSize', 'trackTransactionProducers',
  'updateURIsSupported', 'updateURIsURL', 'rebalanceUpdateURIs', 'reconnectSupported', 'warnAfterReconnectAttempts',
  'connectionTimeout', 'reconnectDelay',
]);

/** `nested.*` options go to every inner URI [ActiveMQ 5.9], whose options this client ignores anyway. */
const NESTED_PREFIX = 'nested.';

/**
 * Parses `failover:(uri,…)?options`, `failover://(…)?…`, `failover:uri,uri` or a single broker URI.
 * Throws StompError('STOMP_BAD_URI') quoting the URI and saying what is wrong.
 */
export function parseFailoverUri(text: string): FailoverUri {
  const trimmed = text.trim();
  const m = /^failover:(.*)$/is.exec(trimmed);
  if (m === null) return { uris: [parseBrokerUri(text)], options: SINGLE_URI_DEFAULTS, failover: false };
  const bad = (why: string, cause?: unknown): StompError =>
    new StompError('STOMP_BAD_URI', `bad failover URI ${JSON.stringify(text)}: ${why}`, cause === undefined ? undefined : { cause });

  let rest = (m[1] as string).trim();
  if (rest.startsWith('//')) rest = rest.slice(2).trim();
  if (rest === '' || rest === '()') throw bad('no broker URIs (expected failover:(tcp://host:port,…))');

  let list: string;
  let query: string;
  if (rest.startsWith('(')) {
    const close = matchingParen(rest);
    if (close === -1) throw bad('missing ")" after the broker URIs');
    list = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith('?')) throw bad(`unexpected ${JSON.stringify(after)} after ")"; failover options go after "?"`);
    query = after.slice(1);
  } else {
    // [ActiveMQ URISupport.parseComposite] without parentheses there are no failover options:
    // a "?" belongs to the last broker URI.
    if (/[()]/.test(rest)) throw bad('unbalanced parentheses');
    list = rest;
    query = '';
  }
  if (query.includes('#')) throw bad('a fragment (#...) has no meaning here');

  const uris = parseList(list, bad);
  if (!rest.startsWith('(')) rejectMisplacedOptions(uris[uris.length - 1] as BrokerUri, bad);
  const options = parseFailoverOptions(parseUriOptions(query, text), bad);
  return { uris, options, failover: true };
}

/**
 * Failover options given as values (e.g. FailoverClient's `failover` option) over `base`; validated
 * and frozen. Throws RangeError naming the setting.
 */
export function resolveFailoverOptions(overrides: Partial<FailoverOptions>, base: Readonly<FailoverOptions> = FAILOVER_DEFAULTS): Readonly<FailoverOptions> {
  const resolved: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const key = (ALIASES[name] ?? name) as keyof FailoverOptions;
    const kind = OPTION_KINDS[key];
    if (kind === undefined) throw new RangeError(`unknown failover option ${JSON.stringify(name)} (known: ${KNOWN})`);
    const why = checkValue(kind, value);
    if (why !== null) throw new RangeError(`${name} ${why}, got ${JSON.stringify(value)}`);
    resolved[key] = value;
  }
  return Object.freeze(resolved as unknown as FailoverOptions);
}

function parseList(list: string, bad: (why: string, cause?: unknown) => StompError): BrokerUri[] {
  const parts = list.split(',').map((p) => p.trim());
  const uris: BrokerUri[] = [];
  const seen = new Set<string>();
  parts.forEach((part, i) => {
    if (part === '') throw bad(`broker URI ${i + 1} of ${parts.length} is empty`);
    if (/^failover:/i.test(part)) throw bad('a failover: URI cannot be nested inside another');
    let uri: BrokerUri;
    try {
      uri = parseBrokerUri(part);
    } catch (err) {
      throw bad((err as Error).message, err);
    }
    const address = formatBrokerUri(uri);
    // Two entries for one broker would only skew the order and double its share of attempts.
    if (seen.has(address)) throw bad(`${address} is listed twice`);
    seen.add(address);
    uris.push(uri);
  });
  return uris;
}

/**
 * `failover:tcp://a:1,tcp://b:2?randomize=false` hands `randomize` to tcp://b:2 (ActiveMQ does the
 * same) where it silently does nothing; refusing it is kinder than ignoring it.
 */
function rejectMisplacedOptions(last: BrokerUri, bad: (why: string) => StompError): void {
  for (const key of Object.keys(last.options)) {
    if (key in OPTION_KINDS || key in ALIASES) {
      throw bad(`"${key}" would apply to ${formatBrokerUri(last)} only; put failover options after parentheses: failover:(uri1,uri2)?${key}=…`);
    }
  }
}

function parseFailoverOptions(raw: Record<string, string>, bad: (why: string) => StompError): Readonly<FailoverOptions> {
  const options: Record<string, unknown> = { ...FAILOVER_DEFAULTS };
  if ('backOffMultiplier' in raw && 'reconnectDelayExponent' in raw) {
    throw bad('give backOffMultiplier or its alias reconnectDelayExponent, not both');
  }
  for (const [name, text] of Object.entries(raw)) {
    if (name.startsWith(NESTED_PREFIX)) continue;
    const key = (ALIASES[name] ?? name) as keyof FailoverOptions;
    const kind = OPTION_KINDS[key];
    if (kind === undefined) {
      if (ACTIVEMQ_UNSUPPORTED.has(name)) throw bad(`the ActiveMQ failover option "${name}" is not supported by this client (supported: ${KNOWN})`);
      throw bad(`unknown failover option ${JSON.stringify(name)} (known: ${KNOWN})`);
    }
    const value = fromText(kind, text);
    const why = value === undefined ? describe(kind) : checkValue(kind, value);
    if (why !== null) throw bad(`${name} ${why}, got ${JSON.stringify(text)}`);
    options[key] = value;
  }
  return Object.freeze(options as unknown as FailoverOptions);
}

/** The typed value of an option written in a URI; undefined when it has the wrong shape. */
function fromText(kind: OptionKind, text: string): boolean | number | undefined {
  if (kind === 'boolean') {
    // Java's Boolean.parseBoolean takes any case; it also takes "yes" as false, which we refuse.
    const lower = text.toLowerCase();
    return lower === 'true' ? true : lower === 'false' ? false : undefined;
  }
  if (kind === 'multiplier') return /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : undefined;
  return /^-?[0-9]+$/.test(text) ? Number(text) : undefined;
}

/** Null when `value` is acceptable for `kind`, else what it must be. */
function checkValue(kind: OptionKind, value: unknown): string | null {
  const ok = (() => {
    switch (kind) {
      case 'boolean': return typeof value === 'boolean';
      case 'delay': return isInt(value) && value >= 0 && value <= FAILOVER_DELAY_MS_MAX;
      case 'attempts': return isInt(value) && value >= -1;
      case 'timeout': return isInt(value) && (value === -1 || (value >= 1 && value <= FAILOVER_DELAY_MS_MAX));
      case 'multiplier': return typeof value === 'number' && Number.isFinite(value) && value >= 1;
    }
  })();
  return ok ? null : describe(kind);
}

function describe(kind: OptionKind): string {
  switch (kind) {
    case 'boolean': return 'must be true or false';
    case 'delay': return `must be a whole number of ms from 0 to ${FAILOVER_DELAY_MS_MAX}`;
    case 'attempts': return 'must be -1 (forever) or a whole number >= 0';
    case 'timeout': return `must be -1 (wait forever) or a whole number of ms from 1 to ${FAILOVER_DELAY_MS_MAX}`;
    case 'multiplier': return 'must be a number >= 1';
  }
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** Index of the ")" closing the "(" at 0, or -1. */
function matchingParen(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return -1;
}
