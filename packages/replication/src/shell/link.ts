/**
 * The replication transport: TCP connections between a master and its slaves, carrying the core's
 * PeerMessage values as frames (framing.ts). An IO shell piece (STYLE.md §1): it decides nothing about
 * replication, it only authenticates, frames, bounds and reports.
 *
 * - `ReplicationServer` is the master's listener on `bind` ([ActiveMQ replicatedLevelDB: bind], e.g.
 *   `tcp://0.0.0.0:61619`; port 0 picks a free one, which `port` then tells).
 * - `ReplicationLink` is one end of one connection: the slave's, from `ReplicationLink.connect`, or the
 *   master's, handed out by the server once the slave has logged in.
 *
 * Handshake. The dialer's first frame is a LinkLogin {type: 'LOGIN', nodeId, securityToken, epoch?}. It
 * names the dialer (TCP does not) and proves it knows the group's secret before any of its bytes reach
 * the core; a wrong token is answered with REJECT {reason: 'Invalid security_token'} (ActiveMQ's words)
 * and the connection closes. The handshake is the link's own: the core's LOGIN and SYNC that follow are
 * ordinary messages, so the core checks the token again, as it must in the simulation where no link exists.
 *
 * No reconnect policy lives here: a closed link is reported once (`closed`) and stays closed; the shell
 * dials again when ZooKeeper and its ticks say so, and the core's retries (LOGIN/SYNC after silence)
 * cover whatever the dead connection lost.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import net, { type Socket } from 'node:net';
import type { NodeId, PeerMessage, RejectMessage } from '../core/types.js';
import { ReplShellError, type ReplShellErrorCode } from './errors.js';
import { encodeFrame, encodePeerMessage, FrameDecoder, REPL_FRAME_BYTES_MAX } from './framing.js';

const MiB = 1024 * 1024;

/**
 * Bytes a link may hold unsent: 256 MiB, two maximal frames, so one largest entry always fits behind
 * another. Past it the link is closed and reported: a slave that cannot keep up must resync (from the log
 * tail or a snapshot) rather than grow the master's memory without bound.
 */
export const REPL_LINK_OUTBOUND_BYTES_MAX = 2 * REPL_FRAME_BYTES_MAX;

/**
 * A dial that has not connected within 2 s is abandoned: the default zkSessionTimeout, after which
 * ZooKeeper may already name another master for the shell to dial (a partition drops SYNs silently).
 */
export const REPL_CONNECT_TIMEOUT_MS = 2_000;

/**
 * A snapshot's chunks are written while the socket holds less than 16 MiB unsent: enough to keep loopback
 * or a LAN busy, far below the link's bound, so a snapshot of any size streams out at the reader's pace.
 */
export const REPL_BULK_HIGH_WATER_BYTES = 16 * MiB;

/** An accepted connection that has not logged in within 2 s is closed: a stray client holds no socket. */
export const REPL_LOGIN_TIMEOUT_MS = 2_000;

/** [ActiveMQ replicatedLevelDB: securityToken] the master's answer to a wrong token. */
export const INVALID_SECURITY_TOKEN = 'Invalid security_token';

/** The first frame a dialer sends: who it is and the group's shared secret. */
export interface LinkLogin {
  readonly type: 'LOGIN';
  readonly nodeId: NodeId;
  readonly securityToken: string;
  /** The dialer's highest known epoch, for the listener's logs. */
  readonly epoch?: number;
}

/** A `tcp://host:port` address, parsed. */
export interface TcpAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses a `bind` or member address: `tcp://host:port` (IPv6 hosts in brackets), nothing else.
 * REPL_BAD_URI names what was wrong.
 */
