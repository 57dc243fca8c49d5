/**
 * PeerTransport: delivers the core's envelopes over TCP. Every member listens on its `bind` address (any
 * member may become master); a slave dials the member it sends to, using the address that member published
 * in ZooKeeper, and the master answers over the connection the slave opened. So the direction of each
 * connection follows the direction of the first message, and a master never dials anyone.
 *
 * What it does not do is retry or remember: a message for a peer with no connection, or one whose
 * connection breaks, is dropped. The core was built for a lossy network (a slave re-sends LOGIN and SYNC
 * after silence, a master re-sends from the last acknowledged entry on every heartbeat), and the
 * simulation checks it under loss. The few messages sent while a dial is under way wait for it (bounded),
 * so a new slave's first LOGIN/SYNC is not lost to the dial itself.
 */
import type { NodeId, PeerMessage } from '../core/types.js';
import { ReplicationLink, ReplicationServer } from './link.js';

/** Messages kept for a peer while dialing it: a LOGIN, a SYNC and some ACKs; more are dropped (the core resends). */
export const DIAL_QUEUE_MESSAGES_MAX = 256;
/** After a failed dial, the same peer is not dialed again for this long (it is down, or not listening yet). */
export const REDIAL_DELAY_MS = 200;

/** What the transport needs from its member. */
export interface PeerTransportOptions {
  readonly nodeId: NodeId;
  readonly securityToken: string;
  readonly bind: string;
  /** The node's highest known epoch, for handshakes and logs. */
  readonly epoch: () => number;
  /** A member's published replication address, or undefined when ZooKeeper does not list it. */
  readonly addressOf: (peer: NodeId) => string | undefined;
  readonly onMessage: (from: NodeId, message: PeerMessage) => void;
  /** A peer logged in on a new connection to us, or its connection to us closed. */
  readonly onPeerLink: (peer: NodeId) => void;
  readonly log: (line: string) => void;
}

interface Dialed {
  link: ReplicationLink | null;
  /** While dialing: what waits for the connection. */
  queue: PeerMessage[];
  address: string;
  retryAt: number;
}

/** See the file comment. */
export class PeerTransport {
  private readonly opts: PeerTransportOptions;
  private readonly server: ReplicationServer;
  private readonly dialed = new Map<NodeId, Dialed>();
  private readonly dialing = new Set<NodeId>();
  private closed = false;

  private constructor(opts: PeerTransportOptions, server: ReplicationServer) {
    this.opts = opts;
    this.server = server;
    server.on('message', (from, message) => this.deliver(from, message));
    server.on('link', (_link, login) => {
      if (!this.closed) opts.onPeerLink(login.nodeId);
    });
    server.on('closed', (peer, reason) => {
      if (this.closed || peer === null) return;
      opts.log(`replication link from ${peer} closed: ${reason}`);
      opts.onPeerLink(peer);
    });
    server.on('refused', (remote, error) => opts.log(`replication connection from ${remote} refused: ${error.message}`));
  }

  /** Listens on `bind` (REPL_BAD_URI, or the listen error). */
  static async open(opts: PeerTransportOptions): Promise<PeerTransport> {
    const server = await ReplicationServer.listen({ bind: opts.bind, securityToken: opts.securityToken, epoch: opts.epoch });
    return new PeerTransport(opts, server);
  }

  /** The bound port (the OS's choice when `bind` said port 0). */
  get port(): number {
    return this.server.port;
  }

  /** Sends one message; see the file comment for what happens when no connection is up. */
  send(to: NodeId, message: PeerMessage): void {
    if (this.closed) return;
    // A peer that dialed us (a slave of ours) is answered on its own connection.
    const accepted = this.server.get(to);
    if (accepted !== undefined) {
      if (message.type === 'SNAPSHOT_CHUNK' || message.type === 'SNAPSHOT_END') accepted.sendBulk(message);
      else accepted.send(message);
      return;
    }
    // Only a slave opens connections, with what a slave sends; a master's answers to a slave that has no
    // connection to it are dropped (the slave logs in again when it hears nothing).
    if (message.type !== 'LOGIN' && message.type !== 'SYNC' && message.type !== 'ACK') return;
    const address = this.opts.addressOf(to);
    if (address === undefined) return;
    let d = this.dialed.get(to);
    if (d !== undefined && d.address !== address) {
      // The peer restarted elsewhere (a new port): the old connection leads nowhere useful.
      d.link?.close(`${to} moved to ${address}`);
      this.dialed.delete(to);
      d = undefined;
    }
    if (d === undefined) {
      d = { link: null, queue: [], address, retryAt: 0 };
      this.dialed.set(to, d);
    }
    if (d.link !== null && !d.link.isClosed) {
      d.link.send(message);
      return;
    }
    // Down and not due for another dial yet: dropped, the core will send again.
    if (Date.now() < d.retryAt) return;
    if (d.queue.length < DIAL_QUEUE_MESSAGES_MAX) d.queue.push(message);
    this.dial(to, d);
  }

  private dial(to: NodeId, d: Dialed): void {
    if (this.dialing.has(to) || this.closed) return;
    this.dialing.add(to);
    ReplicationLink.connect({ address: d.address, peer: to, nodeId: this.opts.nodeId, securityToken: this.opts.securityToken, epoch: this.opts.epoch() })
      .then((link) => {
        this.dialing.delete(to);
        if (this.closed || this.dialed.get(to) !== d) {
          link.close('no longer needed');
          return;
        }
        d.link = link;
        link.on('message', (from, message) => this.deliver(from, message));
        link.on('closed', (_peer, reason) => {
          if (this.dialed.get(to) === d) this.dialed.delete(to);
          if (!this.closed) this.opts.log(`replication link to ${to} closed: ${reason}`);
        });
        for (const m of d.queue.splice(0)) link.send(m);
      })
      .catch((error: unknown) => {
        this.dialing.delete(to);
        d.retryAt = Date.now() + REDIAL_DELAY_MS;
        d.queue.length = 0;
        if (!this.closed) this.opts.log(`cannot reach ${to}: ${(error as Error).message}`);
      });
  }

  private deliver(from: NodeId, message: PeerMessage): void {
    if (!this.closed) this.opts.onMessage(from, message);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const d of this.dialed.values()) d.link?.close('member closing');
    this.dialed.clear();
    await this.server.close();
  }
}
