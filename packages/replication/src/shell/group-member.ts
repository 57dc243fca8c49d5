/**
 * GroupMember: one broker's membership in a replicated LevelDB group, the IO shell around the pure
 * ReplicaNode. It owns the member's LevelStore (through ReplicaDisk), its ZooKeeper session
 * (ZkCoordinator), its replication connections (PeerTransport) and a tick timer, and runs the core's Ready
 * loop in the documented order: persist, send, coordinator, snapshot reads, completions, role.
 *
 * Towards the broker it offers one thing: when this member becomes a serving master it emits `master` with a
 * Store (MasterStore) whose appends are replicated writes; when it stops being master it emits `demoted`.
 * The broker never learns about ZooKeeper or slaves (ARCHITECTURE.md: "broker knows nothing of ZooKeeper");
 * `cli` starts and stops it on those events.
 *
 * Becoming master, in order: the core starts serving once replicas/2 slaves hold everything it held when
 * elected; the shell then writes an empty entry of its own epoch and waits until it is committed (Raft §8:
 * earlier epochs' entries are committed only with one of the new master's), applies everything through it,
 * reloads the store's recovered state and only then hands the store to a broker. So a broker always starts
 * on committed state, and slaves apply only committed entries: no member ever has to undo applied state.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { LevelStore, StoreError, type AppendResult, type LogEntry, type RecoveredState, type Store, type StoredRecord, type StoreStats } from '@mini-amq/store';
import { ReplError } from '../core/errors.js';
import { TICK_MS } from '../core/limits.js';
import type { ReplicaConfig } from '../core/config.js';
import { ReplicaNode, type NodeStatus } from '../core/node.js';
import { parseSync } from '../core/sync-mode.js';
import type { CoordinatorView, Envelope, NodeEvent, NodeId, Ready } from '../core/types.js';
import { formatPosition } from '../core/types.js';
import { packPayload, REPLICATION_LOG_DIRECTORY, ReplicaDisk } from './replica-disk.js';
import { PeerTransport } from './peer-transport.js';
import { ZkCoordinator } from './zk-coordinator.js';

/** The member's log lines; pino's logger fits. */
export interface MemberLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** ActiveMQ's replicatedLevelDB settings (ARCHITECTURE.md), resolved. */
export interface GroupMemberOptions {
  /** This member's id in the group (the broker's name); unique within the group. */
  readonly nodeId: NodeId;
  /** The member's LevelDB directory. */
  readonly directory: string;
  readonly replicas: number;
  readonly zkAddress: string;
  readonly zkPath: string;
  /** ActiveMQ's zkPassword: digest authentication with ZooKeeper, and the group's znodes readable only so. */
  readonly zkPassword?: string | null;
  readonly zkSessionTimeoutMs: number;
  /** `tcp://host:port` to listen on for slaves; port 0 picks one. */
  readonly bind: string;
  /** The host others dial to reach `bind`. */
  readonly hostname: string;
  readonly weight: number;
  readonly securityToken: string;
  readonly sync: string;
  /** Log entries a master keeps in memory for slaves to catch up from; further behind gets a snapshot. */
  readonly logTailEntries?: number;
  readonly logger: MemberLogger;
}

/**
 * Entries a master keeps in memory for catching up slaves (each is one broker write with its bodies). A
 * slave further behind gets a snapshot. 10,000 entries of 1 KiB messages is ~10 MiB.
 */
export const MEMBER_LOG_TAIL_ENTRIES_DEFAULT = 10_000;

/**
 * Ticks (30 s) a master waits for a slave to acknowledge a snapshot before it reads and sends another.
 * The core's default (0.8 s) suits the simulation's lossy network; over TCP a snapshot is not lost but cut
 * off, and a cut link makes the slave sync again anyway, while a large one (100,000 messages is ~50 MB)
 * takes seconds to send and install: retrying it sooner would start it over forever.
 */
