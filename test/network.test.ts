/**
 * Networks of brokers as users run them: real `mini-amq start --network …` processes (and, for the group
 * experiments, replicated groups on a real ZooKeeper), clients over STOMP, brokers killed with SIGKILL.
 * The article's experiments 2 to 5, and a topic mesh.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailoverClient, StompClient } from '@mini-amq/stomp';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, killAllBrokers, spawnBroker, type BrokerProcess } from './helpers/broker-process.js';
import { freePorts, TestGroup } from './helpers/group.js';

const dirs: string[] = [];
function dataDir(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `mini-amq-net-${name}-`));
  dirs.push(d);
  return d;
}

async function waitUntil(probe: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A consumer on one broker that keeps what it got. */
async function consume(url: string, destination: string): Promise<{ bodies: string[]; close(): void }> {
  const client = url.startsWith('failover:') ? await FailoverClient.connect(url) : await StompClient.connect(url);
  client.on('error', () => {});
  const bodies: string[] = [];
  client.subscribe(destination, (m) => { bodies.push(m.body.toString()); m.ack(); }, { ack: 'client-individual' });
  return { bodies, close: () => client.close() };
}

async function sendPersistent(url: string, destination: string, bodies: readonly string[]): Promise<void> {
  const client = url.startsWith('failover:') ? await FailoverClient.connect(url) : await StompClient.connect(url);
  client.on('error', () => {});
  for (const body of bodies) await client.sendWithReceipt(destination, body, { persistent: 'true' });
  client.close();
}

/** Pending count of a queue on a broker, from its statistics destination. */
async function pending(port: number, queue: string): Promise<number> {
  const client = await StompClient.connect(`tcp://127.0.0.1:${port}`);
  try {
    const reply = await new Promise<string>((resolve) => {
      client.subscribe('/temp-queue/stats', (m) => resolve(m.body.toString()));
      client.send(`/queue/ActiveMQ.Statistics.Destination.${queue}`, '', { 'reply-to': '/temp-queue/stats' });
    });
    const row = JSON.parse(reply) as { pending: number };
    return row.pending;
  } finally {
    client.close();
  }
}

