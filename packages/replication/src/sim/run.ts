/**
 * One simulated run, entirely determined by its seed (TigerBeetle's VOPR shape):
 * seed → a group (3 or 5 nodes, a sync mode, a log tail, network and ZooKeeper timing) and a fault mix →
 * a safety phase (faults on; clients write to whoever serves as master) → a liveness phase (everything
 * healed: a quorum must elect a master and complete a new write within a bound) → the checker after every
 * step of both. A failure names the seed, and `npm run sim -- --seed N --trace` replays it step by step.
 *
 * Faults (drawn each tick from their own stream of the seed): kill or power loss of a node (often the
 * current master) and its restart a while later, pauses (SIGSTOP) past the session timeout and resumes,
 * partitions between pairs of nodes (both ways or one way), between a node and all its peers, and between
 * a node and ZooKeeper, and their healing; plus the network's, ZooKeeper's and the disk's own (see their
 * files), and slow disks and skewed clocks (cluster.ts). Power losses never
 * leave more than replicas/2 nodes recovering at once: the *_mem modes' stated assumption that a majority
 * does not lose its memory together (with more, the group stays safe but cannot elect until an operator acts).
 */
import type { NodeFlaws } from '../core/context.js';
import { quorumOf } from '../core/sync-mode.js';
import { SYNC_MODES } from '../core/sync-mode.js';
import { SimCluster, type ClusterOptions, type SimMachine } from './cluster.js';
import { Random } from './random.js';

/** Knobs of a run besides its seed. */
export interface RunOptions {
  /** Protocol weakenings (tests that prove the checker can fail). */
  readonly flaws?: NodeFlaws;
  /** Force a sync mode instead of drawing one. */
  readonly sync?: string;
  /** Force the group size instead of drawing one. */
  readonly replicas?: number;
  /** Ticks with faults on. */
  readonly safetyTicks?: number;
  /** Ticks after healing within which a new write must complete. */
  readonly livenessTicks?: number;
  readonly trace?: (line: string) => void;
  /** With `trace`: every message and every action too. */
  readonly verbose?: boolean;
  /** Called with the world when the run ends (for debugging and tests). */
  readonly inspect?: (cluster: SimCluster) => void;
}

/** What a run found. */
export interface RunResult {
  readonly seed: number;
  readonly violation: string | null;
  readonly replicas: number;
  readonly sync: string;
  readonly ticks: number;
  readonly writes: number;
  readonly completed: number;
  readonly elections: number;
  readonly crashes: number;
  readonly messages: number;
}

/** Default length of the safety phase, in ticks. */
export const SAFETY_TICKS = 120;
/** A healed group must complete a new write within this many ticks (sessions of dead nodes expire, an election, catch-up). */
export const LIVENESS_TICKS = 250;

type Fault = 'kill' | 'power' | 'pause' | 'partition' | 'one-way' | 'isolate' | 'zk-cut';
const FAULTS: readonly Fault[] = ['kill', 'power', 'pause', 'partition', 'partition', 'one-way', 'isolate', 'zk-cut'];

/** Draws the group's shape from the seed. */
function shape(rng: Random, options: RunOptions): ClusterOptions {
  const replicas = options.replicas ?? (rng.chance(0.25) ? 5 : 3);
  const sync = options.sync ?? rng.pick(SYNC_MODES);
  const delayMax = rng.int(1, 4);
  return {
    replicas,
    sync,
    logTailEntries: rng.int(3, 20),
    network: {
      delayMin: 1,
      delayMax,
      loss: rng.pick([0, 0.01, 0.05, 0.15]),
      duplicate: rng.pick([0, 0.01, 0.05]),
    },
    zookeeper: { sessionTimeout: rng.int(6, 14), delayMin: 1, delayMax: rng.int(1, 3) },
    diskDelay: rng.chance(0.3) ? { chance: rng.pick([0.1, 0.3, 0.6]), ticksMax: rng.int(1, 3) } : { chance: 0, ticksMax: 1 },
    clockSkew: rng.pick([0, 0, 0.3]),
    node: options.flaws === undefined ? {} : { flaws: options.flaws },
    ...(options.trace === undefined ? {} : { trace: options.trace }),
    ...(options.verbose === true ? { verbose: true } : {}),
  };
}