export const MEMBER_SNAPSHOT_RETRY_TICKS = 300;

/** Writes of a master waiting for replication at once; past it the broker's appends fail (flow control holds it back well before). */
export const MEMBER_PENDING_WRITES_MAX = 100_000;

export interface GroupMemberEvents {
  /** Start a broker on `store`: this member is the group's serving master of `epoch`. */
  master: [store: Store, epoch: number];
  /** Stop the broker started on `master`: this member is no longer master. */
  demoted: [reason: string];
}

/** A broker write waiting for replication. */
interface PendingWrite {
  readonly id: string;
  readonly index: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** The member; see the file comment. */
export class GroupMember extends EventEmitter<GroupMemberEvents> {
  private readonly opts: GroupMemberOptions;
  private readonly log: MemberLogger;
  private readonly disk: ReplicaDisk;
  private node!: ReplicaNode;
  private transport!: PeerTransport;
  private coordinator!: ZkCoordinator;
  private view: CoordinatorView | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pumping = false;
  private applying: Promise<void> | null = null;
  private closed = false;
  private readonly localMode: boolean;
  /** While the node is being rebuilt from the disk (restartNode), nothing reaches it. */
  private restarting = false;

  /** Writes in log order. */
  /** Writes waiting for completion, by id, in log order. */
  private readonly pending = new Map<string, PendingWrite>();
  /** Readers waiting for the applied state to reach an index (MasterStore.readQueue). */
  private appliedWaiters: Array<{ readonly index: number; readonly resolve: () => void; readonly reject: (error: Error) => void }> = [];
  /** Log index of the last write submitted. */
  private lastSubmitted = 0;
  private nextWriteId = 1;
  /** Highest index the core completed (local_* masters apply through it). */
  private completedThrough = 0;
  /** The master store handed to the broker for the current mastership, or null. */
  private masterStore: MasterStore | null = null;
  /** Index of the empty entry that opens a mastership, while waiting for it to commit. */
  private openingIndex: number | null = null;
  private lastDetail = '';

  private constructor(opts: GroupMemberOptions, store: LevelStore, log: LevelStore) {
    super();
    this.opts = opts;
    this.log = opts.logger;
    const rule = parseSync(opts.sync);
    this.disk = new ReplicaDisk(store, log, rule.masterDisk || rule.slaveDisk);
    this.localMode = !rule.remote;
  }