export function parseTcpUri(uri: string, setting = 'bind'): TcpAddress {
  const bad = (why: string): never => {
    throw new ReplShellError('REPL_BAD_URI', `${setting} must be tcp://host:port (${why}), got ${JSON.stringify(uri)}`);
  };
  const m = /^([a-z][a-z0-9+.-]*):\/\/(\[[0-9a-fA-F:.]+\]|[^\s:/?#@[\]]+):(\d{1,5})\/?$/.exec(uri);
  if (m === null) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
    return bad(scheme !== undefined && scheme.toLowerCase() !== 'tcp' ? `unsupported scheme ${scheme}` : 'malformed');
  }
  if (m[1] !== 'tcp') bad(`unsupported scheme ${m[1]}`);
  const port = Number(m[3]);
  if (port > 65_535) bad('port out of range');
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  return { host, port };
}

/** Events of one link; see ReplicationLink. */
export interface ReplicationLinkEvents {
  /** A peer message arrived from `from`, already checked to be one. */
  message: [from: NodeId, message: PeerMessage];
  /** The connection ended; emitted once. `error.code` says why (REPL_LINK_CLOSED when nothing went wrong). */
  closed: [peer: NodeId | null, reason: string, error: ReplShellError];
}

const PEER_TYPES: ReadonlySet<string> = new Set([
  'LOGIN', 'SYNC', 'APPEND', 'ACK', 'TRUNCATE', 'SNAPSHOT_START', 'SNAPSHOT_CHUNK', 'SNAPSHOT_END', 'REJECT',
]);

/**
 * Checks a decoded frame's envelope: an object with a known `type` and an integer `epoch`. Deeper checks
 * are not the link's: a peer got here by presenting the group's token, so it runs this code; what this
 * catches is a stray client or a version mismatch, before the core trips over it.
 */
function asPeerMessage(value: unknown): PeerMessage | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as { type?: unknown; epoch?: unknown };
  if (typeof v.type !== 'string' || !PEER_TYPES.has(v.type) || !Number.isSafeInteger(v.epoch)) return null;
  return value as PeerMessage;
}

function asLogin(value: unknown): LinkLogin | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Partial<Record<keyof LinkLogin, unknown>>;
  if (v.type !== 'LOGIN' || typeof v.nodeId !== 'string' || v.nodeId === '' || typeof v.securityToken !== 'string') return null;
  if (v.epoch !== undefined && !Number.isSafeInteger(v.epoch)) return null;
  return value as LinkLogin;
}

