/**
 * A replicated group on a 3-server ZooKeeper ensemble, given to the members as `--zk a:p1,b:p2,c:p3`:
 * real `mini-amq start --group` processes, a real ensemble of Debian's ZooKeeper (test/helpers/zookeeper.mjs
 * started with `servers`/`myid`), clients through `failover:(…)`, everything killed with SIGKILL by its PID.
 * - The group's znodes are on the ensemble (and not on the standalone MINI_AMQ_ZK server).
 * - With the ensemble's leader killed, the group keeps serving (3 more sends get their receipts).
 * - Then the broker master is killed: the remaining 2 ZooKeeper servers elect a new master, and a consumer
 *   through the failover URI gets all 6 messages, in order.
 *
 * The members get `--zk <ensemble>` (TestGroup's `zk` option) instead of the standalone MINI_AMQ_ZK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { FailoverClient } from '@mini-amq/stomp';
import { TestGroup, freePorts, zkAddress } from './helpers/group.js';
import { fourLetterWord, startZooKeeper, type ZooKeeperServer } from './helpers/zookeeper.mjs';

const ENSEMBLE_SIZE = 3;
/** Three JVMs starting at once and electing a ZooKeeper leader: a few seconds, bounded generously. */
const ENSEMBLE_START_TIMEOUT_MS = 40_000;
/** A ZooKeeper re-election after its leader dies, then a broker election through it. */
const WAIT_MS = 20_000;

// A plain client of the `zookeeper` package (as packages/replication/test/zk-coordinator.test.ts uses), to
// look at the tree from outside.
interface RawClient {
  init(config: Record<string, unknown>): RawClient;
  once(event: string, listener: (...args: unknown[]) => void): RawClient;
  close(): void;
  pathExists(path: string, watch: boolean): Promise<boolean>;
  get_children(path: string, watch: boolean): Promise<string[]>;
}
const RawZooKeeper = createRequire(import.meta.url)('zookeeper') as new (config: Record<string, unknown>) => RawClient;

async function withClient<T>(connect: string, use: (client: RawClient) => Promise<T>): Promise<T> {
  const client = new RawZooKeeper({ connect, timeout: 4_000, debug_level: 0, host_order_deterministic: false });
  const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
  client.init({});
  try {
    await within(connected, `a ZooKeeper session on ${connect}`);
    return await use(client);
  } finally {
    client.close();
  }
}

/** The `Mode:` line of `srvr` (leader, follower, standalone), or null when the server does not answer. */
async function mode(server: ZooKeeperServer): Promise<string | null> {
  const srvr = await fourLetterWord(server.host, server.port, 'srvr');
  return srvr === null ? null : /Mode: (\w+)/.exec(srvr)?.[1] ?? null;
}

describe('a replicated group on a 3-server ZooKeeper ensemble', () => {
  const zk: ZooKeeperServer[] = [];
  let ensemble = '';
  let group: TestGroup | null = null;

  beforeAll(async () => {
    // Client, peer and election ports for every server, all bound at once so no two are the same.
    const ports = await freePorts(ENSEMBLE_SIZE * 3);
    const client = ports.slice(0, ENSEMBLE_SIZE);
    const servers = Array.from({ length: ENSEMBLE_SIZE }, (_, i) =>
      `server.${i + 1}=127.0.0.1:${ports[ENSEMBLE_SIZE + i]!}:${ports[2 * ENSEMBLE_SIZE + i]!}`);
    // Together: each start resolves only once its server has a quorum (Mode leader or follower).
    const started = await Promise.allSettled(client.map((port, i) =>
      startZooKeeper({ port, servers, myid: i + 1, timeoutMs: ENSEMBLE_START_TIMEOUT_MS })));
    for (const s of started) if (s.status === 'fulfilled') zk.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    ensemble = zk.map((s) => s.connect).join(',');
  }, 60_000);

  afterAll(async () => {
    try {
      await group?.stop();
    } finally {
      // Every server we started, by its PID (stop() also removes its directory); a killed one just exits.
      await Promise.all(zk.map((s) => s.stop()));
    }
  }, 30_000);

  it('keeps serving with one ZooKeeper server killed, and fails over through the remaining two', async () => {
    const modes = await Promise.all(zk.map(mode));
    expect(modes.filter((m) => m === 'leader')).toHaveLength(1);
    expect(modes.filter((m) => m === 'follower')).toHaveLength(ENSEMBLE_SIZE - 1);

    group = await TestGroup.create('zkens', { zk: ensemble });
    await group.startAll();
    await group.master(WAIT_MS);

    // The group registered on the ensemble, not on the standalone server that TestGroup's own --zk names. A
    // member logs the line startAll() waits for before it registers, so the third may still be on its way.
    const zkPath = group.zkPath;
    await withClient(ensemble, async (c) => {
      expect(await c.pathExists(`${zkPath}/elected`, false)).toBe(true);
      await until(async () => (await c.get_children(`${zkPath}/members`, false)).length === 3, 'all 3 member znodes on the ensemble');
    });
    expect(await withClient(zkAddress(), (c) => c.pathExists(zkPath, false))).toBe(false);

    // The ensemble's leader is the server to kill: the other two must then elect a new one between themselves.
    const leader = zk[modes.indexOf('leader')]!;
    const survivors = zk.filter((s) => s !== leader);

    const producer = await FailoverClient.connect(group.failoverUri());
    producer.on('error', () => {});
    try {
      for (let i = 1; i <= 3; i++) await producer.sendWithReceipt('/queue/zkens', `message ${i}`, { persistent: 'true' });

      process.kill(leader.pid, 'SIGKILL');

      // The group keeps serving: 3 more sends, each confirmed by its receipt.
      for (let i = 4; i <= 6; i++) await within(producer.sendWithReceipt('/queue/zkens', `message ${i}`, { persistent: 'true' }), `the receipt for message ${i}`);
    } finally {
      producer.close();
    }

    // The remaining two servers form a quorum again (one leads, one follows).
    await until(async () => {
      const now = await Promise.all(survivors.map(mode));
      return now.includes('leader') && now.includes('follower');
    }, 'the 2 remaining ZooKeeper servers to elect a leader');

    // Kill the broker master (whoever serves now: the one from before, unless ZooKeeper's loss moved it).
    const master = await group.master(WAIT_MS);
    await master.kill('SIGKILL');
    const promoted = await group.master(WAIT_MS);
    expect(promoted).not.toBe(master);

    const consumer = await FailoverClient.connect(group.failoverUri());
    consumer.on('error', () => {});
    try {
      const bodies: string[] = [];
      consumer.subscribe('/queue/zkens', (m) => { bodies.push(m.body.toString()); m.ack(); }, { ack: 'client-individual' });
      await until(async () => bodies.length >= 6, 'the 6 messages on the new master');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(bodies).toEqual(['message 1', 'message 2', 'message 3', 'message 4', 'message 5', 'message 6']);
    } finally {
      consumer.close();
    }
  }, 60_000);
});

async function until(probe: () => Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
