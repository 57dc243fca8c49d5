// GroupMember with everything real but the process boundary: three members in this process, each on its own
// LevelDB directory, a real ZooKeeper (MINI_AMQ_ZK, from test/run-tests.mjs) and real TCP links. It proves
// the shell's own duties: one master hands a store to its broker, writes through it are applied on every
// member, a member that stops is replaced by one holding every completed write, and a member that was away
// catches up (from the tail, or from a snapshot when the tail no longer reaches back far enough).
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { LevelStore, type LogEntry, type Store } from '@mini-amq/store';
import { GroupMember, type GroupMemberOptions } from '../src/shell/group-member.js';

function zkAddress(): string {
  const address = process.env['MINI_AMQ_ZK'];
  if (address === undefined || address === '') {
    throw new Error(process.env['MINI_AMQ_ZK_ERROR'] ?? 'MINI_AMQ_ZK is not set: run the tests with `npm test` (test/run-tests.mjs starts ZooKeeper)');
  }
  return address;
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const WAIT_MS = 15_000;

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function enqueue(queue: string, n: number): LogEntry {
  return {
    kind: 'enqueue',
    queue,
    message: { messageId: `m-${n}`, destination: `/queue/${queue}`, headers: [['n', String(n)]], body: Buffer.from(`body ${n}`), priority: 4, expires: 0, timestamp: 1 },
  };
}

interface Running {
  readonly name: string;
  readonly dir: string;
  member: GroupMember | null;
  store: Store | null;
}

describe('GroupMember on a real ZooKeeper', () => {
  const dirs: string[] = [];
  const running: Running[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) await r.member?.close().catch(() => {});
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function options(name: string, dir: string, zkPath: string, extra: Partial<GroupMemberOptions>): GroupMemberOptions {
    return {
      nodeId: name, directory: dir, replicas: 3, zkAddress: zkAddress(), zkPath, zkSessionTimeoutMs: 2_000,
      bind: 'tcp://127.0.0.1:0', hostname: '127.0.0.1', weight: 1, securityToken: 's3cret', sync: 'quorum_mem', logger: quiet, ...extra,
    };
  }

  async function start(r: Running, zkPath: string, extra: Partial<GroupMemberOptions> = {}): Promise<void> {
    const member = await GroupMember.start(options(r.name, r.dir, zkPath, extra));
    r.member = member;
    r.store = null;
    member.on('master', (store) => { r.store = store; });
    member.on('demoted', () => { r.store = null; });
  }

  async function group(extra: Partial<GroupMemberOptions> = {}): Promise<{ members: Running[]; zkPath: string }> {
    const zkPath = `/mini-amq-test/${randomUUID()}`;
    const members: Running[] = [];
    for (const name of ['m1', 'm2', 'm3']) {
      const dir = mkdtempSync(join(tmpdir(), `mini-amq-member-${name}-`));
      dirs.push(dir);
      const r: Running = { name, dir, member: null, store: null };
      members.push(r);
      running.push(r);
      await start(r, zkPath, extra);
    }
    return { members, zkPath };
  }

  async function write(store: Store, entries: LogEntry[]): Promise<number> {
    const r = store.append(entries);
    await r.durable;
    return r.firstIndex;
  }

  /** The live messages of queue q in a member's directory, read with a LevelStore of its own. */
  async function messagesIn(dir: string, q: string): Promise<string[]> {
    const store = new LevelStore({ directory: dir, logTailEntriesMax: 0 });
    await store.open();
    try {
      return (await store.readQueue(q, 4, 0, 1_000_000)).map((r) => r.message.messageId);
    } finally {
      await store.close();
    }
  }

  it('elects one master, replicates its writes to both slaves, and fails over to a member that holds them', async () => {
    const { members, zkPath } = await group();
    const master = await waitFor('a master', () => members.find((m) => m.store !== null));
    expect(members.filter((m) => m.store !== null)).toHaveLength(1);
    const store = master.store!;
    const recovered = await store.open();
    expect(recovered.lastIndex).toBe(0);
    const first = await write(store, [enqueue('q', 1)]);
    expect(first).toBe(1);
    for (let n = 2; n <= 50; n++) await write(store, [enqueue('q', n)]);
    // A transaction-like write: two entries land together with consecutive store indexes.
    const pair = await write(store, [enqueue('q', 51), enqueue('q', 52)]);
    expect(pair).toBe(51);

    // Every slave applies what is committed (the master's commit index reaches them with the next APPEND):
    // the mastership's opening entry, 50 single writes and the pair.
    for (const m of members) {
      await waitFor(`${m.name} applying 52 replicated entries`, () => m.member!.status().applied >= 52);
    }
    const slaves = members.filter((m) => m !== master);
    for (const s of slaves) expect(s.member!.status()).toMatchObject({ role: 'slave', masterId: master.name });

    // The master goes away; a slave takes over with every completed write.
    await master.member!.close();
    master.member = null;
    const next = await waitFor('a new master', () => slaves.find((m) => m.store !== null));
    const state = await next.store!.open();
    expect(state.queues.get('q')).toBe(52);
    expect(state.lastIndex).toBe(52);
    const after = await write(next.store!, [enqueue('q', 53)]);
    expect(after).toBe(53);

    // The old master comes back as a slave and catches up from the new master.
    await start(master, zkPath);
    await waitFor('the old master following', () => master.member!.status().role === 'slave' && master.member!.status().applied >= next.member!.status().applied);
    expect(master.store).toBeNull();
    await master.member!.close();
    master.member = null;
    expect(await messagesIn(master.dir, 'q')).toEqual(Array.from({ length: 53 }, (_, i) => `m-${i + 1}`));
  }, 60_000);

  it('a member that was away while the tail moved on gets a snapshot, then follows', async () => {
    const lines: string[] = [];
    const logger = { ...quiet, info: (_obj: object, line: string) => { lines.push(line); } };
    const { members, zkPath } = await group({ logTailEntries: 20, logger });
    const master = await waitFor('a master', () => members.find((m) => m.store !== null));
    await master.store!.open();
    const away = members.find((m) => m !== master)!;
    await away.member!.close();
    away.member = null;
    // With one slave left the quorum (2 of 3) still completes writes.
    for (let n = 1; n <= 200; n++) await write(master.store!, [enqueue('q', n)]);
    await start(away, zkPath, { logTailEntries: 20 });
    await waitFor('the returning member to catch up', () => (away.member!.status().applied >= master.member!.status().applied ? true : null));
    await write(master.store!, [enqueue('q', 201)]);
    await waitFor('the returning member to follow live', () => away.member!.status().applied >= master.member!.status().applied);
    expect(lines.some((line) => line.startsWith(`${away.name} is behind the log tail kept: sending it a snapshot`))).toBe(true);
    await away.member!.close();
    away.member = null;
    expect(await messagesIn(away.dir, 'q')).toEqual(Array.from({ length: 201 }, (_, i) => `m-${i + 1}`));
  }, 60_000);

  it('with a zkPassword the group elects as usual, and its znodes refuse a client without the password', async () => {
    const { members, zkPath } = await group({ zkPassword: 'group-secret' });
    const master = await waitFor('a master', () => members.find((m) => m.store !== null));
    await master.store!.open();
    await write(master.store!, [enqueue('q', 1)]);

    interface Raw {
      init(config: object): Raw;
      once(event: string, listener: () => void): Raw;
      close(): void;
      get(path: string, watch: boolean): Promise<[unknown, Buffer]>;
      add_auth(scheme: string, auth: string, cb: (rc: number) => void): void;
    }
    const Zk = createRequire(import.meta.url)('zookeeper') as new (config: object) => Raw;
    const connect = async (): Promise<Raw> => {
      const client = new Zk({ connect: zkAddress(), timeout: 2_000, debug_level: 0 });
      const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
      client.init({});
      await connected;
      return client;
    };
    const stranger = await connect();
    try {
      await expect(stranger.get(`${zkPath}/elected`, false)).rejects.toThrow(/-102|auth/i);
    } finally {
      stranger.close();
    }
    const insider = await connect();
    try {
      await new Promise<void>((resolve, reject) => insider.add_auth('digest', 'mini-amq:group-secret', (rc) => (rc === 0 ? resolve() : reject(new Error(`auth ${rc}`)))));
      const [, data] = await insider.get(`${zkPath}/elected`, false);
      expect(JSON.parse(data.toString())).toMatchObject({ masterId: master.name });
    } finally {
      insider.close();
    }
  }, 60_000);
});
