/**
 * The listeners: STOMP over TCP and over WebSocket, each with ActiveMQ's `maximumConnections`.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { encodeFrame } from '@mini-amq/stomp';
import type { Broker } from './broker.js';
import { CONNECT_TIMEOUT_MS, StompConnection, type ConnectionSettings } from './connection.js';
import { BrokerError, badFrame } from './errors.js';
import { TcpTransport, WsTransport } from './transport.js';

/** WebSocket sub-protocols STOMP clients offer (stomp.js and others), best first. */
const WS_PROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp', 'stomp'];
/** On close, how long connections get to flush what is queued for their peers before they are dropped. */
export const CLOSE_FLUSH_MS = 2_000;

export interface ServerSettings extends ConnectionSettings {
  readonly host: string;
  readonly stompPort: number | null;
  readonly wsPort: number | null;
  readonly maximumConnections: number;
  /**
   * Time a client has from opening its socket to the broker's answer to its CONNECT; a socket that
   * stays silent longer gets an ERROR and is closed. Default (and at most, since the connection applies
   * its own limit too) CONNECT_TIMEOUT_MS.
   */
  readonly connectTimeoutMs?: number;
}

/** One open client connection as `StompServer.connectionsInfo()` reports it. */
export interface ConnectionInfo {
  readonly id: string;
  readonly kind: 'tcp' | 'ws';
  readonly remoteAddress: string;
  /** Bytes written for the peer and not yet taken by the operating system (at most about TRANSPORT_WRITE_BUFFER_BYTES_MAX plus one frame). */
  readonly bufferedBytes: number;
  /** False while the broker waits for the peer to read before dispatching more to it. */
  readonly writable: boolean;
}

export class StompServer {
  private tcp: net.Server | null = null;
  private ws: WebSocketServer | null = null;
  private readonly connections = new Map<StompConnection, TcpTransport | WsTransport>();
  private tcpCount = 0;
  private wsCount = 0;
  stompPort: number | null = null;
  wsPort: number | null = null;

  constructor(private readonly broker: Broker, private readonly settings: ServerSettings, private readonly log: Logger) {}

  get connectionCount(): number { return this.connections.size; }

  async listen(): Promise<void> {
    const { host, stompPort, wsPort } = this.settings;
    if (stompPort !== null) {
      const server = net.createServer((socket) => this.acceptTcp(socket));
      this.tcp = server;
      await listenOn(server, host, stompPort, 'STOMP');
      // After listening, an 'error' (EMFILE on accept, ...) must be logged, not crash the broker.
      server.on('error', (err) => this.log.error({ err }, 'STOMP listener error'));
      this.stompPort = (server.address() as AddressInfo).port;
    }
    if (wsPort !== null) {
      const httpServer = http.createServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('This port speaks STOMP over WebSocket.\n');
      });
      const wss = new WebSocketServer({
        noServer: true, maxPayload: this.settings.maxFrameSize,
        handleProtocols: (offered) => WS_PROTOCOLS.find((p) => offered.has(p)) ?? false,
      });
      httpServer.on('upgrade', (req, socket, head) => {
        wss.handleUpgrade(req, socket, head, (client) => {
          const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
          this.acceptTransport(new WsTransport(client, remote), 'ws');
        });
      });
      this.ws = wss;
      this.wsHttp = httpServer;
      await listenOn(httpServer, host, wsPort, 'WebSocket');
      httpServer.on('error', (err) => this.log.error({ err }, 'WebSocket listener error'));
      this.wsPort = (httpServer.address() as AddressInfo).port;
    }
  }

  private wsHttp: http.Server | null = null;

  private acceptTcp(socket: net.Socket): void {
    this.acceptTransport(new TcpTransport(socket), 'tcp');
  }

  private acceptTransport(transport: TcpTransport | WsTransport, kind: 'tcp' | 'ws'): void {
    const count = kind === 'tcp' ? this.tcpCount : this.wsCount;
    if (count >= this.settings.maximumConnections) {
      // ActiveMQ closes silently; a client deserves to know why.
      const message = `maximumConnections (${this.settings.maximumConnections}) reached on the ${kind === 'tcp' ? 'STOMP' : 'WebSocket'} connector`;
      transport.write(encodeFrame({ command: 'ERROR', headers: [['message', message], ['content-type', 'text/plain']], body: Buffer.from(message) }, '1.0'));
      transport.resume(); // read on, so the peer's close is seen and the socket is released at once
      transport.end();
      setTimeout(() => transport.destroy(), 2_000).unref();
      this.log.warn({ remote: transport.remoteAddress }, message);
      return;
    }
    if (kind === 'tcp') this.tcpCount++; else this.wsCount++;
    let connectTimer: NodeJS.Timeout | null = null;
    const connection = new StompConnection(this.broker, transport, this.settings, this.log, (c) => {
      if (connectTimer !== null) clearTimeout(connectTimer);
      this.connections.delete(c);
      if (kind === 'tcp') this.tcpCount--; else this.wsCount--;
    });
    this.connections.set(connection, transport);
    const connectTimeoutMs = this.settings.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    if (connectTimeoutMs < CONNECT_TIMEOUT_MS) {
      // The broker writes nothing before it answers CONNECT (CONNECTED or ERROR): silence means no CONNECT yet.
      connectTimer = setTimeout(() => {
        connectTimer = null;
        if (transport.bytesWritten === 0) connection.fail(badFrame(`no CONNECT frame within ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      connectTimer.unref();
    }
  }

  /** The open connections, for status pages and tests. */
  connectionsInfo(): ConnectionInfo[] {
    return [...this.connections].map(([c, t]) => ({
      id: c.id, kind: t.kind, remoteAddress: t.remoteAddress, bufferedBytes: t.bufferedBytes, writable: t.writable,
    }));
  }

  /** Stops accepting, closes every connection (their unacked messages go back to their queues). */
  async close(): Promise<void> {
    const closing: Array<Promise<void>> = [];
    if (this.tcp !== null) closing.push(new Promise((resolve) => this.tcp!.close(() => resolve())));
    if (this.wsHttp !== null) closing.push(new Promise((resolve) => this.wsHttp!.close(() => resolve())));
    for (const c of this.connections.keys()) c.shutdown();
    this.ws?.close();
    // Give connections a moment to flush, then drop whatever is left: a peer that does not read must not
    // hold the listeners (net.Server.close waits for every socket) until the connection's own timer.
    const deadline = Date.now() + CLOSE_FLUSH_MS;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const t of this.connections.values()) t.destroy();
    this.wsHttp?.closeAllConnections();
    await Promise.all(closing);
  }
}

function listenOn(server: net.Server, host: string, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') {
        reject(new BrokerError('BROKER_PORT_IN_USE', `port ${port} (${what}) is already in use: stop the other broker or choose another port`, { cause: err }));
      } else {
        reject(new BrokerError('BROKER_PORT_IN_USE', `cannot listen for ${what} on ${host}:${port}: ${err.message}`, { cause: err }));
      }
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
