/**
 * Failures of the client commands turned into the one line the user sees, naming the cause: "cannot connect
 * to tcp://127.0.0.1:1: connection refused", "authentication refused by the broker: …", "connection to … lost:
 * …". The STOMP client wraps socket errors (StompError → its cause → Node's error), so the cause chain is
 * searched for the most precise reason. Anything unrecognised is returned as null: a bug, whose stack
 * trace is worth showing.
 */
import { isAuthenticationFailure, StompError } from '@mini-amq/stomp';
import { CliError } from './errors.js';
import { causeChain } from './failures.js';

/** Socket error codes and how the user should read them. */
const SOCKET_REASONS: Readonly<Record<string, string>> = Object.freeze({
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (name resolution failed)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset by the broker',
  EPIPE: 'connection reset by the broker',
  ETIMEDOUT: 'timeout: the connection attempt timed out',
});

/** The StompClient's message when CONNECTED does not come in time. */
const NO_CONNECTED = /no CONNECTED from \S+ within (\d+) ms/;
/** FailoverClient's give-up message, for the number of attempts a failover URI made. */
const GAVE_UP = /after (\d+) attempt\(s\)/;

/** The most precise reason found in the chain, or null. */
function reasonOf(error: unknown): string | null {
  const chain = causeChain(error);
  for (const e of chain) {
    if (typeof e.code === 'string' && SOCKET_REASONS[e.code] !== undefined) return SOCKET_REASONS[e.code]!;
  }
  for (const e of chain) {
    const timeout = NO_CONNECTED.exec(String(e.message ?? ''));
    if (timeout) return `timeout: no CONNECTED frame within ${Number(timeout[1]) / 1000} s`;
  }
  const server = chain.find((e) => e instanceof StompError && e.code === 'STOMP_SERVER_ERROR');
  if (server !== undefined) return `the broker answered with an ERROR: ${String(server.message)}`;
  return null;
}

function authFailure(error: unknown): CliError | null {
  const refused = causeChain(error).find((e) => isAuthenticationFailure(e));
  return refused === undefined ? null : new CliError('CLI_AUTH_REFUSED', `authentication refused by the broker: ${String(refused.message)}`, { cause: error });
}

/** Why FailoverClient.connect(url) failed, or null when the failure is not one we know. */
export function explainConnectFailure(error: unknown, url: string): CliError | null {
  const auth = authFailure(error);
  if (auth !== null) return auth;
  if (!(error instanceof StompError) || error.code !== 'STOMP_CONNECT_FAILED') return null;
  const reason = reasonOf(error) ?? error.message;
  const attempts = /^failover:/i.test(url.trim()) ? GAVE_UP.exec(error.message) : null;
  const tail = attempts === null ? '' : ` (gave up after ${attempts[1]} attempt(s))`;
  return new CliError('CLI_CONNECT_FAILED', `cannot connect to ${url}: ${reason}${tail}`, { cause: error });
}

/** Why a command failed once connected (a lost connection, an ERROR, a timed-out send), or null. */
export function explainRunFailure(error: unknown, url: string): CliError | null {
  const auth = authFailure(error);
  if (auth !== null) return auth;
  if (!(error instanceof StompError)) return null;
  // A closed client reports "closed before …"; the reason it closed is its cause.
  const root = error.code === 'STOMP_CONNECTION_CLOSED' && error.cause instanceof StompError ? error.cause : error;
  if (root instanceof StompError && root.code === 'STOMP_SERVER_ERROR') {
    return new CliError('CLI_BROKER_ERROR', `the broker sent an ERROR: ${root.message}`, { cause: error });
  }
  if (root instanceof StompError && root.code === 'STOMP_TIMEOUT') return new CliError('CLI_TIMEOUT', `timeout: ${root.message}`, { cause: error });
  const reason = reasonOf(root) ?? root.message;
  return new CliError('CLI_CONNECTION_LOST', `connection to ${url} lost: ${reason}`, { cause: error });
}
