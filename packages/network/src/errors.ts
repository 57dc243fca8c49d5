/** The network package's expected failures, each with a stable code (STYLE.md §6). */

export type NetworkErrorCode =
  /** A connector URI that cannot be read: its scheme, its broker list or one of its options. */
  | 'NETWORK_BAD_URI'
  /** A setting given as a value (config file, flags, NetworkConnector options) that is out of range. */
  | 'NETWORK_CONFIG';

/** A bad network connector URI or setting; the message names what is wrong and what is accepted. */
export class NetworkError extends Error {
  readonly code: NetworkErrorCode;

  constructor(code: NetworkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetworkError';
    this.code = code;
  }
}
