/** Expected failures of the broker, each with a stable code (STYLE.md §6). A client's bad frame becomes one
 * of these, then a STOMP ERROR frame whose `message` header is the error's message, then a close. */

export type BrokerErrorCode =
  | 'BROKER_BAD_FRAME'
  | 'BROKER_BAD_DESTINATION'
  | 'BROKER_BAD_SELECTOR'
  | 'BROKER_UNKNOWN_COMMAND'
  | 'BROKER_NOT_CONNECTED'
  | 'BROKER_AUTH_FAILED'
  | 'BROKER_UNSUPPORTED_VERSION'
  | 'BROKER_UNKNOWN_ACK'
  | 'BROKER_UNKNOWN_SUBSCRIPTION'
  | 'BROKER_DUPLICATE_SUBSCRIPTION'
  | 'BROKER_UNKNOWN_TRANSACTION'
  | 'BROKER_DUPLICATE_TRANSACTION'
  | 'BROKER_LIMIT_EXCEEDED'
  | 'BROKER_CLIENT_ID_IN_USE'
  | 'BROKER_HEARTBEAT_TIMEOUT'
  | 'BROKER_STORE_FAILED'
  | 'BROKER_PORT_IN_USE'
  | 'BROKER_CLOSED';

export class BrokerError extends Error {
  readonly code: BrokerErrorCode;
  constructor(code: BrokerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'BrokerError';
  }
}

export function badFrame(message: string): BrokerError {
  return new BrokerError('BROKER_BAD_FRAME', message);
}