/** Runs one seed; see the file comment. */
export function runSeed(seed: number, options: RunOptions = {}): RunResult {
  const root = new Random(seed);
  const shaped = shape(root.fork(10), options);
  const faults = root.fork(11);
  const clients = root.fork(12);
  const trace = options.trace;
  trace?.(`seed ${seed}: ${shaped.replicas} nodes, sync=${shaped.sync}, tail=${shaped.logTailEntries}, ` +
    `net delay 1-${shaped.network.delayMax} loss ${shaped.network.loss} dup ${shaped.network.duplicate}, ` +
    `session timeout ${shaped.zookeeper.sessionTimeout}, disk delay ${shaped.diskDelay?.chance ?? 0}`);
  const cluster = new SimCluster(root.fork(13), shaped);
  const safetyTicks = options.safetyTicks ?? SAFETY_TICKS;
  const livenessTicks = options.livenessTicks ?? LIVENESS_TICKS;
  const faultRate = faults.pick([0.03, 0.06, 0.1]);
  const writeRate = clients.pick([0.3, 0.6, 0.9]);
  const recoveries = new Map<number, Array<() => void>>();
  const later = (ticks: number, fn: () => void): void => {
    const at = cluster.now + ticks;
    const list = recoveries.get(at);
    if (list === undefined) recoveries.set(at, [fn]);
    else list.push(fn);
  };
  let writes = 0;
  let firstLivenessWrite = Infinity;
  let livenessMet = false;
  const writeSome = (): void => {
    if (!clients.chance(writeRate)) return;
    const serving = cluster.serving();
    if (serving.length === 0) return;
    const n = clients.int(1, 3);
    for (let i = 0; i < n; i++) {
      cluster.write(clients.pick(serving).id);
      writes++;
    }
  };

  const result = (violation: string | null): RunResult => {
    options.inspect?.(cluster);
    return summary(violation);
  };
  const summary = (violation: string | null): RunResult => ({
    seed,
    violation,
    replicas: shaped.replicas,
    sync: shaped.sync,
    ticks: cluster.now,
    writes,
    completed: cluster.checker.completedCount,
    elections: cluster.zk.elections,
    crashes: cluster.crashes,
    messages: cluster.net.sent,
  });

  try {
    for (let t = 0; t < safetyTicks && cluster.checker.violation === null; t++) {
      cluster.tick();
      for (const fn of recoveries.get(cluster.now) ?? []) fn();
      recoveries.delete(cluster.now);
      if (faults.chance(faultRate)) inject(cluster, faults, later);
      writeSome();
    }
    if (cluster.checker.violation !== null) return result(cluster.checker.violation);

    // Liveness: heal everything, then a new write must complete.
    trace?.('---- healing everything: liveness phase');
    cluster.net.healAll();
    cluster.net.faults = { delayMin: 1, delayMax: 2, loss: 0, duplicate: 0 };
    for (const m of cluster.machines) {
      cluster.resume(m.id);
      cluster.cutZooKeeper(m.id, false);
      cluster.restart(m.id);
    }
    const healedAt = cluster.now;
    firstLivenessWrite = cluster.nextWriteNumber;
    while (cluster.now - healedAt < livenessTicks && cluster.checker.violation === null) {
      cluster.tick();
      writeSome();
      if (cluster.lastCompletedWrite >= firstLivenessWrite) {
        livenessMet = true;
        break;
      }
    }
    if (cluster.checker.violation !== null) return result(cluster.checker.violation);
    if (!livenessMet) {
      const status = cluster.machines.map((m) => {
        const s = m.core?.status();
        return s === undefined ? `${m.id}: down` : `${m.id}: ${s.role} e${s.epoch} ${s.detail}`;
      });
      return result(`liveness: no new write completed within ${livenessTicks} ticks of healing; ${status.join(' | ')}`);
    }
    return result(null);
  } catch (error) {
    return result(`tick ${cluster.now}: ${(error as Error).stack ?? String(error)}`);
  }
}