/** Compares secrets in constant time (digests first, so a length difference leaks nothing either). */
function sameToken(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** What the server checks a LinkLogin against, and answers with. */
interface LoginGate {
  readonly securityToken: string;
  readonly epoch: () => number;
  readonly timeoutMs: number;
  readonly accepted: (link: ReplicationLink, login: LinkLogin) => void;
}

/** Settings of one link; defaults are the named constants above. */
export interface LinkOptions {
  readonly outboundBytesMax?: number;
}

/** What a slave needs to dial its master. */
export interface DialOptions extends LinkOptions {
  /** The master's replication address (its member record's `address`), `tcp://host:port`. */
  readonly address: string;
  /** The node expected at `address`: messages from this link are reported as from it. */
  readonly peer: NodeId;
  /** This node's id, sent in the LinkLogin. */
  readonly nodeId: NodeId;
  readonly securityToken: string;
  readonly epoch?: number;
  readonly connectTimeoutMs?: number;
}

/** One end of one replication connection; see the file comment. */
export class ReplicationLink extends EventEmitter<ReplicationLinkEvents> {
  /** The node at the other end; null on the master's side until it has logged in. */
  peer: NodeId | null;
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly outboundBytesMax: number;
  private gate: LoginGate | null;
  private loginTimer: NodeJS.Timeout | null = null;
  /** Why the link is ending, once it is: the first reason wins. */
  private ending: ReplShellError | null = null;
  private ended = false;
  /** The socket is corked until the end of this turn (see send). */
  private corked = false;
  /** Messages waiting for the socket to drain (sendBulk); entries before bulkNext are sent. */
  private readonly bulk: PeerMessage[] = [];
  private bulkNext = 0;

  /** @internal Links come from `connect` or from a ReplicationServer. */
  constructor(socket: Socket, peer: NodeId | null, gate: LoginGate | null, options: LinkOptions = {}) {
    super();
    this.socket = socket;
    this.peer = peer;
    this.gate = gate;
    this.outboundBytesMax = options.outboundBytesMax ?? REPL_LINK_OUTBOUND_BYTES_MAX;
    // Replication is request/response-shaped (APPEND → ACK): Nagle's delay would sit on every write's
    // completion in the remote/quorum sync modes.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.end('REPL_LINK_CLOSED', `connection error: ${err.message}`, err));
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.pumpBulk());
    if (gate !== null) {
      this.loginTimer = setTimeout(
        () => this.fail(new ReplShellError('REPL_LOGIN_REJECTED', `no LOGIN within ${gate.timeoutMs} ms`)),
        gate.timeoutMs,
      );
      this.loginTimer.unref();
    }
  }

  /**
   * Dials a master and logs in. Resolves once connected and the LinkLogin is written; a wrong token shows
   * up afterwards as a REJECT message and a `closed` event. REPL_BAD_URI, or REPL_CONNECT_FAILED (with
   * the socket error as cause, or on timeout).
   */
  static connect(options: DialOptions): Promise<ReplicationLink> {
    const timeoutMs = options.connectTimeoutMs ?? REPL_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      // Parsed in here so that a bad address rejects like any other failed dial.
      const { host, port } = parseTcpUri(options.address, 'address');
      const socket = net.connect({ host, port });
      const failed = (err: unknown, why: string): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new ReplShellError('REPL_CONNECT_FAILED', `cannot reach ${options.peer} at ${options.address}: ${why}`, { cause: err }));
      };
      const onError = (err: Error): void => failed(err, err.message);
      const timer = setTimeout(() => failed(undefined, `no connection within ${timeoutMs} ms`), timeoutMs);
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        const link = new ReplicationLink(socket, options.peer, null, options);
        const login: LinkLogin = {
          type: 'LOGIN',
          nodeId: options.nodeId,
          securityToken: options.securityToken,
          ...(options.epoch === undefined ? {} : { epoch: options.epoch }),
        };
        socket.write(encodeFrame(login));
        resolve(link);
      });
    });
  }

  /** True once the link is closing or closed: `send` does nothing any more. */
  get isClosed(): boolean {
    return this.ending !== null || this.ended;
  }

  /** Bytes written to this link and not yet handed to the kernel. */
  get outboundBytes(): number {
    return this.socket.writableLength;
  }

  /** `host:port` of the other end, for logs. */
  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  /**
   * Queues `message` for the peer (an APPEND too large for one frame goes as several). Returns false when
   * the link is closed, or when the message would take the queue past its bound: the link is then closed
   * (REPL_LINK_OVERFLOW) and reported. Throws REPL_FRAME_TOO_LARGE for a message that cannot be framed.
   */
  send(message: PeerMessage): boolean {
    if (this.isClosed || this.gate !== null) return false;
    const frames = encodePeerMessage(message);
    let bytes = 0;
    for (const f of frames) bytes += f.length;
    if (this.socket.writableLength + bytes > this.outboundBytesMax) {
      this.fail(new ReplShellError(
        'REPL_LINK_OVERFLOW',
        `outbound queue to ${this.peer ?? this.remote} would exceed ${this.outboundBytesMax} bytes: it is not keeping up and must resync`,
      ));
      return false;
    }
    // Frames written in one turn leave in one write: a master answers many ACKs, and a slave many APPENDs,
    // per turn, and a syscall per frame cost more than the frames.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    for (const f of frames) this.socket.write(f);
    return true;
  }

  /**
   * Queues a message that may be one of very many at once (a snapshot's chunks): it is written once the
   * socket's buffer is below REPL_BULK_HIGH_WATER_BYTES, so a snapshot far larger than the link's bound
   * streams out as the peer reads it instead of overflowing the link. Bulk messages keep their order among
   * themselves; ordinary ones may overtake them (a master sends a slave nothing else during its snapshot).
   */
  sendBulk(message: PeerMessage): boolean {
    if (this.isClosed || this.gate !== null) return false;
    this.bulk.push(message);
    this.pumpBulk();
    return true;
  }

  private pumpBulk(): void {
    // Half the bound at most, so that a bulk frame never pushes the link over it.
    const highWater = Math.min(REPL_BULK_HIGH_WATER_BYTES, this.outboundBytesMax / 2);
    while (this.bulkNext < this.bulk.length && !this.isClosed && this.socket.writableLength < highWater) {
      const message = this.bulk[this.bulkNext]!;
      this.bulk[this.bulkNext++] = undefined!;
      if (!this.send(message)) return;
    }
    if (this.bulkNext === this.bulk.length) {
      this.bulk.length = 0;
      this.bulkNext = 0;
    }
  }

  /** Closes the connection at once (unsent frames are dropped) and reports `closed` with `reason`. */
  close(reason = 'closed locally'): void {
    this.end('REPL_LINK_CLOSED', reason);
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    this.decoder.push(chunk);
    for (;;) {
      // A listener may have closed the link, or the LOGIN was refused: stop delivering.
      if (this.isClosed) return;
      let frame;
      try {
        frame = this.decoder.next();
      } catch (err) {
        this.fail(err as ReplShellError);
        return;
      }
      if (frame === null) return;
      if (this.gate !== null) {
        this.onLogin(this.gate, frame.value);
        continue;
      }
      const message = asPeerMessage(frame.value);
      if (message === null) {
        this.fail(new ReplShellError('REPL_BAD_FRAME', 'frame is not a peer message'));
        return;
      }
      this.emit('message', this.peer!, message);
    }
  }

  private onLogin(gate: LoginGate, value: unknown): void {
    const login = asLogin(value);
    const reason = login === null ? 'expected LOGIN first' : sameToken(login.securityToken, gate.securityToken) ? null : INVALID_SECURITY_TOKEN;
    if (this.loginTimer !== null) clearTimeout(this.loginTimer);
    this.loginTimer = null;
    if (reason !== null) {
      const error = new ReplShellError('REPL_LOGIN_REJECTED', `login from ${this.remote} refused: ${reason}`);
      const reject: RejectMessage = { type: 'REJECT', epoch: gate.epoch(), reason };
      this.ending = error;
      // Half-close after the REJECT so the dialer reads why; the dialer's socket closes its side in turn
      // (allowHalfOpen is off), and a peer that does not is cut off after the login timeout.
      this.socket.end(encodeFrame(reject));
      setTimeout(() => this.socket.destroy(), gate.timeoutMs).unref();
      return;
    }
    this.gate = null;
    this.peer = login!.nodeId;
    gate.accepted(this, login!);
  }

  private fail(error: ReplShellError): void {
    this.end(error.code, error.message, error.cause, error);
  }

  private end(code: ReplShellErrorCode, reason: string, cause?: unknown, error?: ReplShellError): void {
    if (this.ended) return;
    this.ending ??= error ?? new ReplShellError(code, reason, { cause });
    this.socket.destroy();
  }

  private onClose(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.loginTimer !== null) clearTimeout(this.loginTimer);
    const error = this.ending ?? new ReplShellError('REPL_LINK_CLOSED', 'connection closed by peer');
    this.ending = error;
    this.emit('closed', this.peer, error.message, error);
  }
}

