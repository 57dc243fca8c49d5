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
import { StompConnection, type ConnectionSettings } from './connection.js';
import { BrokerError } from './errors.js';
import { TcpTransport, WsTransport, type Transport } from './transport.js';

/** WebSocket sub-protocols STOMP clients offer (stomp.js and others), best first. */
const WS_PROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp', 'stomp'];

export interface ServerSettings extends ConnectionSettings {
  readonly host: string;
  readonly stompPort: number | null;
  readonly wsPort: number | null;
  readonly maximumConnections: number;
}

export class StompServer {
  private tcp: net.Server | null = null;
  private ws: WebSocketServer | null = null;
  private readonly connections = new Set<StompConnection>();
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
      this.wsPort = (httpServer.address() as AddressInfo).port;
    }
  }

  private wsHttp: http.Server | null = null;

  private acceptTcp(socket: net.Socket): void {
    this.acceptTransport(new TcpTransport(socket), 'tcp');
  }

  private acceptTransport(transport: Transport, kind: 'tcp' | 'ws'): void {
    const count = kind === 'tcp' ? this.tcpCount : this.wsCount;
    if (count >= this.settings.maximumConnections) {
      // ActiveMQ closes silently; a client deserves to know why.
      const message = `maximumConnections (${this.settings.maximumConnections}) reached on the ${kind === 'tcp' ? 'STOMP' : 'WebSocket'} connector`;
      transport.write(encodeFrame({ command: 'ERROR', headers: [['message', message], ['content-type', 'text/plain']], body: Buffer.from(message) }, '1.0'));
      transport.end();
      setTimeout(() => transport.destroy(), 2_000).unref();
      this.log.warn({ remote: transport.remoteAddress }, message);
      return;
    }
    if (kind === 'tcp') this.tcpCount++; else this.wsCount++;
    const connection = new StompConnection(this.broker, transport, this.settings, this.log, (c) => {
      this.connections.delete(c);
      if (kind === 'tcp') this.tcpCount--; else this.wsCount--;
    });
    this.connections.add(connection);
  }

  /** Stops accepting, closes every connection (their unacked messages go back to their queues). */
  async close(): Promise<void> {
    const closing: Array<Promise<void>> = [];
    if (this.tcp !== null) closing.push(new Promise((resolve) => this.tcp!.close(() => resolve())));
    if (this.wsHttp !== null) closing.push(new Promise((resolve) => this.wsHttp!.close(() => resolve())));
    for (const c of this.connections) c.shutdown();
    this.ws?.close();
    // Give connections a moment to flush, then drop whatever is left.
    const deadline = Date.now() + 2_000;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
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
