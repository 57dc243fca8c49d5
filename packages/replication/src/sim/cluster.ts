/**
 * SimCluster: the simulated world around a group of ReplicaNodes. It is their shell: it carries out each
 * Ready in the documented order (disk, then network, then ZooKeeper, then snapshot reads, then receipts),
 * delivers messages and notifications, ticks every running node once per world tick, and injects faults on
 * demand (crash, restart, pause, partitions). After every step that touches a node it runs the checker.
 *
 * Two faults of its own, drawn from the seed: a slow disk (a Ready is carried out only some ticks after it
 * was taken, while the node keeps stepping on new events, as etcd allows between Ready and Advance; a
 * crash meanwhile loses all of it, since none of it has happened) and clock skew (a node misses ticks, so
 * its timeouts run slow). The core survives both because nothing of a Ready escapes before its persist is
 * done, and because time only ever decides when to give up (liveness), never what is safe.
 */
import assert from 'node:assert/strict';
import type { ReplicaConfig } from '../core/config.js';
import { ReplicaNode } from '../core/node.js';
import type { NodeEvent, NodeId, Ready } from '../core/types.js';
import { formatPosition } from '../core/types.js';
import { Checker } from './checker.js';
import { message, ready, view } from './format.js';
import { SimDisk, type CrashKind } from './disk.js';
import { SimNetwork, type NetworkFaults } from './network.js';
import type { Random } from './random.js';
import { SimZooKeeper, type ZooKeeperTiming } from './zookeeper.js';
import { parseSync } from '../core/sync-mode.js';

/** One machine: its disk outlives its process. */
export interface SimMachine {
  readonly id: NodeId;
  readonly disk: SimDisk;
  /** The running process, or null while crashed. */
  core: ReplicaNode | null;
  paused: boolean;
  /** Cut off from ZooKeeper (but maybe not from its peers). */
  zkCut: boolean;
  /** The master epoch last seen for this process, to notice promotions. */
  seenMasterEpoch: number | null;
  /** A Ready taken but not yet carried out (slow disk), and the tick it will be. */
  pending: { readonly ready: Ready; readonly at: number } | null;
  /** Probability that the node's clock ticks in a world tick (below 1: its timeouts run slow). */
  readonly tickChance: number;
}

/** Everything that shapes a simulated group. */
export interface ClusterOptions {
  readonly replicas: number;
  readonly sync: string;
  readonly logTailEntries: number;
  readonly network: NetworkFaults;
  readonly zookeeper: ZooKeeperTiming;
  /** Probability that a Ready waits for the disk, and for how many ticks at most. */
  readonly diskDelay?: { readonly chance: number; readonly ticksMax: number };
  /** Probability that a node's clock is skewed (misses ticks). */
  readonly clockSkew?: number;
  /** Extra node settings (weights are drawn per node when absent). */
  readonly node?: Partial<ReplicaConfig>;
  /** Receives one line per notable event when set. */
  readonly trace?: (line: string) => void;
  /** With `trace`: also every message delivered and every action of every Ready. */
  readonly verbose?: boolean;
}

/** The simulated world; see the file comment. */
export class SimCluster {
  readonly machines: SimMachine[];
  readonly net: SimNetwork;
  readonly zk: SimZooKeeper;
  readonly checker: Checker;
  now = 0;
  private readonly options: ClusterOptions;
  private readonly rng: Random;
  private readonly configs = new Map<NodeId, ReplicaConfig>();
  /** Machines that lost un-fsynced writes and have not yet recorded `recovering` on disk. */
  private readonly pendingLoss = new Map<NodeId, boolean>();
  private nextWrite = 1;
  /** Number of the newest write that completed (writes are numbered w1, w2, … in the order sent). */
  lastCompletedWrite = 0;
  crashes = 0;

  constructor(rng: Random, options: ClusterOptions) {
    this.options = options;
    this.net = new SimNetwork(rng.fork(1), options.network);
    this.zk = new SimZooKeeper(rng.fork(2), options.zookeeper);
    this.checker = new Checker(parseSync(options.sync));
    const weights = rng.fork(3);
    this.rng = rng.fork(4);
    this.machines = [];
    for (let i = 1; i <= options.replicas; i++) {
      const id = `n${i}`;
      this.configs.set(id, {
        id,
        replicas: options.replicas,
        sync: options.sync,
        logTailEntries: options.logTailEntries,
        securityToken: 'secret',
        weight: weights.int(1, 2),
        ...options.node,
      });
      const tickChance = weights.chance(options.clockSkew ?? 0) ? weights.pick([0.5, 0.8, 0.95]) : 1;
      this.machines.push({
        id, disk: new SimDisk(), core: null, paused: false, zkCut: false, seenMasterEpoch: null, pending: null, tickChance,
      });
    }
    for (const m of this.machines) this.start(m, false);
  }

