/**
 * The STOMP frame as every package sees it. Header order is kept (an array of pairs) because
 * [STOMP 1.2: Repeated Header Entries] says the first occurrence wins and the rest must be kept
 * for pass-through; `header()` returns the first.
 */

export type StompVersion = '1.0' | '1.1' | '1.2';

/** Client commands and server commands of STOMP 1.0–1.2, plus ActiveMQ's legacy aliases handled by the broker. */
export const CLIENT_COMMANDS = [
  'CONNECT', 'STOMP', 'SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK',
  'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT',
] as const;
export const SERVER_COMMANDS = ['CONNECTED', 'MESSAGE', 'RECEIPT', 'ERROR'] as const;
export type ClientCommand = (typeof CLIENT_COMMANDS)[number];
export type ServerCommand = (typeof SERVER_COMMANDS)[number];

export type HeaderList = Array<[name: string, value: string]>;

export interface Frame {
  /** The command exactly as received (the decoder does not validate it against a list). */
  command: string;
  /** Headers in wire order, already un-escaped for the frame's version. Repeats kept; first wins. */
  headers: HeaderList;
  /** The body; empty Buffer when there is none. */
  body: Buffer;
}

/** First value of a header, as [STOMP 1.2: Repeated Header Entries] requires. */
export function header(frame: Frame, name: string): string | undefined {
  for (const [k, v] of frame.headers) if (k === name) return v;
  return undefined;
}

/** Builds a frame from a plain object of headers (order = insertion order; undefined values dropped). */
export function frame(command: string, headers: Record<string, string | number | boolean | undefined> = {}, body: Buffer | string = ''): Frame {
  const list: HeaderList = [];
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) list.push([k, String(v)]);
  return { command, headers: list, body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body };
}

/** A heart-beat EOL received between frames; the decoder reports it so readers can reset their timers. */
export interface HeartBeat { readonly command: null }
export const HEART_BEAT: HeartBeat = Object.freeze({ command: null });
