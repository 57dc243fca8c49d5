/** Expected failures of the STOMP package, each with a stable code (see STYLE.md §6). */
import type { Frame } from './frame.js';

export type StompErrorCode =
  | 'STOMP_FRAME_TOO_LARGE'
  | 'STOMP_HEADER_TOO_LARGE'
  | 'STOMP_TOO_MANY_HEADERS'
  | 'STOMP_MALFORMED_FRAME'
  | 'STOMP_BAD_ESCAPE'
  | 'STOMP_BAD_URI'
  | 'STOMP_CONNECTION_CLOSED'
  | 'STOMP_SERVER_ERROR'
  | 'STOMP_TIMEOUT'
  | 'STOMP_CONNECT_FAILED'
  /** More receipts outstanding on one connection than RECEIPTS_PENDING_MAX. */
  | 'STOMP_TOO_MANY_RECEIPTS'
  /** The negotiated protocol version cannot express what was asked (e.g. NACK in STOMP 1.0). */
  | 'STOMP_UNSUPPORTED'
  /** A failover ended the connection a transaction lived on, so the broker rolled it back (ActiveMQ's TransactionRolledBackException). */
  | 'STOMP_TRANSACTION_ROLLED_BACK'
  /** The connection was lost after COMMIT was sent and before its RECEIPT: the transaction may or may not have been committed. */
  | 'STOMP_TRANSACTION_IN_DOUBT'
  /** A FailoverClient already keeps as many unconfirmed SENDs (count or bytes) as it may hold for re-sending. */
  | 'STOMP_TOO_MANY_PENDING_SENDS';

export class StompError extends Error {
  readonly code: StompErrorCode;
  /** For STOMP_SERVER_ERROR: the ERROR frame itself (its body often holds the details). */
  readonly frame?: Frame;
  constructor(code: StompErrorCode, message: string, options?: { cause?: unknown; frame?: Frame }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = 'StompError';
    if (options?.frame !== undefined) this.frame = options.frame;
  }
}

/** Longer excerpts of bad input are cut in error messages; they end up in an ERROR frame header. */
export const EXCERPT_CHARS_MAX = 64;

/** Quotes untrusted input for an error message: JSON-escaped (so control bytes show), cut to EXCERPT_CHARS_MAX. */
export function excerpt(text: string): string {
  return text.length > EXCERPT_CHARS_MAX ? `${JSON.stringify(text.slice(0, EXCERPT_CHARS_MAX))}...` : JSON.stringify(text);
}
