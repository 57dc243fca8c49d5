/**
 * Replicated LevelDB groups as users run them: real `mini-amq start --group` processes, a real ZooKeeper,
 * clients through `failover:(…)`, masters killed with SIGKILL.
 * - The article's experiment 1: 3 messages sent through the failover URI survive the master's death.
 * - Slaves keep their client ports closed, and report whom they follow and where their log is.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { FailoverClient } from '@mini-amq/stomp';
import { CLI } from './helpers/broker-process.js';
import { TestGroup } from './helpers/group.js';

async function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(true));
  });
}

describe('a replicated group of three broker processes', () => {
  let group: TestGroup | null = null;
  afterEach(async () => {
    await group?.stop();
    group = null;
  });

  it('experiment 1: 3 messages sent to the master are received through failover after the master is killed', async () => {
    group = await TestGroup.create('exp1');
    await group.startAll();
    const master = await group.master();
    const slaves = group.members.filter((m) => m !== master);
    // Slaves: no client port, and a log line saying whom they follow at which position.
    for (const s of slaves) {
      expect(await refuses(s.stompPort)).toBe(true);
      await waitUntil(() => s.messages().some((line) => new RegExp(`^slave of ${master.name} at position \\(\\d+,\\d+\\)`).test(line)), `${s.name} to log that it follows ${master.name}`);
    }

    const producer = await FailoverClient.connect(group.failoverUri());
    producer.on('error', () => {});
    for (let i = 1; i <= 3; i++) await producer.sendWithReceipt('/queue/exp1', `message ${i}`, { persistent: 'true' });
    producer.close();

    // `mini-amq status` through the same URI reaches the master and shows every member's log position.
    const status = await promisify(execFile)(CLI, ['status', '--url', group.failoverUri(), '--json']);
    const answer = JSON.parse(status.stdout) as { role: string; group: string; replication: { node: string; role: string; position: { index: number }; slaves: Array<{ node: string; match: number }> } };
    expect(answer).toMatchObject({ role: 'master', group: 'exp1', replication: { node: master.name, role: 'master' } });
    expect(answer.replication.slaves.map((p) => p.node).sort()).toEqual(slaves.map((p) => p.name).sort());
    for (const p of answer.replication.slaves) expect(p.match).toBe(answer.replication.position.index);
    const table = await promisify(execFile)(CLI, ['status', '--url', group.failoverUri()]);
    expect(table.stdout).toMatch(/Replication\s+exp1\d/);
    expect(table.stdout).toMatch(/Holds through/);

    await master.kill('SIGKILL');
    const promoted = await group.master();
    expect(slaves).toContain(promoted);

    const consumer = await FailoverClient.connect(group.failoverUri());
    consumer.on('error', () => {});
    const bodies: string[] = [];
    consumer.subscribe('/queue/exp1', (m) => { bodies.push(m.body.toString()); m.ack(); }, { ack: 'client-individual' });
    await waitUntil(() => bodies.length >= 3, 'the 3 messages on the new master');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bodies).toEqual(['message 1', 'message 2', 'message 3']);
    consumer.close();
  }, 90_000);

  it('with fewer than a quorum of members, nobody serves and each says why', async () => {
    group = await TestGroup.create('lonely');
    const [alone] = group.members;
    await alone!.start();
    await waitUntil(() => alone!.messages().includes('Not enough cluster members connected to elect a master (1 of 3 connected, 2 needed)'), 'the lonely member to say why it waits');
    expect(alone!.serving).toBe(false);
    expect(await refuses(alone!.stompPort)).toBe(true);
    // A second member makes a quorum: one of the two serves.
    await group.members[1]!.start();
    const master = await group.master();
    expect([alone!.name, group.members[1]!.name]).toContain(master.name);
  }, 60_000);
});

async function waitUntil(probe: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
