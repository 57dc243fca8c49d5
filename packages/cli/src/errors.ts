/**
 * Expected failures of the `mini-amq` binary, each with a stable code (STYLE.md §6). An expected failure is
 * printed as one line on stderr with no stack trace; anything else is a bug and keeps its stack.
 */

export type CliErrorCode =
  /** Bad command line: unknown flag or command, missing value. Exit status 2. */
  | 'CLI_USAGE'
  /** The config file (or a flag value) is unreadable or invalid. */
  | 'CLI_CONFIG_INVALID'
  /** A listener could not bind: port taken, no permission, address not on this machine. */
  | 'CLI_LISTEN_FAILED'
  /** Another broker holds the store in the data directory. */
  | 'CLI_DATA_DIR_LOCKED'
  /** The store or broker refused to start for a reason it explained (an error with a package code). */
  | 'CLI_START_FAILED'
  /** A client command could not reach a broker: refused, unknown host, no CONNECTED in time. */
  | 'CLI_CONNECT_FAILED'
  /** The broker refused the login and passcode. */
  | 'CLI_AUTH_REFUSED'
  /** The connection to the broker was lost during a client command (and not re-established). */
  | 'CLI_CONNECTION_LOST'
  /** The broker answered a request with an ERROR frame (a refused subscription, a refused send). */
  | 'CLI_BROKER_ERROR'
  /** Nothing came from the broker within a time limit (statistics answer, browse, consume's --timeout). */
  | 'CLI_TIMEOUT'
  /** The broker answered, but not in the shape the command expects (e.g. statistics that are not JSON). */
  | 'CLI_BAD_ANSWER'
  /** A file named on the command line (produce --file) cannot be read. */
  | 'CLI_INPUT_UNREADABLE'
  /** SIGINT or SIGTERM stopped a client command before it did what was asked. */
  | 'CLI_INTERRUPTED';

/** An expected failure of the binary; `message` is the whole line the user sees. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'CliError';
  }
}

/** Exit statuses: 2 for usage errors as most Unix tools, 1 for everything else that failed. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The exit status an expected failure maps to. */
export function exitStatusOf(error: CliError): number {
  return error.code === 'CLI_USAGE' ? EXIT_USAGE : EXIT_FAILURE;
}
