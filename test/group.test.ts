/**
 * Replicated LevelDB groups as users run them: real `mini-amq start --group` processes, a real ZooKeeper,
 * clients through `failover:(…)`, masters killed with SIGKILL.
 * - The article's experiment 1: 3 messages sent through the failover URI survive the master's death.
 * - Slaves keep their client ports closed, and report whom they follow and where their log is.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { FailoverClient } from '@mini-amq/stomp';
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
});

async function waitUntil(probe: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