  /** Opens the store, listens for slaves, joins ZooKeeper. REPL_CONFIG, store and listen errors reject. */
  static async start(opts: GroupMemberOptions): Promise<GroupMember> {
    const rule = parseSync(opts.sync);
    // The shell asks for fsyncs where the core says so; other batches need none.
    const store = new LevelStore({ directory: opts.directory, sync: false, logTailEntriesMax: 0 });
    const recovered = await store.open();
    const log = new LevelStore({ directory: join(opts.directory, REPLICATION_LOG_DIRECTORY), sync: false, logTailEntriesMax: 0 });
    try {
      await log.open();
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
    const member = new GroupMember(opts, store, log);
    try {
      const restored = await member.disk.restore(recovered, !(rule.masterDisk && rule.slaveDisk));
      member.transport = await PeerTransport.open({
        nodeId: opts.nodeId,
        securityToken: opts.securityToken,
        bind: opts.bind,
        epoch: () => member.node?.epoch ?? 0,
        addressOf: (peer) => member.view?.members.filter((m) => m.id === peer).sort((a, b) => b.seq - a.seq)[0]?.address,
        onMessage: (from, message) => member.step({ kind: 'peer', from, message }),
        onPeerLink: (peer) => member.step({ kind: 'peer-link', peer }),
        log: (line) => member.log.warn({}, line),
      });
      const address = `tcp://${opts.hostname}:${member.transport.port}`;
      member.node = new ReplicaNode(member.nodeConfig(), restored.node);
      member.coordinator = new ZkCoordinator({
        connect: opts.zkAddress,
        zkPath: opts.zkPath,
        password: opts.zkPassword ?? null,
        sessionTimeoutMs: opts.zkSessionTimeoutMs,
        onEvent: (event) => member.step(event),
        log: (line) => member.log.warn({}, line),
      });
      member.log.info({ position: restored.node.log.base, held: restored.node.log.entries.length, address, epoch: restored.node.hard.epoch },
        `replication: member ${opts.nodeId} of ${opts.zkPath} at ${formatPosition(member.node.lastPosition)}, listening for slaves on ${address}`);
      member.timer = setInterval(() => {
        if (member.restarting) return;
        member.node.tick();
        member.pump();
      }, TICK_MS);
      member.pump();
      return member;
    } catch (error) {
      await member.transport?.close().catch(() => {});
      await member.disk.close().catch(() => {});
      throw error;
    }
  }

  /** Where this member listens for slaves. */
  get replicationPort(): number {
    return this.transport.port;
  }

  /** The core's status plus what a master knows of its slaves, for `mini-amq status` and logs. */
  status(): NodeStatus & { readonly applied: number; readonly slaves: ReturnType<ReplicaNode['slaves']>; readonly members: number } {
    return {
      ...this.node.status(),
      applied: this.disk.appliedPosition.index,
      slaves: this.node.slaves(),
      members: this.view?.members.length ?? 0,
    };
  }

  /** Leaves the group: fails pending writes, ends the ZooKeeper session, closes links and the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.endMastership('member closing');
    await this.coordinator.close();
    await this.transport.close();
    while (this.pumping || this.applying !== null) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.disk.close();
  }

  // ------------------------------------------------------------------ the Ready loop

  private step(event: NodeEvent): void {
    if (this.closed || this.restarting) return;
    if (event.kind === 'coordinator') this.view = event.view;
    this.node.step(event);
    this.pump();
  }

  /** Carries out Readies one at a time; steps arriving meanwhile accumulate in the next one. */
  private pump(): void {
    if (this.pumping || this.closed || this.restarting) return;
    this.pumping = true;
    void this.drain().then(
      () => {
        this.pumping = false;
        this.afterReadies();
      },
      (error: unknown) => {
        this.pumping = false;
        this.crash(error);
      },
    );
  }

  private async drain(): Promise<void> {
    while (this.node.hasReady() && !this.closed && !this.restarting) {
      const rd = this.node.ready();
      // 1. persist (and fsync when asked) before anything leaves this process; 2. send. Except that a
      // master may send its new entries while it writes them (Raft §10.2.1, as etcd does): it counts
      // itself as holding them only once advance() says they are written, so nothing completes earlier,
      // and the slaves write their copies in parallel with its own.
      const sendFirst = this.node.masterEpoch !== null && rd.persist.ops.every((op) => op.kind === 'append' || op.kind === 'compact');
      if (sendFirst) this.sendAll(rd);
      // 5 (early). A completion is about writes already written here and held by slaves (the core counts
      // only what earlier Readies made durable): it need not wait for this Ready's own writes.
      this.settle(rd);
      if (rd.persist.ops.length > 0 || rd.persist.sync) await this.disk.persist(rd.persist.ops, rd.persist.sync);
      if (!sendFirst) this.sendAll(rd);
      this.finish(rd);
      this.node.advance(rd);
      // Under steady load the loop may not end for a while: commits must be applied meanwhile.
      this.scheduleApply();
    }
  }

  /** Steps 3, 4 and 6 of a Ready, once its writes are done and it has been sent. */
  private finish(rd: Ready): void {
    // 3. coordinator
    for (const req of rd.coordinator) this.coordinator.request(req);
    // 4. snapshot reads: answered on a later turn, from a LevelDB snapshot of the applied state.
    for (const read of rd.snapshotReads) {
      this.log.info({ replication: this.statusFields() }, `${read.peer} is behind the log tail kept: sending it a snapshot of the store`);
      this.disk.readSnapshot().then(
        (snap) => this.step({ kind: 'snapshot-read', id: read.id, through: snap.through, chunks: snap.chunks }),
        (error: unknown) => this.log.error({ err: error }, `reading a snapshot for ${read.peer} failed`),
      );
    }
    // 6. role
    if (rd.role !== null) this.onRole(rd.role.role, rd.role.epoch, rd.role.masterId, rd.role.reason);
  }

  /**
   * Step 5: completions and failures. A completed write is as safe as its sync mode promises, so its
   * receipt may go now; the master applies it to its own store after (readQueue waits for that).
   */
  private settle(rd: Ready): void {
    for (const id of rd.complete) {
      const w = this.pending.get(id);
      if (w === undefined) continue;
      this.pending.delete(id);
      this.completedThrough = Math.max(this.completedThrough, w.index);
      w.resolve();
    }
    for (const f of rd.fail) {
      const w = this.pending.get(f.id);
      if (w === undefined) continue;
      this.pending.delete(f.id);
      w.reject(new ReplError(f.code, f.code === 'REPL_FENCED' ? 'this broker stopped being master before the write was replicated' : 'this broker is not the master'));
    }
  }

  private sendAll(rd: Ready): void {
    for (const env of coalesceAppends(rd.send)) this.transport.send(env.to, env.message);
  }

  /** After the Readies: apply what may be applied, note status changes. */
  private afterReadies(): void {
    const detail = this.node.status().detail;
    if (detail !== this.lastDetail) {
      this.lastDetail = detail;
      this.log.info({ replication: this.statusFields() }, detail);
    }
    this.scheduleApply();
  }

  private statusFields(): object {
    const s = this.node.status();
    return { role: s.role, epoch: s.epoch, master: s.masterId, position: formatPosition(s.position), commit: s.commitIndex };
  }

  private applyTarget(): number {
    const commit = this.node.commitIndex;
    if (this.localMode && this.node.isServing) return Math.max(commit, this.completedThrough);
    return commit;
  }

  private scheduleApply(): void {
    if (this.applying !== null || this.closed) return;
    const target = Math.min(this.applyTarget(), this.disk.lastIndex);
    if (target <= this.disk.appliedPosition.index && !this.readyToOpen()) return;
    this.applying = (async () => {
      await this.disk.applyThrough(target);
      this.settleApplied();
      if (this.readyToOpen()) await this.openMastership();
    })().then(
      () => {
        this.applying = null;
        this.scheduleApply();
      },
      (error: unknown) => {
        this.applying = null;
        this.crash(error);
      },
    );
  }

  private settleApplied(): void {
    if (this.appliedWaiters.length === 0) return;
    const applied = this.disk.appliedPosition.index;
    const still = [];
    for (const w of this.appliedWaiters) {
      if (w.index <= applied) w.resolve();
      else still.push(w);
    }
    this.appliedWaiters = still;
  }

  /** Resolves once every write submitted so far is applied to this member's store. */
  whenAllApplied(): Promise<void> {
    const index = this.lastSubmitted;
    if (index <= this.disk.appliedPosition.index) return Promise.resolve();
    return new Promise((resolve, reject) => this.appliedWaiters.push({ index, resolve, reject }));
  }

  // ------------------------------------------------------------------ roles

  private onRole(role: 'master' | 'slave' | 'fenced', epoch: number, masterId: NodeId | null, reason: string): void {
    const position = formatPosition(this.node.lastPosition);
    if (role === 'master') {
      this.log.info({ replication: this.statusFields() }, `elected master of epoch ${epoch} at position ${position}; committing the epoch before serving clients`);
      // The opening entry: once it commits, so has everything before it.
      this.openingIndex = this.submit([], null);
      return;
    }
    this.endMastership(reason);
    if (role === 'slave') {
      this.log.info({ replication: this.statusFields() }, `slave of ${masterId} at position ${position} (epoch ${epoch})`);
    } else {
      this.log.warn({ replication: this.statusFields() }, `no longer master of epoch ${epoch}: ${reason}`);
      if (this.localMode) void this.restartNode();
    }
  }

  private readyToOpen(): boolean {
    return this.openingIndex !== null && this.node.isServing && this.disk.appliedPosition.index >= this.openingIndex;
  }

  /** Hands a store to a broker: everything through the opening entry is applied and committed. */
  private async openMastership(): Promise<void> {
    this.openingIndex = null;
    const recovered = await this.disk.levelStore.reload();
    if (!this.node.isServing || this.closed) return;
    const store = new MasterStore(this, this.disk.levelStore, recovered);
    this.masterStore = store;
    const epoch = this.node.masterEpoch!;
    this.log.info({ replication: this.statusFields() }, `master of epoch ${epoch}: serving clients`);
    this.emit('master', store, epoch);
  }

  private endMastership(reason: string): void {
    this.openingIndex = null;
    const store = this.masterStore;
    if (store === null) return;
    this.masterStore = null;
    store.fence(reason);
    const pending = [...this.pending.values()];
    this.pending.clear();
    // One error for all: they fail for the same reason, and a stack trace per write costs more than the write.
    const error = new ReplError('REPL_FENCED', `no longer master: ${reason}`);
    for (const w of pending) w.reject(error);
    for (const w of this.appliedWaiters.splice(0)) w.reject(error);
    this.emit('demoted', reason);
  }

  /**
   * A local_* master may have applied entries no slave holds; a later master may not share them. Starting the
   * node again from the disk makes its applied base what it compares, so that case becomes a snapshot.
   */
  private async restartNode(): Promise<void> {
    this.restarting = true;
    while (this.pumping || this.applying !== null) await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.closed) return;
    const recovered = await this.disk.levelStore.reload();
    const restored = await this.disk.restore(recovered, false);
    const old = this.node;
    this.node = new ReplicaNode(this.nodeConfig(), { ...restored.node, hard: old.hardState });
    this.completedThrough = 0;
    this.restarting = false;
    this.pump();
  }

