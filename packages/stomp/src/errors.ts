/** Expected failures of the STOMP package, each with a stable code (see STYLE.md §6). */

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
  | 'STOMP_CONNECT_FAILED';

export class StompError extends Error {
  readonly code: StompErrorCode;
  constructor(code: StompErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'StompError';
  }
}