/** Events of a ReplicationServer: its links' events, forwarded, plus who logged in and who was refused. */
export interface ReplicationServerEvents extends ReplicationLinkEvents {
  /** A slave logged in; its messages follow as `message` events (also on the link itself). */
  link: [link: ReplicationLink, login: LinkLogin];
  /** A connection was refused (bad token, no LOGIN, garbage): for the log; it is closed. */
  refused: [remote: string, error: ReplShellError];
}

/** Settings of a master's replication listener. */
export interface ServerOptions extends LinkOptions {
  /** [ActiveMQ replicatedLevelDB: bind] `tcp://host:port`; port 0 picks a free port. */
  readonly bind: string;
  readonly securityToken: string;
  /** The node's highest known epoch, put in the REJECT a wrong token gets (default 0). */
  readonly epoch?: () => number;
  readonly loginTimeoutMs?: number;
}

/** The master's listener; see the file comment. */
export class ReplicationServer extends EventEmitter<ReplicationServerEvents> {
  private readonly server: net.Server;
  /** Every open connection, logged in or not, so that `close` ends them all. */
  private readonly all = new Set<ReplicationLink>();
  /** Logged-in links by peer: a newer login of the same node replaces (and closes) the older one. */
  private readonly byPeer = new Map<NodeId, ReplicationLink>();
  private readonly host: string;
  private boundPort = 0;

