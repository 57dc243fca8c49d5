/** Expected failures of the replication package, each with a stable code (see STYLE.md §6). */

export type ReplErrorCode =
  /** The master stopped acknowledging (session expired, higher epoch seen, quorum lost): the write failed. */
  | 'REPL_FENCED'
  /** A write reached a node that is not a serving master. */
  | 'REPL_NOT_MASTER'
  /** A setting is out of range or contradicts another. */
  | 'REPL_CONFIG';

/** An expected replication failure, carrying its code. */
export class ReplError extends Error {
  readonly code: ReplErrorCode;
  constructor(code: ReplErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'ReplError';
  }
}