  machine(id: NodeId): SimMachine {
    const m = this.machines.find((x) => x.id === id);
    assert(m !== undefined, `no node ${id}`);
    return m;
  }

  /** Whether the node's process runs and is not stopped. */
  running(m: SimMachine): boolean {
    return m.core !== null && !m.paused;
  }

  trace(line: string): void {
    this.options.trace?.(`${String(this.now).padStart(4)} ${line}`);
  }

  // ------------------------------------------------------------------ time

  /** One world tick: ZooKeeper, then messages, then every node's tick. */
  tick(): void {
    this.now++;
    this.checker.at(this.now);
    this.zk.tick(this.now, (id) => {
      const m = this.machine(id);
      return this.running(m) && !m.zkCut;
    });
    for (const m of this.machines) {
      if (!this.running(m) || m.zkCut) continue;
      for (const event of this.zk.deliveries(this.now, m.id)) this.deliver(m, event);
    }
    for (const p of this.net.due(this.now)) {
      const m = this.machine(p.to);
      if (m.core === null || !this.net.connected(p.from, p.to)) continue;
      if (m.paused) {
        this.net.defer(this.now, p);
        continue;
      }
      this.deliver(m, { kind: 'peer', from: p.from, message: p.message });
    }
    for (const m of this.machines) {
      if (!this.running(m)) continue;
      if (m.pending !== null && m.pending.at <= this.now) {
        const rd = m.pending.ready;
        m.pending = null;
        this.carryOut(m, rd);
      }
      if (this.rng.chance(m.tickChance)) m.core!.tick();
      this.settle(m);
    }
  }

  /** Steps one node on one event, then carries out its Readies. */
  deliver(m: SimMachine, event: NodeEvent): void {
    if (this.options.verbose === true) {
      const what = event.kind === 'peer' ? `${event.from} ${message(event.message)}` : event.kind === 'coordinator'
        ? `zk view ${view(event.view)}` : event.kind === 'cas-result' ? `zk cas ${event.ok ? 'ok' : 'failed'}` : event.kind;
      this.trace(`${m.id} <- ${what}`);
    }
    m.core!.step(event);
    this.settle(m);
  }

  /** The number the next write will get. */
  get nextWriteNumber(): number {
    return this.nextWrite;
  }

  /** A client sends a write to a node; returns its id. */
  write(id: NodeId): string {
    const m = this.machine(id);
    const wid = `w${this.nextWrite++}`;
    const core = m.core!;
    core.step({ kind: 'write', id: wid, payload: wid });
    if (core.isServing) {
      const last = core.lastPosition;
      this.checker.onWrite(id, wid, last.epoch, last.index);
    }
    this.settle(m);
    return wid;
  }

  /** Acts on every Ready the node has, in order (or leaves one to a slow disk), then checks the invariants. */
  private settle(m: SimMachine): void {
    const core = m.core!;
    while (m.pending === null && core.hasReady()) {
      const rd = core.ready();
      const delay = this.options.diskDelay;
      if (delay !== undefined && this.rng.chance(delay.chance)) {
        m.pending = { ready: rd, at: this.now + this.rng.int(1, delay.ticksMax) };
        break;
      }
      this.carryOut(m, rd);
    }
    if (m.pending === null) {
      const disk = m.disk.last;
      const log = core.lastPosition;
      assert(disk.epoch === log.epoch && disk.index === log.index,
        `${m.id}: core at ${formatPosition(log)} but disk at ${formatPosition(disk)}`);
    }
    const me = core.masterEpoch;
    if (me !== null && me !== m.seenMasterEpoch) {
      this.trace(`${m.id} elected master of epoch ${me} at ${formatPosition(core.lastPosition)}`);
      this.checker.onPromotion(m.id, me, m.disk.entries.slice());
    }
    m.seenMasterEpoch = me;
    this.check();
  }