  /** The core's settings: this member's, with the address others dial (the port its transport got). */
  private nodeConfig(): ReplicaConfig {
    const o = this.opts;
    return {
      id: o.nodeId, address: `tcp://${o.hostname}:${this.transport.port}`, weight: o.weight, replicas: o.replicas, sync: o.sync,
      securityToken: o.securityToken, logTailEntries: o.logTailEntries ?? MEMBER_LOG_TAIL_ENTRIES_DEFAULT,
      ticks: { snapshotRetryTicks: MEMBER_SNAPSHOT_RETRY_TICKS },
    };
  }

  // ------------------------------------------------------------------ writes

  /** Hands a write to the core; returns its log index. `done` is settled once it completes (or fails). */
  submit(payload: readonly LogEntry[], done: { resolve: () => void; reject: (error: Error) => void } | null): number {
    if (this.pending.size >= MEMBER_PENDING_WRITES_MAX) {
      throw new StoreError('STORE_WRITE_FAILED', `more than ${MEMBER_PENDING_WRITES_MAX} writes wait for replication`);
    }
    const id = String(this.nextWriteId++);
    const before = this.node.lastPosition.index;
    this.node.step({ kind: 'write', id, payload: packPayload(payload) });
    const index = this.node.lastPosition.index;
    if (!this.node.isServing || index === before) {
      // The core refused it (its fail list says REPL_NOT_MASTER): nothing of it exists.
      this.pump();
      throw new ReplError('REPL_NOT_MASTER', `${this.opts.nodeId} is not the serving master`);
    }
    this.disk.remember(index, payload);
    this.pending.set(id, { id, index, resolve: done?.resolve ?? (() => {}), reject: done?.reject ?? (() => {}) });
    this.lastSubmitted = index;
    this.pump();
    return index;
  }