describe('networks of brokers', () => {
  const groups: TestGroup[] = [];
  afterEach(async () => {
    for (const g of groups.splice(0)) await g.stop();
    await killAllBrokers();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('experiment 2: with duplex=false, messages on a killed broker A are out of reach of a consumer on B until A comes back', async () => {
    const [portA, portB] = await freePorts(2);
    const dirA = dataDir('a');
    const b = await spawnBroker(['--name', 'B', '--port', String(portB), '--data', dataDir('b')]);
    const startA = (): Promise<BrokerProcess> => spawnBroker(['--name', 'A', '--port', String(portA), '--data', dirA, '--network', `static:(tcp://127.0.0.1:${b.stompPort})`]);
    let a = await startA();
    await sendPersistent(`tcp://127.0.0.1:${portA}`, '/queue/exp2', ['m1', 'm2', 'm3']);
    await a.kill('SIGKILL');
    const onB = await consume(`tcp://127.0.0.1:${portB}`, '/queue/exp2');
    await sleep(2_000);
    expect(onB.bodies).toEqual([]);
    onB.close();
    await sleep(200);
    a = await startA();
    expect(await pending(portA!, 'exp2')).toBe(3);
  }, 60_000);

  it('a bridge\'s broker killed mid-flight, three times: every message reaches the remote consumer exactly once', async () => {
    const [portA, portB] = await freePorts(2);
    const dirA = dataDir('ka');
    await spawnBroker(['--name', 'KB', '--port', String(portB), '--data', dataDir('kb')]);
    const startA = (): Promise<BrokerProcess> => spawnBroker(['--name', 'KA', '--port', String(portA), '--data', dirA, '--network', `static:(tcp://127.0.0.1:${portB})`]);
    let a = await startA();
    const onB = await consume(`tcp://127.0.0.1:${portB}`, '/queue/midflight');
    const total = 3_000;
    const producer = await FailoverClient.connect(`failover:(tcp://127.0.0.1:${portA})?initialReconnectDelay=20&maxReconnectDelay=200`);
    producer.on('error', () => {});
    const sending = (async () => {
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; i < total; i++) {
        const p = producer.sendWithReceipt('/queue/midflight', `m${i}`, { persistent: 'true' }).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 50) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();
    for (let kill = 0; kill < 3; kill++) {
      await sleep(300 + Math.random() * 500);
      await a.kill('SIGKILL');
      a = await startA();
    }
    await sending;
    producer.close();
    await waitUntil(() => new Set(onB.bodies).size >= total, `all ${total} on B (have ${new Set(onB.bodies).size})`, 60_000);
    await sleep(1_000);
    expect(new Set(onB.bodies).size).toBe(total);
    expect(onB.bodies).toHaveLength(total);
    onB.close();
  }, 120_000);

  it('experiment 5, hub and spoke: producers fail over between A and B, consumers on C, D and E share 10,000 messages, once each', async () => {
    const ports = await freePorts(5);
    const [pA, pB, pC, pD, pE] = ports as [number, number, number, number, number];
    const spokes = `static:(tcp://127.0.0.1:${pC},tcp://127.0.0.1:${pD},tcp://127.0.0.1:${pE})`;
    for (const [name, port] of [['C', pC], ['D', pD], ['E', pE]] as const) await spawnBroker(['--name', name, '--port', String(port), '--data', dataDir(name)]);
    for (const [name, port] of [['A', pA], ['B', pB]] as const) await spawnBroker(['--name', name, '--port', String(port), '--data', dataDir(name), '--network', spokes]);
    const consumers = await Promise.all([pC, pD, pE].map((p) => consume(`tcp://127.0.0.1:${p}`, '/queue/hub')));
    const total = 10_000;
    const producers = 4;
    // Each producer picks A or B at random (randomize=true), as the article's clients fail over between them.
    const used = new Set<string>();
    await Promise.all(Array.from({ length: producers }, async (_, k) => {
      const producer = await FailoverClient.connect(`failover:(tcp://127.0.0.1:${pA},tcp://127.0.0.1:${pB})?randomize=true`);
      producer.on('error', () => {});
      used.add(producer.uri ?? '?');
      const inFlight = new Set<Promise<void>>();
      for (let i = k; i < total; i += producers) {
        const p = producer.sendWithReceipt('/queue/hub', `m${i}`, { persistent: 'true' }).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 50) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      producer.close();
    }));
    const received = () => consumers.reduce((n, c) => n + c.bodies.length, 0);
    await waitUntil(() => received() >= total, `${total} messages on C, D and E (have ${received()})`, 60_000);
    await sleep(500);
    const all = consumers.flatMap((c) => c.bodies);
    expect(all).toHaveLength(total);
    expect(new Set(all).size).toBe(total);
    // Spread: every spoke's consumer took a share.
    for (const c of consumers) expect(c.bodies.length).toBeGreaterThan(total / 20);
    // `mini-amq status` on a hub lists its three bridges, connected, with what each forwarded.
    const hub = [...used][0]!.endsWith(`:${pA}`) ? pA : pB;
    const { stdout } = await promisify(execFile)(CLI, ['status', '--url', `tcp://127.0.0.1:${hub}`, '--json']);
    const bridges = (JSON.parse(stdout) as { network: Array<{ remote: string; state: string; forwarded: number }> }).network;
    expect(bridges.map((b) => b.remote).sort()).toEqual([pC, pD, pE].map((p) => `tcp://127.0.0.1:${p}`).sort());
    expect(bridges.every((b) => b.state === 'connected')).toBe(true);
    expect(bridges.reduce((n, b) => n + b.forwarded, 0)).toBeGreaterThan(0);
    for (const c of consumers) c.close();
  }, 120_000);

  it('a 3-broker mesh with topic subscribers everywhere: each subscriber gets each message exactly once, and nothing circulates', async () => {
    const ports = await freePorts(3);
    const names = ['X', 'Y', 'Z'];
    for (let i = 0; i < 3; i++) {
      const others = ports.filter((_, j) => j !== i).map((p) => `tcp://127.0.0.1:${p}`).join(',');
      await spawnBroker(['--name', names[i]!, '--port', String(ports[i]), '--data', dataDir(names[i]!), '--network', `static:(${others})`]);
    }
    const subscribers = await Promise.all(ports.map(async (p) => {
      const client = await StompClient.connect(`tcp://127.0.0.1:${p}`);
      const bodies: string[] = [];
      await client.subscribe('/topic/mesh', (m) => { bodies.push(m.body.toString()); }, { receipt: true }).ready;
      return { client, bodies };
    }));
    // Let every bridge see every subscriber (advisories) before publishing.
    await sleep(1_500);
    const perBroker = 50;
    for (let i = 0; i < 3; i++) {
      const client = await StompClient.connect(`tcp://127.0.0.1:${ports[i]}`);
      for (let n = 0; n < perBroker; n++) client.send('/topic/mesh', `${names[i]}-${n}`);
      await client.disconnect();
    }
    await waitUntil(() => subscribers.every((s) => s.bodies.length >= 3 * perBroker), 'every message at every subscriber');
    await sleep(1_500);
    for (const s of subscribers) {
      expect(s.bodies).toHaveLength(3 * perBroker);
      expect(new Set(s.bodies).size).toBe(3 * perBroker);
      s.client.close();
    }
  }, 60_000);

  it('experiment 3: one-way bridges from group 1 to all of group 2: case A holds, and nothing flows back from group 2', async () => {
    // Group 2 first: group 1's connector names its members.
    const g2 = await TestGroup.create('gtwo');
    groups.push(g2);
    const g2Members = `masterslave:(${g2.members.map((m) => `tcp://127.0.0.1:${m.stompPort}`).join(',')})`;
    const g1 = await TestGroup.create('gone', { extraArgs: ['--network', g2Members] });
    groups.push(g1);
    await Promise.all([g1.startAll(), g2.startAll()]);

    // Case A: 3 messages sent to group 1's master survive its death on group 1's new master.
    const g1Master = await g1.master();
    await sendPersistent(`tcp://127.0.0.1:${g1Master.stompPort}`, '/queue/exp3', ['a1', 'a2', 'a3']);
    await g1Master.kill('SIGKILL');
    const g1Consumer = await consume(g1.failoverUri(), '/queue/exp3');
    await waitUntil(() => g1Consumer.bodies.length >= 3, 'the 3 messages on group 1\'s new master');
    expect(g1Consumer.bodies).toEqual(['a1', 'a2', 'a3']);

    // The one-way gap: messages sent to group 2 never reach group 1's consumer (no bridge runs that way).
    await sendPersistent(g2.failoverUri(), '/queue/exp3', ['b1', 'b2', 'b3']);
    await sleep(3_000);
    expect(g1Consumer.bodies).toEqual(['a1', 'a2', 'a3']);
    // What a group 2 consumer sees: those 3 (on its own group), and on demand anything group 1 forwards.
    const g2Consumer = await consume(g2.failoverUri(), '/queue/exp3');
    await waitUntil(() => g2Consumer.bodies.length >= 3, 'group 2\'s own messages');
    expect(g2Consumer.bodies.slice(0, 3)).toEqual(['b1', 'b2', 'b3']);
    g1Consumer.close();
    g2Consumer.close();
  }, 120_000);

  it('experiment 4: with duplex=true, 3 messages sent to group 2\'s master reach a consumer on group 1 after that master is killed', async () => {
    const g2 = await TestGroup.create('gtwod');
    groups.push(g2);
    const g2Members = `masterslave:(${g2.members.map((m) => `tcp://127.0.0.1:${m.stompPort}`).join(',')})?duplex=true`;
    const g1 = await TestGroup.create('goned', { extraArgs: ['--network', g2Members] });
    groups.push(g1);
    await Promise.all([g1.startAll(), g2.startAll()]);
    await g1.master();
    const g2Master = await g2.master();
    await sendPersistent(`tcp://127.0.0.1:${g2Master.stompPort}`, '/queue/exp4', ['d1', 'd2', 'd3']);
    await g2Master.kill('SIGKILL');
    const g1Consumer = await consume(g1.failoverUri(), '/queue/exp4');
    await waitUntil(() => g1Consumer.bodies.length >= 3, 'the 3 messages, forwarded back over the duplex bridge', 40_000);
    await sleep(500);
    expect(g1Consumer.bodies).toEqual(['d1', 'd2', 'd3']);
    g1Consumer.close();
  }, 120_000);
});
