// Proves ZkCoordinator speaks the core's coordinator contract on a REAL ZooKeeper (the one test/run-tests.mjs
// starts and names in MINI_AMQ_ZK): registration creates the group's znodes, every member sees every other
// and their updates, a closed or expired session's member disappears, the elected record is a versioned CAS,
// and real ReplicaNodes elect (and re-elect) through it. Each test works under its own random zkPath and
// removes it afterwards.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplicaNode } from '../src/core/node.js';
import type { CoordinatorView, MemberData } from '../src/core/types.js';
import { ZkCoordinator, type CoordinatorEvent } from '../src/shell/zk-coordinator.js';
import { startZooKeeper } from '../../../test/helpers/zookeeper.mjs';

/** The ZooKeeper to test against; without one these tests fail (never skip) with the reason. */
function zkAddress(): string {
  const address = process.env['MINI_AMQ_ZK'];
  if (address === undefined || address === '') {
    throw new Error(
      process.env['MINI_AMQ_ZK_ERROR']
        ?? 'MINI_AMQ_ZK is not set: run the tests with `npm test` (test/run-tests.mjs starts ZooKeeper) or set it to host:port',
    );
  }
  return address;
}

/** A bound on every wait: session changes here take a few hundred ms. */
const WAIT_MS = 8_000;
/** Short sessions keep the expiry test fast; the server's minSessionTimeout is 1 s. */
const SESSION_MS = 1_500;

// A plain client of the same package, for looking at and cleaning up the tree as an outsider would.
interface RawClient {
  init(config: Record<string, unknown>): RawClient;
  once(event: string, listener: (...args: unknown[]) => void): RawClient;
  close(): void;
  pathExists(path: string, watch: boolean): Promise<boolean>;
  get(path: string, watch: boolean): Promise<[{ version: number }, Buffer]>;
  get_children(path: string, watch: boolean): Promise<string[]>;
  delete_(path: string, version: number): Promise<void>;
}
const RawZooKeeper = createRequire(import.meta.url)('zookeeper') as new (config: Record<string, unknown>) => RawClient;

async function rawClient(extra: Record<string, unknown> = {}): Promise<RawClient> {
  const client = new RawZooKeeper({ connect: zkAddress(), timeout: SESSION_MS, debug_level: 0, host_order_deterministic: false, ...extra });
  const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()));
  client.init({});
  await within(connected, 'raw client connect');
  return client;
}

async function removeTree(client: RawClient, path: string): Promise<void> {
  for (const child of await client.get_children(path, false).catch(() => [] as string[])) await removeTree(client, `${path}/${child}`);
  await client.delete_(path, -1).catch(() => undefined);
}

async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(condition: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function member(id: string, extra: Partial<MemberData> = {}): MemberData {
  return { id, address: `${id}.test:0`, weight: 1, position: null, forEpoch: 0, recovering: false, ...extra };
}

/** A coordinator with the events it delivered. */
interface Probe {
  readonly coordinator: ZkCoordinator;
  readonly events: CoordinatorEvent[];
  lastView(): CoordinatorView | null;
}

const roots: string[] = [];
const opened: ZkCoordinator[] = [];

function groupPath(): string {
  const root = `/mini-amq-test/${randomUUID()}`;
  roots.push(root);
  return `${root}/group/a`;
}

function probe(zkPath: string, sessionTimeoutMs = SESSION_MS): Probe {
  const events: CoordinatorEvent[] = [];
  const coordinator = new ZkCoordinator({ connect: zkAddress(), zkPath, sessionTimeoutMs, onEvent: (e) => events.push(e) });
  opened.push(coordinator);
  return {
    coordinator,
    events,
    lastView: () => {
      for (let i = events.length - 1; i >= 0; i--) {
        const e = events[i]!;
        if (e.kind === 'coordinator') return e.view;
      }
      return null;
    },
  };
}

const ids = (view: CoordinatorView | null): string[] => (view?.members ?? []).map((m) => m.id).sort();

/** Members a and b registered in a fresh group, once each sees both. */
async function registeredPair(): Promise<{ a: Probe; b: Probe }> {
  const zkPath = groupPath();
  const a = probe(zkPath);
  const b = probe(zkPath);
  a.coordinator.request({ kind: 'register', data: member('a') });
  b.coordinator.request({ kind: 'register', data: member('b') });
  await until(() => ids(a.lastView()).length === 2 && ids(b.lastView()).length === 2, 'both members');
  return { a, b };
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  if (roots.length === 0) return;
  const client = await rawClient();
  try {
    for (const root of roots.splice(0)) await removeTree(client, root);
  } finally {
    client.close();
  }
});