  private crash(error: unknown): void {
    // The disk and the core may disagree now; only a restart (from the disk) is safe.
    this.log.error({ err: error }, 'replication failed; this member stops (restart it to rejoin the group)');
    this.endMastership('replication failed');
    void this.close();
  }
}

/**
 * Merges consecutive APPENDs to the same slave into one (the master pipelines one per write): the later one
 * continues the earlier (its prevIndex is the earlier's last entry), and the slave would apply the pair
 * exactly as the one, since a commit index only grows and it commits no further than what it matched.
 * One frame instead of hundreds per turn is most of what replication costs a master in CPU.
 */
export function coalesceAppends(envelopes: readonly Envelope[]): Envelope[] {
  const out: Envelope[] = [];
  const lastAppend = new Map<NodeId, number>();
  for (const env of envelopes) {
    const m = env.message;
    if (m.type === 'APPEND') {
      const at = lastAppend.get(env.to);
      const prev = at === undefined ? undefined : out[at]!.message;
      if (prev !== undefined && prev.type === 'APPEND' && prev.epoch === m.epoch && prev.floor === m.floor && m.entries.length > 0
        && prev.entries.length > 0 && m.prevIndex === prev.entries[prev.entries.length - 1]!.index
        && prev.entries.length + m.entries.length <= APPEND_COALESCE_ENTRIES_MAX) {
        out[at!] = { to: env.to, message: { ...prev, entries: [...prev.entries, ...m.entries], commitIndex: Math.max(prev.commitIndex, m.commitIndex) } };
        continue;
      }
      lastAppend.set(env.to, out.length);
    } else {
      // Anything else to this peer keeps its place: an APPEND after it is not merged across it.
      lastAppend.delete(env.to);
    }
    out.push(env);
  }
  return out;
}

/** Entries one merged APPEND may hold; framing.ts splits a large one into frames of about 1 MiB anyway. */
export const APPEND_COALESCE_ENTRIES_MAX = 4096;

/**
 * The Store a master's broker writes through: each append is one replicated write, numbered in the store's
 * own index space up front (the store applies writes in log order, so the numbers are known when written);
 * `durable` resolves once the write is replicated as the sync mode asks (its completion); the member applies
 * it to its LevelStore just after, and reads wait until everything submitted before them is applied.
 */
export class MasterStore implements Store {
  private nextStoreIndex: number;
  private fenced: string | null = null;

