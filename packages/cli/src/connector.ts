/**
 * ActiveMQ transport connector URIs, e.g. `stomp://0.0.0.0:61613?maximumConnections=1000&wireFormat.maxFrameSize=104857600`,
 * read into the one listener they describe. mini-amq speaks only STOMP, so every TCP scheme ActiveMQ uses for
 * STOMP (and plain `tcp`, which users copy from ActiveMQ examples) means STOMP over TCP; `ws` is STOMP over
 * WebSocket. TLS schemes are not offered because there is no TLS listener yet.
 */
import { CliError } from './errors.js';
import { FRAME_BYTES_LIMIT, describeValue, positiveInteger, size, type Setting } from './values.js';

export type ListenerProtocol = 'stomp' | 'ws';

/** Schemes accepted and the listener each one means. */
export const CONNECTOR_SCHEMES: Readonly<Record<string, ListenerProtocol>> = Object.freeze({
  stomp: 'stomp', tcp: 'stomp', 'stomp+nio': 'stomp', ws: 'ws',
});

/** A port left out of the URI takes ActiveMQ's default for the protocol. */
export const DEFAULT_PORTS: Readonly<Record<ListenerProtocol, number>> = Object.freeze({ stomp: 61613, ws: 61614 });

/** URI options understood, by their ActiveMQ names; anything else is refused rather than silently ignored. */
export const CONNECTOR_OPTIONS = Object.freeze(['maximumConnections', 'wireFormat.maxFrameSize'] as const);

/** One listener as a connector URI describes it; absent options fall back to the broker-wide values. */
export interface ConnectorSpec {
  readonly protocol: ListenerProtocol;
  readonly host: string;
  readonly port: number;
  readonly maximumConnections?: number;
  readonly maxFrameSize?: number;
}

function fail(message: string, where: string): never {
  throw new CliError('CLI_CONFIG_INVALID', `${message} (at ${where})`);
}

/** Parses one connector URI; `where` is its JSON path, quoted in every error. */
export function parseConnectorUri(uri: string, where: string): ConnectorSpec {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    fail(`not a valid connector URI: ${describeValue(uri)}; expected e.g. "stomp://127.0.0.1:61613"`, where);
  }
  const scheme = url.protocol.replace(/:$/, '');
  const protocol = CONNECTOR_SCHEMES[scheme];
  if (protocol === undefined) {
    fail(`unsupported connector scheme "${scheme}" (supported: ${Object.keys(CONNECTOR_SCHEMES).join(', ')})`, where);
  }
  // IPv6 literals come back bracketed ("[::1]"); listen() wants the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') fail(`connector URI ${describeValue(uri)} has no host; expected e.g. "${scheme}://0.0.0.0:${DEFAULT_PORTS[protocol]}"`, where);
  if (url.username !== '' || url.password !== '' || (url.pathname !== '' && url.pathname !== '/') || url.hash !== '') {
    fail(`connector URI ${describeValue(uri)} may hold only scheme, host, port and options`, where);
  }
  const given = explicitPort(uri);
  const port = given === null ? DEFAULT_PORTS[protocol] : Number(given);
  return { protocol, host, port, ...readOptions(url.searchParams, where) };
}

/**
 * The port written in the URI, or null when none is. Read from the text rather than from URL.port, because
 * WHATWG URL drops a scheme's default port ("ws://host:80" has port '') and 80 must not turn into 61614.
 */
function explicitPort(uri: string): string | null {
  const match = /^[^:]+:\/\/(?:\[[^\]]*\]|[^/?#:]*)(?::(\d+))?/.exec(uri);
  return match?.[1] ?? null;
}

function readOptions(params: URLSearchParams, where: string): { maximumConnections?: number; maxFrameSize?: number } {
  const seen = new Set<string>();
  const options: { maximumConnections?: number; maxFrameSize?: number } = {};
  for (const [name, value] of params) {
    if (seen.has(name)) fail(`connector option ${name} is given twice`, where);
    seen.add(name);
    const setting: Setting = { name, where };
    if (name === 'maximumConnections') options.maximumConnections = positiveInteger(value, setting);
    else if (name === 'wireFormat.maxFrameSize') options.maxFrameSize = size(value, setting, FRAME_BYTES_LIMIT);
    else fail(`unknown connector option "${name}" (known: ${CONNECTOR_OPTIONS.join(', ')})`, where);
  }
  return options;
}
