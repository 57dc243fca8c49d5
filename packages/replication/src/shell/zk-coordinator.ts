/**
 * ZkCoordinator: the coordinator of the pure ReplicaNode, on a real ZooKeeper (the native `zookeeper`
 * client, which wraps ZooKeeper's own C client). It carries out the core's CoordinatorRequests in order and
 * turns what ZooKeeper says into the core's events: a whole `coordinator` view after every change, and a
 * `cas-result` for every `cas-elected`. All of the IO of coordination is here; the core sees plain data.
 *
 * Znode layout under the group's `zkPath` (ActiveMQ's setting, default `/default`):
 * ```
 * <zkPath>                       persistent, created with its parents when missing
 * <zkPath>/members               persistent
 * <zkPath>/members/member-NNNNNNNNNN
 *                                EPHEMERAL_SEQUENTIAL, one per registered session: JSON MemberData
 *                                {id, address, weight, position, forEpoch, recovering}; NNN is MemberRecord.seq
 * <zkPath>/elected               persistent: JSON {epoch, masterId}; its znode version is ElectedRecord.version
 *                                (absent = epoch 0, no master, version -1: the first CAS creates it)
 * ```
 * Members live under their own child so that a watch on them fires for membership alone, not for the
 * elected record. The elected record is persistent: the epoch must outlive every session, or a new group
 * could reuse an epoch (ARCHITECTURE.md: "two masters can never hold the same epoch").
 *
 * Sessions. `register` opens a new session (closing any previous one) and creates a fresh member znode,
 * as the core asks after every expiry: ActiveMQ's AMQ-5082 was a group that never re-registered after a
 * session loss and so stopped for good. A session is reported `expired` when ZooKeeper says so, when the
 * client has been disconnected for a whole session timeout (the server has expired it by then, or will,
 * and a master must not go on acknowledging meanwhile), or when a request keeps failing past its retries.
 * Disconnections shorter than that are not reported: the session, its znode and its watches survive them.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { ReplError } from '../core/errors.js';
import type { CoordinatorRequest, CoordinatorView, ElectedRecord, MemberData, MemberRecord, NodeEvent } from '../core/types.js';

/** The events a coordinator delivers to the core's `step()`. */
export type CoordinatorEvent = Extract<NodeEvent, { kind: 'coordinator' | 'cas-result' }>;

/** ActiveMQ's zkSessionTimeout default (2 s). */
export const ZK_SESSION_TIMEOUT_MS_DEFAULT = 2_000;
/** Attempts at one request through connection losses before the session is given up as lost. */
export const ZK_REQUEST_ATTEMPTS_MAX = 10;
/** Wait before retrying a request that failed with a connection loss, times the attempt number. */
export const ZK_RETRY_DELAY_MS = 100;
/**
 * Requests queued at once. The core has at most one CAS outstanding and publishes coalesce (only the latest
 * member data matters), so more than this means a caller bug, not load.
 */
export const ZK_REQUEST_QUEUE_MAX = 64;
/** Member znodes read into one view; far above any group (replicas is small and odd). */
export const ZK_MEMBERS_MAX = 256;

/**
 * The C client's own stderr logging: 0 turns it off. It prints a line per failed reconnect attempt, which
 * during an outage is noise; what matters (connection lost, session ended, retries) goes to `log` instead.
 */
export const ZK_CLIENT_LOG_LEVEL = 0;

/** Settings of one ZkCoordinator. */
export interface ZkCoordinatorOptions {
  /** ActiveMQ's zkAddress: `host:port`, a comma list for an ensemble. */
  readonly connect: string;
  /** ActiveMQ's zkPath: the group's znode. */
  readonly zkPath: string;
  /**
   * ActiveMQ's zkPassword, or null: each session authenticates with it (digest scheme, user `mini-amq`) and
   * the znodes this member creates are then readable and writable by that identity alone, so that neither
   * a stray client nor another group with another password can read or move the elected record.
   */
  readonly password?: string | null;
  /** ActiveMQ's zkSessionTimeout, in ms. */
  readonly sessionTimeoutMs?: number;
  /** Receives every event for the core, in order. */
  readonly onEvent: (event: CoordinatorEvent) => void;
  /** Diagnostic lines (connection losses, retries, unreadable member data). */
  readonly log?: (line: string) => void;
}

