// The world of a scenario script: ReplicaNodes driven by hand. Messages travel in order, one round per
// `stabilize` step, and are lost only to a partition; ZooKeeper (the simulation's, with a 1-tick delay and
// no spontaneous expiry) answers in order too. Nodes tick only when a script says so. Every action a node
// takes is printed, one line each (format.ts), so that a script's expected output is its story.
import { ReplicaNode, type RestoredNode } from '../../src/core/node.js';
import type { ReplicaConfig } from '../../src/core/config.js';
import type { NodeEvent, NodeId, PeerMessage } from '../../src/core/types.js';
import { formatPosition } from '../../src/core/types.js';
import { SimDisk } from '../../src/sim/disk.js';
import { Random } from '../../src/sim/random.js';
import { SimZooKeeper } from '../../src/sim/zookeeper.js';
import { entries, message, ready } from '../../src/sim/format.js';

interface ScriptNode {
  readonly id: NodeId;
  readonly config: ReplicaConfig;
  readonly disk: SimDisk;
  core: ReplicaNode | null;
  zkCut: boolean;
  lostWrites: boolean;
}

interface InFlight {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: PeerMessage;
}

/** Rounds after which `stabilize` gives up (a script that never settles is a bug worth seeing). */
const STABILIZE_ROUNDS_MAX = 200;

/** See the file comment. */
export class ScriptWorld {
  private readonly nodes = new Map<NodeId, ScriptNode>();
  private readonly zk = new SimZooKeeper(new Random(1), { sessionTimeout: Number.MAX_SAFE_INTEGER, delayMin: 1, delayMax: 1 });
  private queue: InFlight[] = [];
  private readonly cut = new Set<string>();
  private defaults: Partial<ReplicaConfig> = { replicas: 3, sync: 'quorum_mem', securityToken: 'secret' };
  private now = 0;
  private out: string[] = [];

  /** Runs one command line and returns what it printed. */
  run(line: string): string[] {
    this.out = [];
    const [cmd, ...words] = line.trim().split(/\s+/);
    const args = words.filter((w) => !w.includes('='));
    const opts = Object.fromEntries(words.filter((w) => w.includes('=')).map((w) => w.split('=') as [string, string]));
    switch (cmd) {
      case 'group':
        this.defaults = {
          ...this.defaults,
          ...(opts.replicas !== undefined ? { replicas: Number(opts.replicas) } : {}),
          ...(opts.sync !== undefined ? { sync: opts.sync } : {}),
          ...(opts.tail !== undefined ? { logTailEntries: Number(opts.tail) } : {}),
          ...(opts.token !== undefined ? { securityToken: opts.token } : {}),
        };
        break;
      case 'start':
        for (const id of args) this.start(id, opts);
        break;
      case 'stabilize':
        this.stabilize();
        break;
      case 'write': {
        const [id, ...writes] = args;
        for (const w of writes) this.step(this.node(id!), { kind: 'write', id: w, payload: w });
        break;
      }
      case 'tick': {
        const times = Number(opts.times ?? 1);
        const ids = args.length > 0 ? args : [...this.nodes.keys()];
        for (let t = 0; t < times; t++) {
          for (const id of ids) {
            const n = this.node(id);
            if (n.core === null) continue;
            n.core.tick();
            this.settle(n);
          }
        }
        break;
      }
      case 'crash': {
        const n = this.node(args[0]!);
        const kind = args[1] === 'power' ? 'power' : 'kill';
        n.core = null;
        this.zk.processDied(n.id);
        n.lostWrites = n.disk.crash(kind) || n.lostWrites;
        this.print(`${n.id} ${kind === 'power' ? 'lost power' : 'killed'}${n.lostWrites ? ' (lost unsynced writes)' : ''}`);
        break;
      }
      case 'restart': {
        const n = this.node(args[0]!);
        this.print(`${n.id} restarts at ${formatPosition(n.disk.last)}`);
        this.boot(n, n.disk.restore(n.lostWrites));
        n.lostWrites = false;
        break;
      }
      case 'partition':
        for (const other of args.slice(1)) this.cut.add(pair(args[0]!, other));
        break;
      case 'isolate':
        for (const other of this.nodes.keys()) if (other !== args[0]) this.cut.add(pair(args[0]!, other));
        if (opts.zk === 'true') this.node(args[0]!).zkCut = true;
        break;
      case 'cut-zk':
        for (const id of args) this.node(id).zkCut = true;
        break;
      case 'heal':
        if (args.length === 0) {
          this.cut.clear();
          for (const n of this.nodes.values()) n.zkCut = false;
        } else {
          for (const other of args.slice(1)) this.cut.delete(pair(args[0]!, other));
        }
        break;
      case 'expire':
        this.zk.expireSession(this.now, args[0]!);
        this.print(`zk expires the session of ${args[0]}`);
        break;
      case 'status':
        for (const n of this.selected(args)) {
          const s = n.core?.status();
          if (s === undefined) this.print(`${n.id} down`);
          else {
            const role = s.role === 'master' ? (s.serving ? 'master (serving)' : 'master (catching up slaves)') : s.role;
            this.print(`${n.id} ${role} epoch=${s.epoch} at ${formatPosition(s.position)} commit=${s.commitIndex}${s.recovering ? ' recovering' : ''}: ${s.detail}`);
          }
        }
        break;
      case 'log':
        for (const n of this.selected(args)) {
          const image = n.disk.restore(false).log;
          this.print(`${n.id} log ${entries(n.disk.entries)} compacted through ${formatPosition(image.base)}`);
        }
        break;
      case 'zk': {
        const v = this.zk.view('connected');
        const members = v.members
          .map((m) => `${m.id}#${m.seq}=${m.position === null ? (m.recovering ? 'recovering' : 'none') : `${formatPosition(m.position)}@e${m.forEpoch}`}`)
          .join(' ');
        this.print(`zk elected epoch=${v.elected.epoch} master=${v.elected.masterId ?? '-'} version=${v.elected.version}; members ${members}`);
        break;
      }
      default:
        throw new Error(`unknown command: ${line}`);
    }
    return this.out;
  }

