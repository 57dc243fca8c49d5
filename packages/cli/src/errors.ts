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
  | 'CLI_START_FAILED';

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
