/**
 * The client's byte pipe to a broker, over TCP (node:net) or WebSocket (ws). StompClient sees only
 * this interface; STOMP framing stays in the decoder, so a WebSocket message may carry part of a
 * frame or several frames.
 */
import net from 'node:net';
import { WebSocket } from 'ws';
import { formatBrokerUri, type BrokerUri } from './uri.js';

/** Bytes queued towards the broker before `write` returns false and callers should wait for drain. */
export const CLIENT_WRITE_BUFFER_BYTES_MAX = 1024 * 1024;

/** STOMP-over-WebSocket subprotocols, newest first; ws servers pick the first they accept. */
export const STOMP_WS_PROTOCOLS: readonly string[] = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

/** What the transport reports; `close` comes exactly once, with the error that caused it if any. */
/**
 * Writes made in one event-loop turn leave in one syscall: the socket is corked at the first write of a
 * turn and uncorked on the next tick. Shared by the client's and the broker's TCP transports.
 */
export class TurnBatchedWriter {
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  constructor(private readonly socket: net.Socket) {}

  /** False when the socket is already closed or ending (nothing was written). */
  write(bytes: Buffer): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(bytes);
    return true;
  }
}

export interface TransportEvents {
  data(chunk: Buffer): void;
  drain(): void;
  close(error: Error | null): void;
}

/** One connection to one broker. */
export interface ClientTransport {
  /** Resolves when bytes can be written; rejects when the connection could not be made. */
  readonly opened: Promise<void>;
  /** False while more than CLIENT_WRITE_BUFFER_BYTES_MAX bytes wait to be sent. */
  readonly writable: boolean;
  /** Queues bytes; returns `writable` afterwards. */
  write(bytes: Buffer): boolean;
  /** Flushes what is queued, then closes. */
  end(): void;
  /** Closes now, dropping what is queued. */
  destroy(): void;
}

/** Opens a transport for `uri`; events start flowing once `opened` resolves. */
export function openTransport(uri: BrokerUri, events: TransportEvents, options: { noDelay: boolean }): ClientTransport {
  return uri.scheme === 'ws' ? new WsClientTransport(uri, events) : new TcpClientTransport(uri, events, options.noDelay);
}

/**
 * TCP: writes made in one event-loop turn leave in one syscall (TurnBatchedWriter). The
 * socket's own high-water mark (16 KiB) is too low for a pipelining producer, so `writable` uses
 * CLIENT_WRITE_BUFFER_BYTES_MAX; the socket's 'drain' (it always reports one once it empties after
 * crossing its own mark) is passed on only when we reported the buffer full.
 */
class TcpClientTransport implements ClientTransport {
  readonly opened: Promise<void>;
  private readonly socket: net.Socket;
  private readonly writer: TurnBatchedWriter;
  private waitingForDrain = false;

  constructor(uri: BrokerUri, events: TransportEvents, noDelay: boolean) {
    const socket = net.connect({ host: uri.host, port: uri.port, noDelay });
    this.socket = socket;
    this.writer = new TurnBatchedWriter(socket);
    let error: Error | null = null;
    socket.on('error', (err) => { error = err; });
    socket.on('data', events.data);
    socket.on('drain', () => {
      if (!this.waitingForDrain) return;
      this.waitingForDrain = false;
      events.drain();
    });
    socket.on('close', () => events.close(error));
    this.opened = new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('close', () => reject(error ?? new Error('connection closed while connecting')));
    });
    this.opened.catch(() => {}); // reported through events.close as well
  }

  get writable(): boolean {
    return !this.socket.destroyed && this.socket.writableLength < CLIENT_WRITE_BUFFER_BYTES_MAX;
  }

  write(bytes: Buffer): boolean {
    if (!this.writer.write(bytes)) return false;
    const writable = this.writable;
    if (!writable) this.waitingForDrain = true;
    return writable;
  }

  end(): void { this.socket.end(); }
  destroy(): void { this.socket.destroy(); }
}

/**
 * WebSocket: one binary message per write. ws has no 'drain', so every send carries a callback that
 * reports drain once the buffer is back under the limit after a write found it over.
 */
class WsClientTransport implements ClientTransport {
  readonly opened: Promise<void>;
  private readonly ws: WebSocket;
  private waitingForDrain = false;
  private readonly checkDrain = (): void => {
    if (this.waitingForDrain && this.writable) {
      this.waitingForDrain = false;
      this.events.drain();
    }
  };

  constructor(uri: BrokerUri, private readonly events: TransportEvents) {
    const ws = new WebSocket(formatBrokerUri(uri), [...STOMP_WS_PROTOCOLS], { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    this.ws = ws;
    let error: Error | null = null;
    ws.on('error', (err) => { error = err; });
    ws.on('message', (data) => events.data(toBuffer(data)));
    ws.on('close', () => events.close(error));
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('close', () => reject(error ?? new Error('connection closed while connecting')));
    });
    this.opened.catch(() => {});
  }

  get writable(): boolean {
    return this.ws.readyState === WebSocket.OPEN && this.ws.bufferedAmount < CLIENT_WRITE_BUFFER_BYTES_MAX;
  }

  write(bytes: Buffer): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    // Each send's callback fires once it (and everything before it) is flushed; a shared function, so cheap.
    this.ws.send(bytes, { binary: true }, this.checkDrain);
    const writable = this.writable;
    if (!writable) this.waitingForDrain = true;
    return writable;
  }

  end(): void { this.ws.close(1000); }
  destroy(): void { this.ws.terminate(); }
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
