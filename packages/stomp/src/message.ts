/** Message: one received MESSAGE frame with typed accessors and its ack/nack. */
import { header, type Frame, type HeaderList } from './frame.js';

/** Who sends the ACK/NACK for a message (the client; the frame shape depends on the version). */
export interface MessageAcknowledger {
  acknowledge(message: Message, command: 'ACK' | 'NACK', transaction?: string): void;
}

/** A MESSAGE frame delivered to a subscription. */
export class Message {
  readonly frame: Frame;
  private readonly acknowledger: MessageAcknowledger;
  private headerRecord: Record<string, string> | undefined;

  constructor(frame: Frame, acknowledger: MessageAcknowledger) {
    this.frame = frame;
    this.acknowledger = acknowledger;
  }

  /** Headers as a record; [STOMP 1.2: Repeated Header Entries] the first occurrence wins. */
  get headers(): Record<string, string> {
    if (this.headerRecord === undefined) this.headerRecord = firstWins(this.frame.headers);
    return this.headerRecord;
  }

  get body(): Buffer { return this.frame.body; }
  /** The body decoded as UTF-8. */
  get text(): string { return this.frame.body.toString('utf8'); }
  get destination(): string { return header(this.frame, 'destination') ?? ''; }
  get messageId(): string { return header(this.frame, 'message-id') ?? ''; }
  get subscription(): string | undefined { return header(this.frame, 'subscription'); }
  /** What an ACK names: [STOMP 1.2: ACK] the MESSAGE's `ack` header; before 1.2, the message-id. */
  get ackId(): string { return header(this.frame, 'ack') ?? this.messageId; }

  /** Acknowledges this message (and, in `client` mode, every earlier one of its subscription). */
  ack(transaction?: string): void {
    this.acknowledger.acknowledge(this, 'ACK', transaction);
  }

  /** Rejects this message (STOMP 1.1+); ActiveMQ moves it to its dead-letter queue. */
  nack(transaction?: string): void {
    this.acknowledger.acknowledge(this, 'NACK', transaction);
  }
}

/**
 * Headers as a record, [STOMP 1.2: Repeated Header Entries] first occurrence winning. No prototype,
 * so a header called `__proto__` or `constructor` is an ordinary entry.
 */
export function firstWins(headers: HeaderList): Record<string, string> {
  const record = Object.create(null) as Record<string, string>;
  for (const [name, value] of headers) if (!(name in record)) record[name] = value;
  return record;
}