  private constructor(options: ServerOptions, host: string) {
    super();
    this.host = host;
    const gate: LoginGate = {
      securityToken: options.securityToken,
      epoch: options.epoch ?? (() => 0),
      timeoutMs: options.loginTimeoutMs ?? REPL_LOGIN_TIMEOUT_MS,
      accepted: (link, login) => this.onAccepted(link, login),
    };
    this.server = net.createServer((socket) => {
      const link = new ReplicationLink(socket, null, gate, options);
      // Read now: a closed socket no longer knows its remote address.
      const remote = link.remote;
      this.all.add(link);
      link.on('message', (from, message) => this.emit('message', from, message));
      link.on('closed', (peer, reason, error) => {
        this.all.delete(link);
        if (peer === null || this.byPeer.get(peer) !== link) {
          // Never logged in (refused, silent, garbage), or already replaced: not a slave going away.
          if (peer === null) this.emit('refused', remote, error);
          return;
        }
        this.byPeer.delete(peer);
        this.emit('closed', peer, reason, error);
      });
    });
  }

  /** Listens on `options.bind`; resolves once bound (REPL_BAD_URI, or the listen error, e.g. EADDRINUSE). */
  static async listen(options: ServerOptions): Promise<ReplicationServer> {
    const { host, port } = parseTcpUri(options.bind);
    const s = new ReplicationServer(options, host);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(port, host, () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    s.boundPort = (s.server.address() as net.AddressInfo).port;
    return s;
  }

  /** The port actually bound (the one the OS chose when `bind` said 0). */
  get port(): number {
    return this.boundPort;
  }

  /** `tcp://host:port` as bound. */
  get address(): string {
    return `tcp://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.boundPort}`;
  }

  /** The logged-in link of `peer`, if it has one. */
  get(peer: NodeId): ReplicationLink | undefined {
    return this.byPeer.get(peer);
  }

  /** Peers with a logged-in link. */
  peers(): NodeId[] {
    return [...this.byPeer.keys()];
  }

  /** Sends to `to`'s link; false when it has none or the link refused it (see ReplicationLink.send). */
  send(to: NodeId, message: PeerMessage): boolean {
    return this.byPeer.get(to)?.send(message) ?? false;
  }

  /** Stops listening and closes every link (each reports `closed`); resolves once the listener is down. */
  async close(): Promise<void> {
    const closing = [new Promise<void>((resolve) => this.server.close(() => resolve()))];
    for (const link of this.all) {
      // Resolve only once each link has reported: callers may tear down what its `closed` listeners use.
      closing.push(once(link, 'closed').then(() => undefined));
      link.close('replication server closed');
    }
    await Promise.all(closing);
  }

  private onAccepted(link: ReplicationLink, login: LinkLogin): void {
    const old = this.byPeer.get(login.nodeId);
    this.byPeer.set(login.nodeId, link);
    // The same node dialing again means its old connection is dead to it (it restarted, or gave up).
    if (old !== undefined) old.close(`replaced by a newer connection from ${login.nodeId}`);
    this.emit('link', link, login);
  }
}
