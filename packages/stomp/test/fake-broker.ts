/**
 * A tiny scripted STOMP broker over real TCP or WebSocket for client tests: it decodes with
 * FrameDecoder, answers CONNECT and receipts by default, records every frame, and lets a test take
 * over any frame (to delay receipts, send MESSAGE/ERROR, or stay silent).
 */
import net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeFrame, frame, FrameDecoder, header, type Frame, type StompVersion } from '@mini-amq/stomp';

export interface FakeConnection {
  readonly frames: Frame[];
  /** Bare EOL heart-beats received after CONNECTED. */
  heartBeats: number;
  version: StompVersion;
  /** The WebSocket subprotocol chosen, '' over TCP. */
  readonly protocol: string;
  send(f: Frame): void;
  sendRaw(bytes: Buffer): void;
  pause(): void;
  resume(): void;
  end(): void;
  destroy(): void;
}

export interface FakeBrokerOptions {
  /** The CONNECTED `version` header; null leaves it out (a STOMP 1.0 broker). */
  version?: StompVersion | null;
  /** The CONNECTED `heart-beat` header. */
  heartBeat?: string;
  /** Sees each frame first; return true when it handled the frame (no default answer). */
  onFrame?: (f: Frame, c: FakeConnection) => boolean | void;
  /** Listen on this port (e.g. to bring a stopped broker back where clients look for it); default any. */
  port?: number;
}

export interface FakeBroker {
  readonly port: number;
  readonly connections: FakeConnection[];
  /** Resolves with the first frame (already received or yet to come) that matches. */
  waitForFrame(match: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** Destroys every open connection (a crash as clients see it) and keeps listening. */
  dropConnections(): void;
  close(): Promise<void>;
}

interface Pipe { write(bytes: Buffer): void; pause(): void; resume(): void; end(): void; destroy(): void }

export async function startFakeBroker(kind: 'tcp' | 'ws', options: FakeBrokerOptions = {}): Promise<FakeBroker> {
  const connections: FakeConnection[] = [];
  const waiters = new Set<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }>();
  const notify = (f: Frame): void => {
    for (const w of waiters) if (w.match(f)) { waiters.delete(w); w.resolve(f); }
  };

  const accept = (pipe: Pipe, protocol: string): ((chunk: Buffer) => void) => {
    const decoder = new FrameDecoder();
    const conn: FakeConnection = {
      frames: [], heartBeats: 0, version: '1.0', protocol,
      send: (f) => pipe.write(encodeFrame(f, conn.version)),
      sendRaw: (bytes) => pipe.write(bytes),
      pause: () => pipe.pause(), resume: () => pipe.resume(), end: () => pipe.end(), destroy: () => pipe.destroy(),
    };
    connections.push(conn);
    return (chunk) => {
      decoder.push(chunk);
      for (;;) {
        let item;
        try {
          item = decoder.next();
        } catch (err) {
          // Like the real broker: say what was wrong, then close.
          conn.send(frame('ERROR', { message: (err as Error).message }));
          pipe.end();
          return;
        }
        if (item === null) return;
        if (item.command === null) { conn.heartBeats++; continue; }
        conn.frames.push(item);
        if (options.onFrame?.(item, conn) !== true) answer(item, conn, decoder, options, pipe);
        notify(item);
      }
    };
  };

  if (kind === 'tcp') {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      const onData = accept({
        write: (b) => { if (!socket.destroyed) socket.write(b); },
        pause: () => socket.pause(), resume: () => socket.resume(),
        end: () => socket.end(), destroy: () => socket.destroy(),
      }, '');
      socket.on('data', onData);
    });
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    const sockets = new Set<net.Socket>();
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    const drop = (): void => { for (const s of sockets) s.destroy(); };
    return broker((server.address() as net.AddressInfo).port, drop, async () => {
      drop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  }

  const wss = new WebSocketServer({ port: options.port ?? 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => {});
    const onData = accept({
      write: (b) => { if (ws.readyState === ws.OPEN) ws.send(b); },
      pause: () => ws.pause(), resume: () => ws.resume(),
      end: () => ws.close(1000), destroy: () => ws.terminate(),
    }, ws.protocol);
    ws.on('message', (data) => onData(data as Buffer));
  });
  const dropWs = (): void => { for (const ws of wss.clients) ws.terminate(); };
  return broker((wss.address() as net.AddressInfo).port, dropWs, async () => {
    dropWs();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  function broker(port: number, dropConnections: () => void, close: () => Promise<void>): FakeBroker {
    return {
      port,
      connections,
      dropConnections,
      close,
      waitForFrame(match, timeoutMs = 5_000) {
        for (const c of connections) for (const f of c.frames) if (match(f)) return Promise.resolve(f);
        return new Promise((resolve, reject) => {
          const w = { match, resolve: (f: Frame) => { clearTimeout(timer); resolve(f); } };
          const timer = setTimeout(() => { waiters.delete(w); reject(new Error('fake broker: no matching frame')); }, timeoutMs);
          waiters.add(w);
        });
      },
    };
  }
}

/** The default behaviour: CONNECTED for CONNECT, RECEIPT for any receipt, close after DISCONNECT. */
function answer(f: Frame, conn: FakeConnection, decoder: FrameDecoder, options: FakeBrokerOptions, pipe: Pipe): void {
  if (f.command === 'CONNECT' || f.command === 'STOMP') {
    const version = options.version === undefined ? '1.2' : options.version;
    conn.send(frame('CONNECTED', {
      version: version ?? undefined,
      server: 'fake-broker/1.0',
      session: 'session-1',
      'heart-beat': options.heartBeat ?? '0,0',
    }));
    conn.version = version ?? '1.0';
    decoder.version = conn.version;
    return;
  }
  const receipt = header(f, 'receipt');
  if (receipt !== undefined) conn.send(frame('RECEIPT', { 'receipt-id': receipt }));
  if (f.command === 'DISCONNECT') pipe.end();
}

/** A loopback port that was free a moment ago: for a server that must come back on the same port. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