  private print(line: string): void {
    this.out.push(line);
  }

  private node(id: NodeId): ScriptNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  private selected(ids: string[]): ScriptNode[] {
    return ids.length > 0 ? ids.map((id) => this.node(id)) : [...this.nodes.values()];
  }

  private start(id: NodeId, opts: Record<string, string>): void {
    const config: ReplicaConfig = {
      ...this.defaults,
      id,
      ...(opts.weight !== undefined ? { weight: Number(opts.weight) } : {}),
      ...(opts.token !== undefined ? { securityToken: opts.token } : {}),
    };
    const n: ScriptNode = { id, config, disk: new SimDisk(), core: null, zkCut: false, lostWrites: false };
    this.nodes.set(id, n);
    this.boot(n, n.disk.restore(false));
  }

  private boot(n: ScriptNode, restored: RestoredNode): void {
    n.core = new ReplicaNode(n.config, restored);
    this.settle(n);
  }

  private reachable = (id: NodeId): boolean => {
    const n = this.nodes.get(id);
    return n !== undefined && n.core !== null && !n.zkCut;
  };

  /** Delivers ZooKeeper notifications and messages, round by round, until nothing moves. */
  private stabilize(): void {
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      this.now++;
      this.zk.tick(this.now, this.reachable);
      let moved = false;
      for (const n of this.nodes.values()) {
        if (!this.reachable(n.id)) continue;
        for (const event of this.zk.deliveries(this.now, n.id)) {
          moved = true;
          this.step(n, event);
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const p of batch) {
        moved = true;
        const to = this.nodes.get(p.to);
        if (this.cut.has(pair(p.from, p.to)) || to === undefined || to.core === null) {
          this.print(`drop ${p.from} -> ${p.to} ${message(p.message)}`);
          continue;
        }
        this.step(to!, { kind: 'peer', from: p.from, message: p.message });
      }
      if (!moved && this.queue.length === 0 && this.zk.idle(this.reachable)) return;
    }
    throw new Error(`not stable after ${STABILIZE_ROUNDS_MAX} rounds`);
  }

  private step(n: ScriptNode, event: NodeEvent): void {
    n.core!.step(event);
    this.settle(n);
  }

  private settle(n: ScriptNode): void {
    const core = n.core!;
    while (core.hasReady()) {
      const rd = core.ready();
      for (const line of ready(n.id, rd)) this.print(line);
      n.disk.write(rd.persist);
      for (const s of rd.send) this.queue.push({ from: n.id, to: s.to, message: s.message });
      for (const c of rd.coordinator) this.zk.request(this.now, n.id, c);
      core.advance(rd);
      for (const read of rd.snapshotReads) {
        const snap = n.disk.readSnapshot();
        core.step({ kind: 'snapshot-read', id: read.id, through: snap.through, chunks: snap.chunks });
      }
    }
  }
}

function pair(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
