/**
 * One byte pipe to a client, whatever carries it. The STOMP connection only sees this interface, so
 * TCP, WebSocket and an in-memory pair behave the same to it (STYLE.md §4).
 */
import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import { TurnBatchedWriter } from '@mini-amq/stomp';
import type { WebSocket } from 'ws';

/** Bytes queued towards one peer before we stop dispatching to it and wait for 'drain'. */
export const TRANSPORT_WRITE_BUFFER_BYTES_MAX = 1024 * 1024;

export interface Transport {
  readonly kind: 'tcp' | 'ws';
  readonly remoteAddress: string;
  /** Queues bytes for the peer. Returns `writable` afterwards. */
  write(bytes: Buffer): boolean;
  /** False while more than TRANSPORT_WRITE_BUFFER_BYTES_MAX bytes wait for the peer. */
  readonly writable: boolean;
  /** Stop reading from the peer (producer flow control); `resume` undoes it. */
  pause(): void;
  resume(): void;
  /** Flush what is queued, then close. */
  end(): void;
  /** Close now, dropping what is queued. */
  destroy(): void;
  onData(listener: (chunk: Buffer) => void): void;
  onDrain(listener: () => void): void;
  onClose(listener: () => void): void;
}

/** TCP: writes made in one event-loop turn leave in one syscall (cork until the next tick). */
export class TcpTransport implements Transport {
  readonly kind = 'tcp' as const;
  readonly remoteAddress: string;
  private ended = false;
  private readonly writer: TurnBatchedWriter;

  constructor(private readonly socket: Socket) {
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    this.writer = new TurnBatchedWriter(socket);
    // Errors (ECONNRESET and the like) end in 'close'; the connection handles that.
    socket.on('error', () => {});
  }

  get writable(): boolean {
    return !this.socket.destroyed && this.socket.writableLength < TRANSPORT_WRITE_BUFFER_BYTES_MAX;
  }

  /** Bytes queued for the peer that the kernel has not taken yet. */
  get bufferedBytes(): number { return this.socket.writableLength; }
  /** Bytes ever written towards the peer (queued or sent). */
  get bytesWritten(): number { return this.socket.bytesWritten; }

  write(bytes: Buffer): boolean {
    return this.writer.write(bytes) && this.writable;
  }

  pause(): void { this.socket.pause(); }
  resume(): void { this.socket.resume(); }
  end(): void {
    this.ended = true;
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void { this.socket.destroy(); }
  /** Bytes that arrive after `end` are dropped: nothing will read them, so nothing should buffer them. */
  onData(listener: (chunk: Buffer) => void): void {
    this.socket.on('data', (chunk: Buffer) => { if (!this.ended) listener(chunk); });
  }
  onDrain(listener: () => void): void { this.socket.on('drain', listener); }
  onClose(listener: () => void): void { this.socket.on('close', listener); }
}

/**
 * WebSocket: one STOMP frame per WebSocket message. We answer in the kind of message the client uses
 * (text or binary), since browser STOMP libraries differ in which they accept, except that a frame
 * which is not valid UTF-8 (a binary body) always goes as a binary message: [RFC 6455 §8.1] a text
 * message must be UTF-8, and a client receiving one that is not fails the connection (close 1007).
 */
export class WsTransport implements Transport {
  readonly kind = 'ws' as const;
  readonly remoteAddress: string;
  private replyBinary = false;
  private readonly drainListeners: Array<() => void> = [];
  private waitingForDrain = false;
  private ended = false;
  private written = 0;

  constructor(private readonly ws: WebSocket, remoteAddress: string) {
    this.remoteAddress = remoteAddress;
    ws.on('error', () => {});
  }

  get writable(): boolean {
    return this.ws.readyState === this.ws.OPEN && this.ws.bufferedAmount < TRANSPORT_WRITE_BUFFER_BYTES_MAX;
  }

  get bufferedBytes(): number { return this.ws.bufferedAmount; }
  /** Bytes of STOMP frames ever written towards the peer. */
  get bytesWritten(): number { return this.written; }

  write(bytes: Buffer): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    this.written += bytes.length;
    this.ws.send(bytes, { binary: this.replyBinary || !isUtf8(bytes) }, this.checkDrain);
    const writable = this.writable;
    if (!writable) this.waitingForDrain = true;
    return writable;
  }

  /** A send's callback (shared, so sending allocates no closure): reports drain once back under the limit. */
  private readonly checkDrain = (): void => {
    if (this.waitingForDrain && this.writable) {
      this.waitingForDrain = false;
      for (const l of this.drainListeners) l();
    }
  };

  pause(): void { this.ws.pause(); }
  resume(): void { this.ws.resume(); }

  /**
   * Starts the closing handshake. Reading resumes first: the connection pauses us after DISCONNECT,
   * and a paused socket never reads the client's Close frame, so the close would wait for the
   * connection's destroy timer (seconds) instead of completing in a round trip.
   */
  end(): void {
    this.ended = true;
    this.ws.resume();
    this.ws.close(1000);
  }

  destroy(): void { this.ws.terminate(); }
  /** Messages that arrive after `end` are dropped, as over TCP. */
  onData(listener: (chunk: Buffer) => void): void {
    this.ws.on('message', (data, isBinary) => {
      if (this.ended) return;
      this.replyBinary = isBinary;
      if (Buffer.isBuffer(data)) listener(data);
      else if (Array.isArray(data)) listener(Buffer.concat(data));
      else listener(Buffer.from(data));
    });
  }
  onDrain(listener: () => void): void { this.drainListeners.push(listener); }
  onClose(listener: () => void): void { this.ws.on('close', listener); }
}
