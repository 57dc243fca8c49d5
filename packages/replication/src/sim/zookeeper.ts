/**
 * SimZooKeeper: the coordinator as the core sees it, one linearizable server.
 *
 * What it models: sessions kept alive by a connected, running client and expired after `sessionTimeout`
 * ticks without one (a crashed, paused or ZooKeeper-partitioned node); ephemeral-sequential member znodes
 * deleted with their session; the elected record written only by a versioned compare-and-set; requests and
 * watch notifications (whole views, as a client that re-reads after each watch would see) that travel with
 * a random delay but in order per session, as ZooKeeper guarantees.
 *
 * Faults it injects: delay of requests and notifications; session expiry while the process lives on (it
 * learns of it only once it can talk to ZooKeeper again, like a real client); a restarted process's old
 * znode lingering until its old session times out; CAS races between nodes with different views.
 *
 * Why the core survives these: it acts only on what ZooKeeper has confirmed (a CAS result, a view), treats
 * every view as possibly stale (the elected record's version guards the CAS; a report counts only for the
 * epoch it names), dedupes members by newest sequence number, and a master that misses its own expiry is
 * still contained by the promise its former slaves made when they reported (see ReplicaNode).
 */
import assert from 'node:assert/strict';
import type { CoordinatorRequest, CoordinatorView, ElectedRecord, MemberData, MemberRecord, NodeEvent, NodeId } from '../core/types.js';
import type { Random } from './random.js';

interface Session {
  readonly id: number;
  readonly node: NodeId;
  lastHeard: number;
  expired: boolean;
  /** Notifications in order, each with the tick it may be delivered. */
  readonly outbox: Array<{ at: number; event: NodeEvent }>;
}

interface Member {
  readonly seq: number;
  readonly session: number;
  data: MemberData;
}

interface PendingRequest {
  readonly at: number;
  readonly session: number;
  readonly request: CoordinatorRequest;
}

/** Timing of the simulated ZooKeeper. */
export interface ZooKeeperTiming {
  /** Ticks without a live client after which a session expires (zkSessionTimeout). */
  sessionTimeout: number;
  /** Ticks a request or a notification takes. */
  delayMin: number;
  delayMax: number;
}

/** The simulated coordinator; see the file comment. */
export class SimZooKeeper {
  readonly timing: ZooKeeperTiming;
  private readonly rng: Random;
  private readonly sessions = new Map<number, Session>();
  /** Each node's current session (the one its running process uses). */
  private readonly current = new Map<NodeId, number>();
  private readonly requests = new Map<NodeId, PendingRequest[]>();
  private members: Member[] = [];
  private electedValue: ElectedRecord = { epoch: 0, masterId: null, version: 0 };
  private nextSession = 1;
  private nextSeq = 1;
  private changed = false;
  /** Elections won (successful CAS), for statistics. */
  elections = 0;

  constructor(rng: Random, timing: ZooKeeperTiming) {
    this.rng = rng;
    this.timing = timing;
  }

  get elected(): ElectedRecord {
    return this.electedValue;
  }

  /** A request from a node's running process (in Ready order). */
  request(now: number, node: NodeId, request: CoordinatorRequest): void {
    let session = this.current.get(node);
    if (request.kind === 'register' || session === undefined) {
      // The client opens a new session; the old one (if any) is abandoned and will time out.
      session = this.nextSession++;
      this.sessions.set(session, { id: session, node, lastHeard: now, expired: false, outbox: [] });
      this.current.set(node, session);
    }
    let queue = this.requests.get(node);
    if (queue === undefined) this.requests.set(node, (queue = []));
    const last = queue[queue.length - 1];
    queue.push({ at: Math.max(last?.at ?? 0, now + this.delay()), session, request });
  }

  /** The node's process is gone: its client state (queued requests, undelivered notifications) with it. */
  processDied(node: NodeId): void {
    this.requests.delete(node);
    const session = this.current.get(node);
    if (session !== undefined) this.sessions.get(session)!.outbox.length = 0;
    this.current.delete(node);
  }