  constructor(private readonly member: GroupMember, private readonly level: LevelStore, private readonly recovered: RecoveredState) {
    this.nextStoreIndex = recovered.lastIndex + 1;
  }

  open(): Promise<RecoveredState> {
    return Promise.resolve(this.recovered);
  }

  append(entries: readonly LogEntry[]): AppendResult {
    if (this.fenced !== null) throw new ReplError('REPL_FENCED', `this broker is no longer master: ${this.fenced}`);
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const durable = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    durable.catch(() => {});
    this.member.submit(entries, { resolve, reject });
    const firstIndex = this.nextStoreIndex;
    this.nextStoreIndex += entries.length;
    return { firstIndex, durable };
  }

  async readQueue(queue: string, priority: number, afterSeq: number, limit: number): Promise<StoredRecord[]> {
    // A write is durable (replicated) before this member has applied it to its own store: what the broker
    // reads back must be there first.
    await this.member.whenAllApplied();
    return this.level.readQueue(queue, priority, afterSeq, limit);
  }

  /** The member owns the LevelStore: a broker closing does not close it. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  stats(): StoreStats {
    const s = this.level.stats();
    return { ...s, lastIndex: this.nextStoreIndex - 1, pendingEntries: this.nextStoreIndex - 1 - s.lastIndex };
  }

  /** @internal The member stopped being master: every later append fails. */
  fence(reason: string): void {
    this.fenced = reason;
  }
}