describe('ZkCoordinator on a real ZooKeeper', () => {
  it('creates zkPath and its parents, and registers an ephemeral-sequential member znode', async () => {
    const zkPath = groupPath();
    const a = probe(zkPath);
    a.coordinator.request({ kind: 'register', data: member('a') });
    await until(() => a.lastView() !== null, 'the first view');
    const view = a.lastView()!;
    expect(view.session).toBe('connected');
    expect(view.members.map((m) => ({ id: m.id, address: m.address }))).toEqual([{ id: 'a', address: 'a.test:0' }]);
    expect(view.elected).toEqual({ epoch: 0, masterId: null, version: -1 });
    const client = await rawClient();
    try {
      expect(await client.pathExists(zkPath, false)).toBe(true);
      const children = await client.get_children(`${zkPath}/members`, false);
      expect(children).toHaveLength(1);
      expect(children[0]).toMatch(/^member-\d{10}$/);
      expect(a.coordinator.memberPath).toBe(`${zkPath}/members/${children[0]}`);
      expect(view.members[0]!.seq).toBe(parseInt(children[0]!.slice('member-'.length), 10));
    } finally {
      client.close();
    }
  });

  it('shows every member to every member, with their updates, and drops a closed session\'s member', async () => {
    const zkPath = groupPath();
    const nodes = ['a', 'b', 'c'].map((id) => ({ id, p: probe(zkPath) }));
    for (const { id, p } of nodes) p.coordinator.request({ kind: 'register', data: member(id) });
    for (const { p } of nodes) await until(() => ids(p.lastView()).join() === 'a,b,c', 'all three members');

    const report = { position: { epoch: 0, index: 7 }, forEpoch: 0 };
    nodes[0]!.p.coordinator.request({ kind: 'publish', data: member('a', report) });
    for (const { p } of nodes.slice(1)) {
      await until(() => p.lastView()?.members.find((m) => m.id === 'a')?.position?.index === 7, 'a\'s published position');
    }

    await nodes[2]!.p.coordinator.close();
    for (const { p } of nodes.slice(0, 2)) await until(() => ids(p.lastView()).join() === 'a,b', 'c to leave');
  });

  it('sets the elected record by versioned CAS: the first wins, a stale version loses', async () => {
    const { a, b } = await registeredPair();

    a.coordinator.request({ kind: 'cas-elected', epoch: 1, masterId: 'a', expectedVersion: -1 });
    await a.coordinator.settled();
    b.coordinator.request({ kind: 'cas-elected', epoch: 1, masterId: 'b', expectedVersion: -1 });
    await b.coordinator.settled();
    expect(a.events.filter((e) => e.kind === 'cas-result')).toEqual([{ kind: 'cas-result', ok: true }]);
    expect(b.events.filter((e) => e.kind === 'cas-result')).toEqual([{ kind: 'cas-result', ok: false }]);
    await until(() => b.lastView()?.elected.masterId === 'a', 'b to see a elected');
    expect(b.lastView()!.elected).toEqual({ epoch: 1, masterId: 'a', version: 0 });

    b.coordinator.request({ kind: 'cas-elected', epoch: 2, masterId: 'b', expectedVersion: 0 });
    await b.coordinator.settled();
    a.coordinator.request({ kind: 'cas-elected', epoch: 2, masterId: 'a', expectedVersion: 0 });
    await a.coordinator.settled();
    expect(b.events.filter((e) => e.kind === 'cas-result').at(-1)).toEqual({ kind: 'cas-result', ok: true });
    expect(a.events.filter((e) => e.kind === 'cas-result').at(-1)).toEqual({ kind: 'cas-result', ok: false });
    await until(() => a.lastView()?.elected.version === 1, 'a to see epoch 2');
    expect(a.lastView()!.elected).toEqual({ epoch: 2, masterId: 'b', version: 1 });
  });

  it('reports a session the server expired, and registers afresh when asked (AMQ-5082)', async () => {
    const { a, b } = await registeredPair();
    const oldPath = a.coordinator.memberPath;

    // Expire a's session on the server, deterministically: a second client takes the session over with its
    // id and password and closes it, which ends the session; a's client learns it is expired when it
    // reconnects. Should a's client win the session back first, the takeover is simply repeated.
    const expired = (): boolean => a.events.some((e) => e.kind === 'coordinator' && e.view.session === 'expired');
    for (let attempt = 0; attempt < 3 && !expired(); attempt++) {
      const credentials = a.coordinator.sessionCredentials;
      if (credentials === null) break;
      const thief = await rawClient({ client_id: credentials.id, client_password: credentials.password });
      thief.close();
      await until(expired, 'the expiry notice', 2 * SESSION_MS).catch(() => undefined);
    }
    expect(expired()).toBe(true);
    await until(() => ids(b.lastView()).join() === 'b', 'b to see a\'s member znode gone');

    // The core answers an expired view with `register`: a new session and a new member znode.
    a.coordinator.request({ kind: 'register', data: member('a') });
    await until(() => a.lastView()?.session === 'connected' && ids(a.lastView()).join() === 'a,b', 'a registered again');
    expect(a.coordinator.memberPath).not.toBe(oldPath);
    await until(() => ids(b.lastView()).join() === 'a,b', 'b to see a back');
  });

  it('reports a session as expired once its ZooKeeper has been unreachable for a session timeout', async () => {
    zkAddress(); // the same precondition as the rest: ZooKeeper must be installed and startable
    // A private server that can be stopped without disturbing the shared one.
    const server = await startZooKeeper();
    try {
      const events: CoordinatorEvent[] = [];
      const a = new ZkCoordinator({ connect: server.connect, zkPath: '/lost', sessionTimeoutMs: SESSION_MS, onEvent: (e) => events.push(e) });
      opened.push(a);
      a.request({ kind: 'register', data: member('a') });
      await until(() => events.some((e) => e.kind === 'coordinator' && e.view.session === 'connected'), 'registration');
      const stoppedAt = Date.now();
      await server.stop();
      await until(() => events.some((e) => e.kind === 'coordinator' && e.view.session === 'expired'), 'the expiry', 3 * SESSION_MS);
      // Not before a whole session timeout: a shorter outage keeps the session (and its znode) alive.
      expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(SESSION_MS - 100);
      expect(a.memberPath).toBeNull();
    } finally {
      await server.stop();
    }
  });

  it('drives real ReplicaNodes: three elect one master, and the two left elect the next epoch', async () => {
    const zkPath = groupPath();
    const nodes = ['a', 'b', 'c'].map((id) => {
      const node = new ReplicaNode({ id, replicas: 3 });
      const drive = (): void => {
        // Persist and send are the other shell pieces' work; this test is about the coordinator alone.
        while (node.hasReady()) {
          const ready = node.ready();
          for (const request of ready.coordinator) coordinator.request(request);
          node.advance(ready);
        }
      };
      const coordinator = new ZkCoordinator({
        connect: zkAddress(),
        zkPath,
        sessionTimeoutMs: SESSION_MS,
        onEvent: (event) => {
          node.step(event);
          drive();
        },
      });
      opened.push(coordinator);
      drive();
      return { node, coordinator };
    });
    const masters = (): string[] => nodes.filter((n) => n.node.masterEpoch !== null).map((n) => n.node.id);

    await until(() => masters().length === 1 && nodes.every((n) => n.node.status().masterId === masters()[0]), 'one master, two slaves');
    const first = nodes.find((n) => n.node.masterEpoch !== null)!;
    expect(first.node.masterEpoch).toBe(1);

    await first.coordinator.close();
    const rest = nodes.filter((n) => n !== first);
    await until(() => rest.some((n) => n.node.masterEpoch === 2), 'a master of epoch 2 among the two left');
    const second = rest.find((n) => n.node.masterEpoch === 2)!;
    await until(() => rest.every((n) => n.node.status().masterId === second.node.id), 'the other to follow it');
  });
});