// The parts of the `zookeeper` package's promise client used here. Its bundled declarations are an ambient
// script rather than a module, which NodeNext cannot import, so the shape is stated here instead.
interface ZkStat {
  readonly version: number;
  readonly createdInThisSession?: boolean;
}
interface ZkClient {
  readonly client_id: string;
  readonly client_password: string;
  /** The session timeout the server granted (it bounds the requested one by its min/max), in ms. */
  readonly timeout: number;
  init(config: Record<string, unknown>): ZkClient;
  close(): void;
  on(event: string, listener: (...args: unknown[]) => void): ZkClient;
  create(path: string, data: string, flags: number): Promise<string>;
  exists(path: string, watch: boolean): Promise<ZkStat>;
  get(path: string, watch: boolean): Promise<[ZkStat, Buffer]>;
  get_children(path: string, watch: boolean): Promise<string[]>;
  set(path: string, data: string, version: number): Promise<ZkStat>;
  set_acl(path: string, version: number, acl: readonly ZkAcl[]): Promise<unknown>;
  add_auth(scheme: string, auth: string, callback: (rc: number) => void): void;
}
interface ZkAcl {
  readonly perms: number;
  readonly scheme: string;
  readonly auth: string;
}
interface ZkModule {
  new (config: Record<string, unknown>): ZkClient;
  readonly constants: Record<string, number>;
}

const ZooKeeper = createRequire(import.meta.url)('zookeeper') as ZkModule;
const C = ZooKeeper.constants;
const ZNONODE = C['ZNONODE']!;
const ZNODEEXISTS = C['ZNODEEXISTS']!;
const ZBADVERSION = C['ZBADVERSION']!;
/** Outcome unknown: the request may or may not have been applied. */
const RETRYABLE = new Set([C['ZCONNECTIONLOSS']!, C['ZOPERATIONTIMEOUT']!]);
const MEMBER_PREFIX = 'member-';
/** All permissions for the identities the creating session authenticated as (ZooKeeper's CREATOR_ALL_ACL). */
const CREATOR_ALL_ACL: readonly ZkAcl[] = Object.freeze([{ perms: C['ZOO_PERM_ALL'] ?? 31, scheme: 'auth', auth: '' }]);
/** The user name of the digest identity zkPassword makes (ZooKeeper's digest scheme is `user:password`). */
const ZK_DIGEST_USER = 'mini-amq';
/** The record before any election: what an absent `elected` znode stands for. */
const NO_ELECTION: ElectedRecord = Object.freeze({ epoch: 0, masterId: null, version: -1 });

