/**
 * One byte pipe to a client, whatever carries it. The STOMP connection only sees this interface, so
 * TCP, WebSocket and an in-memory pair behave the same to it (STYLE.md §4).
 */
import type { Socket } from 'node:net';
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
  private corked = false;
  private readonly uncork = (): void => { this.corked = false; this.socket.uncork(); };

  constructor(private readonly socket: Socket) {
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    // Errors (ECONNRESET and the like) end in 'close'; the connection handles that.
    socket.on('error', () => {});
  }

  get writable(): boolean {
    return !this.socket.destroyed && this.socket.writableLength < TRANSPORT_WRITE_BUFFER_BYTES_MAX;
  }

  write(bytes: Buffer): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(bytes);
    return this.writable;
  }

  pause(): void { this.socket.pause(); }
  resume(): void { this.socket.resume(); }
  end(): void { if (!this.socket.destroyed) this.socket.end(); }
  destroy(): void { this.socket.destroy(); }
  onData(listener: (chunk: Buffer) => void): void { this.socket.on('data', listener); }
  onDrain(listener: () => void): void { this.socket.on('drain', listener); }
  onClose(listener: () => void): void { this.socket.on('close', listener); }
}

/**
 * WebSocket: one STOMP frame per WebSocket message. We answer in the kind of message the client uses
 * (text or binary), since browser STOMP libraries differ in which they accept.
 */
export class WsTransport implements Transport {
  readonly kind = 'ws' as const;
  readonly remoteAddress: string;
  private replyBinary = false;
  private readonly drainListeners: Array<() => void> = [];
  private waitingForDrain = false;

  constructor(private readonly ws: WebSocket, remoteAddress: string) {
    this.remoteAddress = remoteAddress;
    ws.on('error', () => {});
  }

  get writable(): boolean {
    return this.ws.readyState === this.ws.OPEN && this.ws.bufferedAmount < TRANSPORT_WRITE_BUFFER_BYTES_MAX;
  }

  write(bytes: Buffer): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    this.ws.send(bytes, { binary: this.replyBinary }, () => this.checkDrain());
    const writable = this.writable;
    if (!writable) this.waitingForDrain = true;
    return writable;
  }

  private checkDrain(): void {
    if (this.waitingForDrain && this.writable) {
      this.waitingForDrain = false;
      for (const l of this.drainListeners) l();
    }
  }

  pause(): void { this.ws.pause(); }
  resume(): void { this.ws.resume(); }
  end(): void { this.ws.close(1000); }
  destroy(): void { this.ws.terminate(); }
  onData(listener: (chunk: Buffer) => void): void {
    this.ws.on('message', (data, isBinary) => {
      this.replyBinary = isBinary;
      if (Buffer.isBuffer(data)) listener(data);
      else if (Array.isArray(data)) listener(Buffer.concat(data));
      else listener(Buffer.from(data));
    });
  }
  onDrain(listener: () => void): void { this.drainListeners.push(listener); }
  onClose(listener: () => void): void { this.ws.on('close', listener); }
}
