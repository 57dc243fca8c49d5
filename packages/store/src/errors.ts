/** Expected failures of the store package, each with a stable code (see STYLE.md §6). */

export type StoreErrorCode =
  /** Another process (or another store in this one) holds the directory's LevelDB lock. */
  | 'STORE_LOCKED'
  /** A group-commit batch could not be written; the store stops accepting appends (fail-stop). */
  | 'STORE_WRITE_FAILED'
  /** What is on disk contradicts the store's own invariants or format. */
  | 'STORE_CORRUPTION'
  /** The store is not open: not yet, or no longer. */
  | 'STORE_CLOSED'
  /** `readLog` was asked for entries older than the tail kept; the reader needs a snapshot. */
  | 'STORE_LOG_TRIMMED'
  /**
   * A snapshot given to `replaceState` holds keys a snapshot cannot hold (the log or aux space, unknown
   * meta) or contradicts itself; it is refused before the store changes.
   */
  | 'STORE_SNAPSHOT_INVALID';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'StoreError';
  }
}