  /**
   * One tick: apply due requests of reachable nodes, keep reachable sessions alive, expire the others,
   * and queue a view for every session when anything changed.
   */
  tick(now: number, reachable: (node: NodeId) => boolean): void {
    for (const [node, queue] of this.requests) {
      if (!reachable(node)) continue;
      while (queue.length > 0 && queue[0]!.at <= now) this.apply(now, queue.shift()!);
    }
    for (const s of this.sessions.values()) {
      if (s.expired) continue;
      if (this.current.get(s.node) === s.id && reachable(s.node)) s.lastHeard = now;
      else if (now - s.lastHeard > this.timing.sessionTimeout) this.expire(now, s);
    }
    if (this.changed) {
      this.changed = false;
      for (const s of this.sessions.values()) {
        if (!s.expired && this.current.get(s.node) === s.id) this.notify(now, s, { kind: 'coordinator', view: this.view('connected') });
      }
    }
  }

  /** Notifications due for a node at `now` (only while it can reach ZooKeeper). */
  deliveries(now: number, node: NodeId): NodeEvent[] {
    const session = this.current.get(node);
    if (session === undefined) return [];
    const outbox = this.sessions.get(session)!.outbox;
    const out: NodeEvent[] = [];
    while (outbox.length > 0 && outbox[0]!.at <= now) out.push(outbox.shift()!.event);
    return out;
  }

  /**
   * Expires every live session of a node now, as their timeout would (scenario scripts use it; a crashed
   * node's abandoned session is among them).
   */
  expireSession(now: number, node: NodeId): void {
    for (const s of this.sessions.values()) if (s.node === node && !s.expired) this.expire(now, s);
  }

  /**
   * True when nothing is queued for nodes that can reach ZooKeeper: no request to apply, no notification
   * to deliver, no change to announce.
   */
  idle(reachable: (node: NodeId) => boolean): boolean {
    if (this.changed) return false;
    for (const [node, q] of this.requests) if (q.length > 0 && reachable(node)) return false;
    for (const [node, session] of this.current) {
      if (reachable(node) && this.sessions.get(session)!.outbox.length > 0) return false;
    }
    return true;
  }

  /** Member records as a view shows them. */
  view(session: 'connected' | 'expired'): CoordinatorView {
    const members: MemberRecord[] = this.members.map((m) => ({ ...m.data, seq: m.seq }));
    return { session, members, elected: this.electedValue };
  }

  private apply(now: number, p: PendingRequest): void {
    const s = this.sessions.get(p.session)!;
    if (s.expired) return; // the client gets SESSION_EXPIRED; it already has (or will get) the expiry notice
    const r = p.request;
    switch (r.kind) {
      case 'register':
        this.members.push({ seq: this.nextSeq++, session: s.id, data: r.data });
        this.changed = true;
        // A new session's first read: its watch fires with the current view.
        this.notify(now, s, { kind: 'coordinator', view: this.view('connected') });
        return;
      case 'publish': {
        const m = this.members.find((x) => x.session === s.id);
        if (m === undefined) return;
        m.data = r.data;
        this.changed = true;
        return;
      }
      case 'cas-elected': {
        const ok = this.electedValue.version === r.expectedVersion;
        if (ok) {
          assert.equal(r.epoch, this.electedValue.epoch + 1, 'an election raises the epoch by exactly one');
          this.electedValue = { epoch: r.epoch, masterId: r.masterId, version: this.electedValue.version + 1 };
          this.elections++;
          this.changed = true;
        }
        this.notify(now, s, { kind: 'cas-result', ok });
        return;
      }
    }
  }

  private expire(now: number, s: Session): void {
    s.expired = true;
    const before = this.members.length;
    this.members = this.members.filter((m) => m.session !== s.id);
    if (this.members.length !== before) this.changed = true;
    this.notify(now, s, { kind: 'coordinator', view: this.view('expired') });
  }

  private notify(now: number, s: Session, event: NodeEvent): void {
    const last = s.outbox[s.outbox.length - 1];
    s.outbox.push({ at: Math.max(last?.at ?? 0, now + this.delay()), event });
  }

  private delay(): number {
    return this.rng.int(this.timing.delayMin, this.timing.delayMax);
  }
}