/** Draws and applies one fault, scheduling its healing. */
function inject(cluster: SimCluster, rng: Random, later: (ticks: number, fn: () => void) => void): void {
  const up = cluster.machines.filter((m) => m.core !== null);
  if (up.length === 0) return;
  const serving = cluster.serving();
  // Half the time aim at the master: that is where the interesting failures are.
  const target: SimMachine = serving.length > 0 && rng.chance(0.5) ? rng.pick(serving) : rng.pick(up);
  const id = target.id;
  const fault = rng.pick(FAULTS);
  const trace = (what: string): void => cluster.trace(`fault: ${what}`);
  switch (fault) {
    case 'kill':
    case 'power': {
      let kind: 'kill' | 'power' = fault;
      if (kind === 'power' && wouldStrandQuorum(cluster, target)) kind = 'kill';
      cluster.crash(id, kind);
      later(rng.int(2, 40), () => cluster.restart(id));
      return;
    }
    case 'pause':
      trace(`pause ${id}`);
      cluster.pause(id);
      later(rng.int(1, 30), () => {
        trace(`resume ${id}`);
        cluster.resume(id);
      });
      return;
    case 'partition': {
      const other = rng.pick(cluster.machines.filter((m) => m.id !== id));
      trace(`partition ${id} from ${other.id}`);
      cluster.net.partition(id, other.id);
      later(rng.int(3, 40), () => {
        trace(`heal ${id}-${other.id}`);
        cluster.net.heal(id, other.id);
      });
      return;
    }
    case 'one-way': {
      const other = rng.pick(cluster.machines.filter((m) => m.id !== id));
      const [from, to] = rng.chance(0.5) ? [id, other.id] : [other.id, id];
      trace(`block messages from ${from} to ${to}`);
      cluster.net.block(from, to);
      later(rng.int(3, 40), () => {
        trace(`unblock ${from} -> ${to}`);
        cluster.net.unblock(from, to);
      });
      return;
    }
    case 'isolate': {
      // Cut from every peer and from ZooKeeper: a master in a minority partition.
      const others = cluster.machines.filter((m) => m.id !== id).map((m) => m.id);
      const withZk = rng.chance(0.5);
      trace(`isolate ${id} from its peers${withZk ? ' and ZooKeeper' : ''}`);
      for (const o of others) cluster.net.partition(id, o);
      if (withZk) cluster.cutZooKeeper(id, true);
      later(rng.int(3, 40), () => {
        trace(`heal isolation of ${id}`);
        for (const o of others) cluster.net.heal(id, o);
        if (withZk) cluster.cutZooKeeper(id, false);
      });
      return;
    }
    case 'zk-cut':
      trace(`cut ${id} from ZooKeeper`);
      cluster.cutZooKeeper(id, true);
      later(rng.int(2, 40), () => {
        trace(`reconnect ${id} to ZooKeeper`);
        cluster.cutZooKeeper(id, false);
      });
      return;
  }
}

/** Whether a power loss of `target` could leave fewer than a quorum of nodes able to be elected. */
function wouldStrandQuorum(cluster: SimCluster, target: SimMachine): boolean {
  const replicas = cluster.machines.length;
  const recovering = cluster.machines.filter((m) => m !== target && cluster.recovering(m.id)).length;
  const becomes = cluster.recovering(target.id) || target.disk.hasUnsyncedEntries;
  return becomes && recovering + 1 > replicas - quorumOf(replicas);
}
