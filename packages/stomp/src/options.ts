/**
 * StompClient's options and their one defaults object (STYLE.md §8): resolved and validated once, with
 * errors that name the setting.
 */
import type { DecoderLimits } from './limits.js';
import { parseBrokerUri, type BrokerUri, type TransportScheme } from './uri.js';

/** A broker URI, or its parts. */
export type BrokerAddress = string | { host: string; port: number; scheme?: TransportScheme; path?: string };

/** Options of `StompClient.connect`. */
export interface ConnectOptions {
  login?: string;
  passcode?: string;
  /** ActiveMQ's JMS clientID (`client-id`); durable subscriptions need it. */
  clientId?: string;
  /** The CONNECT `host` header (a virtual host name, not the address dialled). */
  host?: string;
  /** [can send every ms, want to receive every ms]; 0 = not at all. */
  heartBeat?: readonly [number, number];
  acceptVersion?: string;
  /** Extra CONNECT headers (ActiveMQ maps `activemq.*` onto the connection); they override the above. */
  connectHeaders?: Record<string, string>;
  /** Until CONNECTED, from the start of dialling. */
  connectTimeoutMs?: number;
  /** TCP_NODELAY; on by default since writes are already batched per event-loop turn. */
  noDelay?: boolean;
  decoderLimits?: Partial<DecoderLimits>;
}

type DefaultedOption = 'host' | 'heartBeat' | 'acceptVersion' | 'connectTimeoutMs' | 'noDelay';
export type ResolvedConnectOptions = ConnectOptions & Required<Pick<ConnectOptions, DefaultedOption>>;

/** The defaults of ConnectOptions. */
export const CONNECT_DEFAULTS: Readonly<Required<Pick<ConnectOptions, DefaultedOption>>> = Object.freeze({
  host: 'localhost',
  heartBeat: Object.freeze([0, 0] as const),
  acceptVersion: '1.0,1.1,1.2',
  connectTimeoutMs: 10_000,
  noDelay: true,
});

/** How long `disconnect` waits for the RECEIPT of its DISCONNECT before closing anyway. */
export const DISCONNECT_TIMEOUT_MS = 5_000;
/** After our FIN, how long the broker has to close its side before we destroy the socket. */
export const SOCKET_CLOSE_GRACE_MS = 1_000;

/** ConnectOptions with the defaults filled in; throws RangeError naming a bad setting. */
export function resolveConnectOptions(options: ConnectOptions): ResolvedConnectOptions {
  const resolved: ResolvedConnectOptions = { ...CONNECT_DEFAULTS, ...withoutUndefined(options) };
  validateOptions(resolved);
  return resolved;
}

/** The address `connect` was given, as a parsed URI (a string is parsed; parts are taken as they are). */
export function toBrokerUri(address: BrokerAddress): BrokerUri {
  if (typeof address === 'string') return parseBrokerUri(address);
  const scheme = address.scheme ?? 'tcp';
  return { scheme, host: address.host, port: address.port, path: scheme === 'ws' ? address.path ?? '/' : '', options: {} };
}

function validateOptions(o: ResolvedConnectOptions): void {
  const [send, receive] = o.heartBeat;
  if (!isMs(send) || !isMs(receive)) throw new RangeError(`heartBeat must be two non-negative integers [sendMs, receiveMs], got ${JSON.stringify(o.heartBeat)}`);
  if (!isMs(o.connectTimeoutMs) || o.connectTimeoutMs === 0) throw new RangeError(`connectTimeoutMs must be a positive integer, got ${String(o.connectTimeoutMs)}`);
}

function isMs(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