  /** Carries out one Ready in order and tells the core it is done. */
  private carryOut(m: SimMachine, rd: Ready): void {
    const core = m.core!;
    this.act(m, rd);
    if (m.disk.hard.recovering) this.pendingLoss.delete(m.id); // hard state is fsynced with its Ready
    core.advance(rd);
    for (const read of rd.snapshotReads) {
      // The store answers at once here; a real one streams from a LevelDB snapshot on a later turn.
      const snap = m.disk.readSnapshot();
      core.step({ kind: 'snapshot-read', id: read.id, through: snap.through, chunks: snap.chunks });
    }
  }

  private act(m: SimMachine, rd: Ready): void {
    if (this.options.verbose === true) for (const line of ready(m.id, rd)) this.trace(line);
    m.disk.write(rd.persist);
    for (const env of rd.send) this.net.send(this.now, { from: m.id, to: env.to, message: env.message });
    for (const req of rd.coordinator) this.zk.request(this.now, m.id, req);
    for (const id of rd.complete) {
      this.checker.onComplete(m.id, id);
      this.lastCompletedWrite = Math.max(this.lastCompletedWrite, Number(id.slice(1)));
    }
    if (rd.role !== null) this.trace(`${m.id} role ${rd.role.role} epoch ${rd.role.epoch}: ${rd.role.reason}`);
  }

  /**
   * Runs the checker over every running process whose disk has caught up with it. While a Ready is on its
   * way to a slow disk, the disk may still hold entries the core has already replaced; that node is
   * checked once its disk has caught up (its rewrites are remembered until then).
   */
  check(): void {
    const snapshots = [];
    for (const m of this.machines) {
      if (m.core === null || m.pending !== null) continue;
      snapshots.push({
        id: m.id,
        // What survives a crash (hard state is always fsynced with its Ready).
        epoch: m.disk.hard.epoch,
        commitIndex: m.core.commitIndex,
        entries: m.disk.entries,
        rewrittenFrom: m.disk.takeRewrite(),
      });
    }
    this.checker.afterStep(snapshots);
  }

  // ------------------------------------------------------------------ faults

  private start(m: SimMachine, lostWrites: boolean): void {
    m.core = new ReplicaNode(this.configs.get(m.id)!, m.disk.restore(lostWrites));
    m.seenMasterEpoch = null;
    this.checker.onRestart(m.id);
    this.settle(m);
  }

  /** Stops a node's process; a power loss also drops what it had not fsynced. */
  crash(id: NodeId, kind: CrashKind): void {
    const m = this.machine(id);
    if (m.core === null) return;
    m.core = null;
    m.paused = false;
    m.pending = null; // a Ready the disk had not got to never happened
    this.zk.processDied(id);
    const lost = m.disk.crash(kind);
    if (lost) this.pendingLoss.set(id, true);
    this.crashes++;
    this.trace(`${id} ${kind === 'kill' ? 'killed' : 'lost power'}${lost ? ' (lost unsynced writes)' : ''}`);
  }


  /** Starts a crashed node again from its disk. */
  restart(id: NodeId): void {
    const m = this.machine(id);
    if (m.core !== null) return;
    // Still reported on every restart until the node's hard state says `recovering` on disk: a crash
    // before that Ready was written must not make the loss forgotten (the real shell keeps the machine's
    // boot id next to the store, and re-detects the loss until the flag is written).
    const lost = this.pendingLoss.get(id) ?? false;
    this.trace(`${id} restarts at ${formatPosition(m.disk.last)}${lost ? ', recovering' : ''}`);
    this.start(m, lost);
  }

  /** Whether a node is recovering, or would be once restarted. */
  recovering(id: NodeId): boolean {
    const m = this.machine(id);
    return m.core !== null ? m.core.hardState.recovering : m.disk.hard.recovering || (this.pendingLoss.get(id) ?? false);
  }

  pause(id: NodeId): void {
    const m = this.machine(id);
    if (m.core !== null) m.paused = true;
  }

  resume(id: NodeId): void {
    this.machine(id).paused = false;
  }

  cutZooKeeper(id: NodeId, cut: boolean): void {
    this.machine(id).zkCut = cut;
  }

  /** Nodes that currently serve as master. */
  serving(): SimMachine[] {
    return this.machines.filter((m) => m.core !== null && !m.paused && m.core.isServing);
  }
}