/** ZooKeeper's return code from a rejected call of the promise client (`"-101 no node"`); NaN if none. */
function zkCode(error: unknown): number {
  return parseInt(error instanceof Error ? error.message : String(error), 10);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function parseMember(name: string, data: Buffer): MemberRecord | null {
  const seq = parseInt(name.slice(MEMBER_PREFIX.length), 10);
  try {
    const d = JSON.parse(data.toString('utf8')) as MemberData;
    if (typeof d.id !== 'string' || typeof d.address !== 'string' || typeof d.weight !== 'number') return null;
    const record = { id: d.id, address: d.address, weight: d.weight, position: d.position ?? null, forEpoch: d.forEpoch ?? 0, recovering: d.recovering === true, seq };
    return d.yielding === true ? { ...record, yielding: true } : record;
  } catch {
    return null;
  }
}

/** One session: its client and its member znode once created. */
interface Session {
  readonly client: ZkClient;
  connected: boolean;
  memberPath: string | null;
  memberVersion: number;
  /** Fires when the client has been disconnected for a whole session timeout. */
  lostTimer: NodeJS.Timeout | null;
  /** Set once we closed it (register, close, or gave it up): its `close` event is then ours, not an expiry. */
  retired: boolean;
}

/** The ZooKeeper side of one replication node; see the file comment. */
export class ZkCoordinator {
  private readonly opts: Required<Omit<ZkCoordinatorOptions, 'log'>> & Pick<ZkCoordinatorOptions, 'log'>;
  private readonly groupPath: string;
  private readonly membersPath: string;
  private readonly electedPath: string;
  private readonly queue: CoordinatorRequest[] = [];
  private pumping: Promise<void> | null = null;
  private session: Session | null = null;
  private refreshing = false;
  private refreshAgain = false;
  private lastView: CoordinatorView | null = null;
  private closed = false;
  private connectWaiters: Array<() => void> = [];

  constructor(options: ZkCoordinatorOptions) {
    const zkPath = options.zkPath;
    if (!zkPath.startsWith('/') || (zkPath.length > 1 && zkPath.endsWith('/')) || zkPath.includes('//')) {
      throw new ReplError('REPL_CONFIG', `zkPath must be an absolute ZooKeeper path such as /default, got ${JSON.stringify(zkPath)}`);
    }
    this.opts = { sessionTimeoutMs: ZK_SESSION_TIMEOUT_MS_DEFAULT, password: null, ...options };
    const base = zkPath === '/' ? '' : zkPath;
    this.groupPath = zkPath;
    this.membersPath = `${base}/members`;
    this.electedPath = `${base}/elected`;
  }

  /** This node's member znode in the current session, or null (not registered, or the session ended). */
  get memberPath(): string | null {
    const s = this.session;
    return s === null || s.retired ? null : s.memberPath;
  }

  /** The current session's id and password (hex), for tests that expire it from another client. */
  get sessionCredentials(): { id: string; password: string } | null {
    const s = this.session;
    return s === null || !s.connected ? null : { id: s.client.client_id, password: s.client.client_password };
  }

  /** Queues one of the core's requests; they are carried out one at a time, in order. */
  request(request: CoordinatorRequest): void {
    if (this.closed) return;
    const last = this.queue[this.queue.length - 1];
    // Only the newest member data matters, and the tail has not started: overwrite it in place.
    if (request.kind === 'publish' && last?.kind === 'publish') {
      this.queue[this.queue.length - 1] = request;
    } else {
      assert(this.queue.length < ZK_REQUEST_QUEUE_MAX, `more than ${ZK_REQUEST_QUEUE_MAX} ZooKeeper requests queued`);
      this.queue.push(request);
    }
    this.pumping ??= this.pump().finally(() => (this.pumping = null));
  }

  /** Resolves once every queued request has been carried out (tests). */
  async settled(): Promise<void> {
    while (this.pumping !== null) await this.pumping;
  }

  /** Ends the session (its member znode goes with it) and delivers nothing more. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    this.retire();
    for (const wake of this.connectWaiters.splice(0)) wake();
    await this.pumping;
  }

  // ------------------------------------------------------------------ requests

  private async pump(): Promise<void> {
    while (!this.closed && this.queue.length > 0) {
      const request = this.queue[0]!;
      let attempt = 1;
      for (;;) {
        try {
          await this.perform(request);
          break;
        } catch (error) {
          if (this.closed) return;
          const code = zkCode(error);
          if (RETRYABLE.has(code) && attempt < ZK_REQUEST_ATTEMPTS_MAX) {
            this.log(`ZooKeeper ${request.kind} failed (${String(error)}), attempt ${attempt} of ${ZK_REQUEST_ATTEMPTS_MAX}`);
            await sleep(ZK_RETRY_DELAY_MS * attempt);
            attempt++;
            continue;
          }
          // Past its retries, or an error with no retry: the session is of no more use. Reporting it expired
          // makes the core fence (if master) and register afresh, which republishes everything.
          this.log(`ZooKeeper ${request.kind} failed for good (${String(error)}): giving the session up`);
          if (request.kind === 'cas-elected') this.emit({ kind: 'cas-result', ok: false });
          this.expire(this.session);
          break;
        }
      }
      this.queue.shift();
    }
  }

  private async perform(request: CoordinatorRequest): Promise<void> {
    switch (request.kind) {
      case 'register':
        await this.register(request.data);
        return;
      case 'publish': {
        const s = this.session;
        // No session or no znode: an expiry notice is on its way or delivered, and the core will register.
        if (s === null || s.retired || s.memberPath === null) return;
        await this.waitConnected(s);
        const stat = await s.client.set(s.memberPath, JSON.stringify(request.data), s.memberVersion).catch((error: unknown) => {
          if (zkCode(error) === ZNONODE) return null; // the session ended under us: its expiry is reported
          throw error;
        });
        if (stat !== null) s.memberVersion = stat.version;
        return;
      }
      case 'cas-elected': {
        const s = this.session;
        if (s === null || s.retired) {
          this.emit({ kind: 'cas-result', ok: false });
          return;
        }
        await this.waitConnected(s);
        this.emit({ kind: 'cas-result', ok: await this.casElected(s, request.epoch, request.masterId, request.expectedVersion) });
        return;
      }
    }
  }

  /** Opens a new session and creates this node's member znode; the first view follows. */
  private async register(data: MemberData): Promise<void> {
    let s = this.session;
    if (s === null || s.retired || s.memberPath !== null) s = this.openSession();
    await this.waitConnected(s);
    const { client } = s;
    await this.ensurePath(client, this.membersPath);
    const json = JSON.stringify(data);
    let created: string;
    try {
      created = await client.create(`${this.membersPath}/${MEMBER_PREFIX}`, json, C['ZOO_EPHEMERAL_SEQUENTIAL']!);
    } catch (error) {
      // A lost reply leaves us not knowing whether the znode exists: adopt it if this session created one,
      // so that a retry does not leave a twin of this node in the group.
      if (!RETRYABLE.has(zkCode(error))) throw error;
      const mine = await this.findOwnMember(s);
      if (mine === null) throw error;
      created = mine;
      await client.set(created, json, -1);
    }
    await this.restrict(client, created);
    s.memberPath = created;
    s.memberVersion = 0;
    void this.refresh();
  }

  private async findOwnMember(s: Session): Promise<string | null> {
    await this.waitConnected(s);
    for (const name of await s.client.get_children(this.membersPath, false)) {
      const path = `${this.membersPath}/${name}`;
      const stat = await s.client.exists(path, false).catch(() => null);
      if (stat?.createdInThisSession === true) return path;
    }
    return null;
  }

  /**
   * Sets the elected record to (epoch, masterId) if its version is still `expected` (-1: it must not exist
   * yet). When a connection loss hides the outcome, the record is read back: our own (epoch, masterId) at
   * the next version can only have been written by this CAS, since each epoch is won by one CAS.
   */
  private async casElected(s: Session, epoch: number, masterId: string, expected: number): Promise<boolean> {
    const data = JSON.stringify({ epoch, masterId });
    const parent = this.electedPath.slice(0, this.electedPath.lastIndexOf('/')) || '/';
    try {
      if (expected === -1) {
        await this.ensurePath(s.client, parent);
        await s.client.create(this.electedPath, data, C['ZOO_PERSISTENT']!);
        await this.restrict(s.client, this.electedPath);
      } else {
        await s.client.set(this.electedPath, data, expected);
      }
      return true;
    } catch (error) {
      const code = zkCode(error);
      if (code === ZNODEEXISTS || code === ZBADVERSION || code === ZNONODE) return false;
      if (!RETRYABLE.has(code)) throw error;
      await this.waitConnected(s);
      const now = await this.readElected(s.client, false);
      return now.epoch === epoch && now.masterId === masterId && now.version === expected + 1;
    }
  }

  /** Creates `path` and its missing ancestors as persistent znodes; ones that exist are fine. */
  private async ensurePath(client: ZkClient, path: string): Promise<void> {
    let at = '';
    for (const part of path.split('/').slice(1)) {
      if (part === '') continue;
      at += `/${part}`;
      const made = await client.create(at, '', C['ZOO_PERSISTENT']!).then(() => true, (error: unknown) => {
        if (zkCode(error) !== ZNODEEXISTS) throw error;
        return false;
      });
      // Only the group's own znodes: a parent shared with others (e.g. /activemq) stays as it was.
      if (made && path.startsWith(this.groupPath) && at.length >= this.groupPath.length) await this.restrict(client, at);
    }
  }

  /** With a zkPassword, limits a znode this member created to the group's identity. */
  private async restrict(client: ZkClient, path: string): Promise<void> {
    if (this.opts.password === null) return;
    await client.set_acl(path, -1, CREATOR_ALL_ACL);
  }

  // ------------------------------------------------------------------ sessions

  private openSession(): Session {
    this.retire();
    const client = new ZooKeeper({
      connect: this.opts.connect,
      timeout: this.opts.sessionTimeoutMs,
      debug_level: ZK_CLIENT_LOG_LEVEL,
      // Spread an ensemble's clients over its servers rather than all dialing the first.
      host_order_deterministic: false,
    });
    const s: Session = {
      client,
      connected: false,
      memberPath: null,
      memberVersion: 0,
      lostTimer: null,
      retired: false,
    };
    client.on('connect', () => {
      if (s.retired) return;
      s.connected = true;
      if (s.lostTimer !== null) clearTimeout(s.lostTimer);
      s.lostTimer = null;
      for (const wake of this.connectWaiters.splice(0)) wake();
      // Watches are re-armed by the client on reconnect, but changes may have been missed meanwhile.
      if (s.memberPath !== null) void this.refresh();
    });
    client.on('connecting', () => {
      if (s.retired || !s.connected) return;
      s.connected = false;
      this.log('ZooKeeper connection lost; the session is given up unless it reconnects within the session timeout');
      // The server expires the session after the timeout it granted; should that be shorter than ours,
      // waiting for ours would leave a master acknowledging after others may have elected.
      const granted = s.client.timeout > 0 ? s.client.timeout : this.opts.sessionTimeoutMs;
      s.lostTimer ??= setTimeout(() => this.expire(s), Math.min(granted, this.opts.sessionTimeoutMs));
    });
    client.on('close', (_client: unknown, code: unknown) => {
      // Our own close (register, close) is not news; any other is the session ending (expiry, auth failure).
      if (s.retired) return;
      this.log(`ZooKeeper session ended (state ${String(code)})`);
      this.expire(s);
    });
    for (const event of ['child', 'changed', 'deleted', 'created']) {
      client.on(event, () => {
        if (!s.retired && s === this.session) void this.refresh();
      });
    }
    client.init({});
    const password = this.opts.password;
    if (password !== null) {
      client.add_auth('digest', `${ZK_DIGEST_USER}:${password}`, (rc) => {
        if (rc !== 0) this.log(`ZooKeeper refused the zkPassword (code ${rc})`);
      });
    }
    this.session = s;
    return s;
  }

  /** Waits for the session to be connected; returns at once once it is retired or we are closed. */
  private async waitConnected(s: Session): Promise<void> {
    while (!s.connected && !s.retired && !this.closed) {
      await new Promise<void>((resolve) => this.connectWaiters.push(resolve));
    }
    if (s.retired || this.closed) throw new Error(`${C['ZSESSIONEXPIRED']} session ended`);
  }

  /** Closes the current session's client, if any, without reporting it. */
  private retire(): void {
    const s = this.session;
    if (s === null || s.retired) return;
    s.retired = true;
    if (s.lostTimer !== null) clearTimeout(s.lostTimer);
    // The native client must not be used after close (its README); nothing holds it once it is retired.
    s.client.close();
  }

  /** The session `s` is over: tell the core (once) and drop it. */
  private expire(s: Session | null): void {
    if (s === null || s.retired || s !== this.session) return;
    this.retire();
    for (const wake of this.connectWaiters.splice(0)) wake();
    const last = this.lastView;
    const ownSeq = s.memberPath === null ? -1 : parseInt(s.memberPath.slice(s.memberPath.lastIndexOf('-') + 1), 10);
    this.emit({
      kind: 'coordinator',
      view: {
        session: 'expired',
        members: (last?.members ?? []).filter((m) => m.seq !== ownSeq),
        elected: last?.elected ?? NO_ELECTION,
      },
    });
  }

  // ------------------------------------------------------------------ views

  /**
   * Reads the whole view (members and elected record, re-arming their watches) and delivers it. Watch
   * events that arrive while a read is under way make one more read follow, so bursts coalesce.
   */
  private async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    try {
      do {
        this.refreshAgain = false;
        const s = this.session;
        if (s === null || s.retired || !s.connected || s.memberPath === null || this.closed) return;
        let view: CoordinatorView;
        try {
          view = await this.readView(s.client);
        } catch (error) {
          // A lost connection: the reconnect (or the expiry) triggers the next read.
          this.log(`ZooKeeper view read failed: ${String(error)}`);
          return;
        }
        if (s === this.session && !s.retired && !this.closed) {
          this.lastView = view;
          this.emit({ kind: 'coordinator', view });
        }
      } while (this.refreshAgain);
    } finally {
      this.refreshing = false;
    }
  }

  private async readView(client: ZkClient): Promise<CoordinatorView> {
    const names = (await client.get_children(this.membersPath, true)).filter((n) => n.startsWith(MEMBER_PREFIX)).sort();
    assert(names.length <= ZK_MEMBERS_MAX, `${names.length} member znodes under ${this.membersPath} (at most ${ZK_MEMBERS_MAX})`);
    const members: MemberRecord[] = [];
    for (const name of names) {
      let data: Buffer;
      try {
        [, data] = await client.get(`${this.membersPath}/${name}`, true);
      } catch (error) {
        if (zkCode(error) === ZNONODE) continue; // left since the listing; the child watch fires again
        throw error;
      }
      const record = parseMember(name, data);
      if (record === null) this.log(`ignoring member znode ${name}: unreadable data`);
      else members.push(record);
    }
    return { session: 'connected', members, elected: await this.readElected(client, true) };
  }

  private async readElected(client: ZkClient, watch: boolean): Promise<ElectedRecord> {
    try {
      const [stat, data] = await client.get(this.electedPath, watch);
      const record = JSON.parse(data.toString('utf8')) as { epoch: number; masterId: string | null };
      return { epoch: record.epoch, masterId: record.masterId, version: stat.version };
    } catch (error) {
      if (zkCode(error) !== ZNONODE) throw error;
      // Watch for its creation; `exists` failing with no node is how the promise client says "absent".
      if (watch) {
        await client.exists(this.electedPath, true).then(
          () => (this.refreshAgain = true), // created in between: read again
          (e: unknown) => {
            if (zkCode(e) !== ZNONODE) throw e;
          },
        );
      }
      return NO_ELECTION;
    }
  }

  private emit(event: CoordinatorEvent): void {
    if (!this.closed) this.opts.onEvent(event);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}
