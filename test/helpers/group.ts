/**
 * A replication group of real `mini-amq start --group` processes on one real ZooKeeper (MINI_AMQ_ZK, which
 * test/run-tests.mjs starts): fixed client ports (a failover URI must know them up front), replication on
 * any free port, one data directory per member. Members are killed and restarted by the PID we started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI } from './broker-process.js';

/** A member start (JVM-free: Node and LevelDB) is well under a second; this bounds a hung one. */
export const MEMBER_START_TIMEOUT_MS = 20_000;

export function zkAddress(): string {
  const address = process.env['MINI_AMQ_ZK'];
  if (address === undefined || address === '') {
    throw new Error(process.env['MINI_AMQ_ZK_ERROR'] ?? 'MINI_AMQ_ZK is not set: run the tests with `npm test` (test/run-tests.mjs starts ZooKeeper)');
  }
  return address;
}

/** Ports the OS says are free now (bound and released), for members' client ports. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export class GroupMemberProcess {
  child: ChildProcess | null = null;
  /** JSON log lines of the current process. */
  logs: Array<Record<string, unknown>> = [];
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly name: string, readonly stompPort: number, readonly dataDir: string, private readonly args: readonly string[]) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** True once the current process logged that it serves clients. */
  get serving(): boolean {
    return this.logs.some((l) => typeof l['stompPort'] === 'number');
  }

  /**
   * Starts the process; resolves once it has opened its store and replication port (its `replication:
   * member` line), which is before it has registered in ZooKeeper.
   */
  async start(): Promise<void> {
    const child = spawn(CLI, ['start', '--name', this.name, '--port', String(this.stompPort), '--no-ws', '--data', this.dataDir, ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.logs = [];
    const logs = this.logs;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not join within ${MEMBER_START_TIMEOUT_MS} ms; stderr: ${stderr}`)), MEMBER_START_TIMEOUT_MS);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let entry: Record<string, unknown>;
        try { entry = JSON.parse(line) as Record<string, unknown>; } catch { return; }
        logs.push(entry);
        if (typeof entry['msg'] === 'string' && entry['msg'].startsWith('replication: member')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited before joining (code ${child.exitCode}, signal ${child.signalCode}); stderr: ${stderr}`));
      });
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child!.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await this.exited;
  }

  /** Sends a signal that does not end the process (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child!.kill(signal);
  }

  messages(): string[] {
    return this.logs.map((l) => String(l['msg']));
  }
}

export interface GroupOptions {
  readonly size?: number;
  readonly sync?: string;
  readonly zkSessionTimeoutMs?: number;
  /** ZooKeeper to use instead of MINI_AMQ_ZK (e.g. an ensemble `a:1,b:2,c:3`). */
  readonly zk?: string;
  readonly extraArgs?: readonly string[];
}

export class TestGroup {
  readonly zkPath = `/mini-amq-test/groups/${randomUUID()}`;
  private constructor(readonly members: GroupMemberProcess[], private readonly dirs: string[]) {}

  /** Creates (not starts) the members. */
  static async create(name: string, options: GroupOptions = {}): Promise<TestGroup> {
    const size = options.size ?? 3;
    const ports = await freePorts(size);
    const dirs: string[] = [];
    const group = new TestGroup([], dirs);
    for (let i = 0; i < size; i++) {
      const dir = mkdtempSync(join(tmpdir(), `mini-amq-${name}-${i + 1}-`));
      dirs.push(dir);
      group.members.push(new GroupMemberProcess(`${name}${i + 1}`, ports[i]!, dir, [
        '--group', name, '--replicas', String(size), '--zk', options.zk ?? zkAddress(), '--zk-path', group.zkPath,
        '--bind', 'tcp://127.0.0.1:0', '--sync', options.sync ?? 'quorum_mem',
        '--zk-session-timeout', String(options.zkSessionTimeoutMs ?? 2_000), ...(options.extraArgs ?? []),
      ]));
    }
    return group;
  }

  async startAll(): Promise<void> {
    await Promise.all(this.members.map((m) => m.start()));
  }

  /** `failover:(…)` over every member's client port, quick to retry (a slave refuses connections). */
  failoverUri(extra = ''): string {
    const uris = this.members.map((m) => `tcp://127.0.0.1:${m.stompPort}`).join(',');
    return `failover:(${uris})?randomize=false&initialReconnectDelay=20&maxReconnectDelay=250${extra}`;
  }

  /** The one running member that serves clients (fails if none within `ms`, or if two do at once). */
  async master(ms = 20_000): Promise<GroupMemberProcess> {
    const deadline = Date.now() + ms;
    for (;;) {
      const serving = this.members.filter((m) => m.running && m.serving && !this.demoted(m));
      if (serving.length > 1) throw new Error(`two members serve at once: ${serving.map((m) => m.name).join(', ')}`);
      if (serving.length === 1) return serving[0]!;
      if (Date.now() > deadline) throw new Error(`no member of the group served within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** True when the member logged that it closed its client connections after serving. */
  private demoted(m: GroupMemberProcess): boolean {
    let servingAt = -1;
    let demotedAt = -1;
    m.logs.forEach((l, i) => {
      if (typeof l['stompPort'] === 'number') servingAt = i;
      if (typeof l['msg'] === 'string' && l['msg'].startsWith('closing client connections')) demotedAt = i;
    });
    return demotedAt > servingAt;
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill('SIGKILL')));
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}
