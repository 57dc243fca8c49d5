/**
 * Startup failures the user can fix, recognised wherever they sit in an error's `cause` chain (the broker
 * and store wrap what they catch) and turned into one line that says what to do. Anything not recognised
 * is returned as null: it is a bug or a surprise, and its stack trace is worth showing.
 */
import { CliError, type CliErrorCode } from './errors.js';
import type { ResolvedBrokerOptions } from './config.js';

export interface SystemErrorLike {
  readonly code?: unknown;
  readonly syscall?: unknown;
  readonly port?: unknown;
  readonly address?: unknown;
  readonly hostname?: unknown;
  readonly path?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
}

/** Bound on the cause chain walked, against a cycle of causes. */
const CAUSE_DEPTH_MAX = 16;

/** The error and its causes, outermost first. */
export function causeChain(error: unknown): SystemErrorLike[] {
  const chain: SystemErrorLike[] = [];
  for (let e = error; typeof e === 'object' && e !== null && chain.length < CAUSE_DEPTH_MAX; e = (e as SystemErrorLike).cause) {
    chain.push(e as SystemErrorLike);
  }
  return chain;
}

/** Which flag moves the listener that owns `port`, for the hint at the end of the line. */
function portFlag(port: unknown, broker: ResolvedBrokerOptions): string {
  return port === broker.wsPort && port !== broker.stompPort ? '--ws-port' : '--port';
}

/** Store codes meaning another process holds the store: classic-level's, and the store package's own. */
const LOCKED_CODES = new Set(['LEVEL_LOCKED', 'STORE_LOCKED']);
/** Prefixes of the stable codes our packages give expected failures (STYLE.md §6); their messages are for users. */
const PACKAGE_CODE = /^(STORE|BROKER|STOMP|LEVEL)_[A-Z_]+$/;
/** File-system errors on the data directory that the user fixes by choosing another one or fixing rights. */
const DATA_DIR_CODES = new Set(['EACCES', 'EPERM', 'ENOTDIR', 'EROFS', 'ENOSPC', 'EEXIST']);

/** The one-line explanation for a failed start, or null when the failure is not one we know. */
export function explainStartFailure(error: unknown, broker: ResolvedBrokerOptions): CliError | null {
  const chain = causeChain(error);
  const fail = (code: CliErrorCode, message: string) => new CliError(code, message, { cause: error });
  // Most precise first: Node's own socket error carries the port and address.
  for (const e of chain) {
    if (e.syscall === 'listen' || e.syscall === 'bind') {
      const flag = portFlag(e.port, broker);
      if (e.code === 'EADDRINUSE') return fail('CLI_LISTEN_FAILED', inUse(e.port, flag));
      if (e.code === 'EACCES') return fail('CLI_LISTEN_FAILED', `no permission to listen on port ${String(e.port)} (ports below 1024 need privileges): pass ${flag}`);
      if (e.code === 'EADDRNOTAVAIL') return fail('CLI_LISTEN_FAILED', `cannot listen on ${String(e.address)}: no interface of this machine has that address; pass --host`);
    }
    if (e.syscall === 'getaddrinfo') {
      return fail('CLI_LISTEN_FAILED', `cannot resolve host "${String(e.hostname ?? broker.host)}": pass --host with an address of this machine`);
    }
  }
  for (const e of chain) {
    if (typeof e.code === 'string' && LOCKED_CODES.has(e.code)) {
      return fail('CLI_DATA_DIR_LOCKED', `data directory ${broker.dataDir} is in use by another broker (its store is locked): stop that broker or pass --data with another directory`);
    }
    if (e.code === 'BROKER_PORT_IN_USE') {
      // The broker's own error, when it did not pass Node's on as its cause: the port is in its text.
      const port = typeof e.port === 'number' ? e.port : Number(/\b(\d{1,5})\b/.exec(String(e.message))?.[1] ?? NaN);
      if (Number.isInteger(port)) return fail('CLI_LISTEN_FAILED', inUse(port, portFlag(port, broker)));
    }
  }
  for (const e of chain) {
    if (typeof e.code === 'string' && DATA_DIR_CODES.has(e.code) && typeof e.path === 'string') {
      return fail('CLI_START_FAILED', `cannot use ${e.path} for the data directory: ${String(e.message)}; pass --data with another directory`);
    }
  }
  const coded = chain.find((e) => typeof e.code === 'string' && PACKAGE_CODE.test(e.code));
  if (coded) {
    // Inner messages often hold the real reason ("Database failed to open" wraps "IO error: ..."), so keep them.
    const messages = chain.slice(chain.indexOf(coded)).map((e) => String(e.message ?? '')).filter((m) => m !== '');
    return fail('CLI_START_FAILED', `cannot start: ${[...new Set(messages)].join(': ')} (${String(coded.code)})`);
  }
  return null;
}

function inUse(port: unknown, flag: string): string {
  return `port ${String(port)} is already in use: stop the other broker or pass ${flag}`;
}
