/**
 * Broker URIs as ActiveMQ users write them: `tcp://host:61613`, `stomp://host:61613`,
 * `ws://host:61614/path`, with `?key=value` options. Composite URIs (`failover:(...)`) are parsed by
 * `parseFailoverUri` (failover-uri.ts), built on `parseBrokerUri` and `parseUriOptions`.
 */
import { StompError } from './errors.js';

/** How the client reaches the broker. */
export type TransportScheme = 'tcp' | 'ws';

/** One broker address. */
export interface BrokerUri {
  readonly scheme: TransportScheme;
  /** Host name or address; IPv6 without brackets (as node:net wants it). */
  readonly host: string;
  readonly port: number;
  /** '' for TCP; the request path for WebSocket ('/' when none is given). */
  readonly path: string;
  /** Query options, percent-decoded; the client accepts and ignores them. */
  readonly options: Readonly<Record<string, string>>;
}

/** ActiveMQ's transport scheme names for STOMP that this client can speak. */
const SCHEMES: Readonly<Record<string, TransportScheme>> = {
  tcp: 'tcp', stomp: 'tcp', nio: 'tcp', 'stomp+nio': 'tcp', ws: 'ws',
};
const TLS_SCHEMES = new Set(['wss', 'ssl', 'nio+ssl', 'stomp+ssl', 'stomp+nio+ssl']);
const COMPOSITE_SCHEMES = new Set(['failover', 'static', 'masterslave', 'discovery']);

const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const IPV6 = /^\[([0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?)\]$/;
const PORT = /^[0-9]{1,5}$/;

/** Parses one broker URI; throws StompError('STOMP_BAD_URI') that quotes the URI and says what is wrong. */
export function parseBrokerUri(text: string): BrokerUri {
  const bad = (why: string): StompError => badUri(text, why);
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(text.trim());
  if (m === null) throw bad('expected scheme://host:port, e.g. tcp://localhost:61613');
  const name = (m[1] as string).toLowerCase();
  const rest = m[2] as string;
  if (COMPOSITE_SCHEMES.has(name)) throw bad(`"${name}:" URIs are not supported here; give a single tcp:// or ws:// URI`);
  if (TLS_SCHEMES.has(name)) throw bad(`"${name}" needs TLS, which is not supported; use tcp:// or ws://`);
  const scheme = SCHEMES[name];
  if (scheme === undefined) throw bad(`unknown scheme "${name}" (expected tcp, stomp or ws)`);
  if (!rest.startsWith('//')) throw bad(`expected "//" after "${name}:"`);
  if (rest.includes('#')) throw bad('a fragment (#...) has no meaning here');

  const query = rest.indexOf('?');
  const hierarchy = query === -1 ? rest.slice(2) : rest.slice(2, query);
  const options = query === -1 ? {} : parseUriOptions(rest.slice(query + 1), text);
  const slash = hierarchy.indexOf('/');
  const authority = slash === -1 ? hierarchy : hierarchy.slice(0, slash);
  const rawPath = slash === -1 ? '' : hierarchy.slice(slash);
  const { host, port } = parseAuthority(authority, bad);

  if (scheme === 'tcp' && rawPath !== '' && rawPath !== '/') throw bad(`a ${name}:// URI takes no path, got "${rawPath}"`);
  const path = scheme === 'tcp' ? '' : rawPath === '' ? '/' : rawPath;
  return { scheme, host, port, path, options };
}

function parseAuthority(authority: string, bad: (why: string) => StompError): { host: string; port: number } {
  if (authority.includes('@')) throw bad('credentials in the URI are not supported; pass the login and passcode options');
  if (authority === '') throw bad('no host');
  const colon = authority.lastIndexOf(':');
  const closing = authority.lastIndexOf(']');
  if (colon === -1 || colon < closing) throw bad('no port (e.g. tcp://localhost:61613)');
  const hostPart = authority.slice(0, colon);
  const portPart = authority.slice(colon + 1);
  const v6 = IPV6.exec(hostPart);
  const host = v6 !== null ? (v6[1] as string) : hostPart;
  if (host === '') throw bad('no host');
  if (v6 === null && !HOST_NAME.test(host)) {
    throw bad(`invalid host ${JSON.stringify(hostPart)}${hostPart.includes(':') ? ' (an IPv6 address needs [brackets])' : ''}`);
  }
  const port = PORT.test(portPart) ? Number(portPart) : NaN;
  if (!(port >= 1 && port <= 65535)) throw bad(`port must be an integer from 1 to 65535, got ${JSON.stringify(portPart)}`);
  return { host, port };
}

/**
 * Parses `a=1&b=two` into a record (percent-decoded, `+` kept literally as ActiveMQ does; a key
 * without `=` gets ''). `uri` is quoted in errors. Later duplicates win.
 */
export function parseUriOptions(query: string, uri: string): Record<string, string> {
  const options: Record<string, string> = {};
  if (query === '') return options;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq === -1 ? pair : pair.slice(0, eq), uri);
    if (key === '') throw badUri(uri, `option ${JSON.stringify(pair)} has no name`);
    options[key] = eq === -1 ? '' : decode(pair.slice(eq + 1), uri);
  }
  return options;
}

/** The URI string for a parsed address (options left out); used to name it in messages and to dial WebSockets. */
export function formatBrokerUri(uri: Pick<BrokerUri, 'scheme' | 'host' | 'port' | 'path'>): string {
  const host = uri.host.includes(':') ? `[${uri.host}]` : uri.host;
  return `${uri.scheme}://${host}:${uri.port}${uri.path}`;
}

function decode(text: string, uri: string): string {
  try {
    return decodeURIComponent(text);
  } catch (cause) {
    throw badUri(uri, `invalid percent-encoding in ${JSON.stringify(text)}`, cause);
  }
}

function badUri(uri: string, why: string, cause?: unknown): StompError {
  return new StompError('STOMP_BAD_URI', `bad broker URI ${JSON.stringify(uri)}: ${why}`, { cause });
}
