/**
 * Expected failures of the replication IO shell (links, framing, coordinator), each with a stable code
 * (STYLE.md §6). Kept apart from core/errors.ts: the pure core never meets a socket, a byte or a URI, and
 * the tidy test keeps it from importing anything outside core/; the shell may still throw a core ReplError
 * (REPL_CONFIG) where it validates settings the core defines.
 */

export type ReplShellErrorCode =
  /** A frame announces (or would need) more than REPL_FRAME_BYTES_MAX bytes. */
  | 'REPL_FRAME_TOO_LARGE'
  /** A frame's bytes do not decode (empty, not msgpack, or not a peer message). */
  | 'REPL_BAD_FRAME'
  /** A `bind` or member address that is not `tcp://host:port`. */
  | 'REPL_BAD_URI'
  /** The first frame was not a valid LOGIN, or its securityToken was wrong. */
  | 'REPL_LOGIN_REJECTED'
  /** A link's outbound queue passed its bound: the peer is not keeping up and must resync. */
  | 'REPL_LINK_OVERFLOW'
  /** Dialing a peer failed or timed out. */
  | 'REPL_CONNECT_FAILED'
  /** The connection ended (peer closed, reset, or this side closed it). */
  | 'REPL_LINK_CLOSED';

/** An expected failure of the replication shell, carrying its code. */
export class ReplShellError extends Error {
  readonly code: ReplShellErrorCode;
  constructor(code: ReplShellErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = 'ReplShellError';
  }
}
