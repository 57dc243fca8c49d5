/**
 * Members that fall behind catch up: a brand-new, empty member joins a group that has taken 100,000
 * persistent messages, and a member that was killed while another 100,000 flowed comes back; each ends up
 * holding the master's whole log (from a snapshot of the store, since the master keeps only 10,000 entries
 * in memory), and after the master is killed a consumer gets all 200,000 messages from one of them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { StompClient } from '@mini-amq/stomp';
import { CLI } from './helpers/broker-process.js';
import { TestGroup, type GroupMemberProcess } from './helpers/group.js';

const PER_PHASE = 100_000;
const IN_FLIGHT = 500;

interface Replication { position: { index: number }; slaves: Array<{ node: string; state: string; match: number }> }

async function replicationOf(group: TestGroup): Promise<Replication> {
  const { stdout } = await promisify(execFile)(CLI, ['status', '--url', group.failoverUri(), '--json']);
  return (JSON.parse(stdout) as { replication: Replication }).replication;
}

/** Sends `count` persistent messages numbered from `from`, receipts pipelined, straight to the master. */
async function send(port: number, from: number, count: number): Promise<void> {
  const client = await StompClient.connect(`tcp://127.0.0.1:${port}`);
  client.on('error', () => {});
  const pending = new Set<Promise<void>>();
  const body = 'x'.repeat(100);
  for (let n = from; n < from + count; n++) {
    const p = client.sendWithReceipt('/queue/catchup', body, { persistent: 'true', n: String(n) }).finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= IN_FLIGHT) await Promise.race(pending);
  }
  await Promise.all(pending);
  client.close();
}

async function caughtUp(group: TestGroup, member: GroupMemberProcess, ms = 60_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const r = await replicationOf(group);
    const p = r.slaves.find((s) => s.node === member.name);
    if (p !== undefined && p.state === 'replicate' && p.match === r.position.index) return Date.now() - started;
    if (Date.now() - started > ms) {
      const logs = group.members.map((m) => `${m.name}: ${m.messages().slice(-15).join(' | ')}`).join('\n');
      throw new Error(`${member.name} did not catch up within ${ms} ms: ${JSON.stringify(r)}\n${logs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('members that fall behind', () => {
  let group: TestGroup | null = null;
  afterEach(async () => {
    await group?.stop();
    group = null;
  });

  it(`a brand-new member and one that was down while ${PER_PHASE} messages flowed both catch up`, async () => {
    group = await TestGroup.create('catch');
    const [a, b, fresh] = group.members as [GroupMemberProcess, GroupMemberProcess, GroupMemberProcess];
    await Promise.all([a.start(), b.start()]);
    let master = await group.master();
    await send(master.stompPort, 0, PER_PHASE);

    await fresh.start();
    const freshMs = await caughtUp(group, fresh);

    const away = master === a ? b : a;
    await away.kill('SIGKILL');
    await send(master.stompPort, PER_PHASE, PER_PHASE);
    await away.start();
    const awayMs = await caughtUp(group, away);
    const lines = master.messages();
    expect(lines.some((l) => l.startsWith(`${fresh.name} is behind the log tail kept: sending it a snapshot`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`${away.name} is behind the log tail kept: sending it a snapshot`))).toBe(true);
    console.log(`catch-up: brand-new member ${freshMs} ms for ${PER_PHASE} messages, returning member ${awayMs} ms for ${PER_PHASE} more`);

    // Both hold everything: whichever becomes master next serves all of it, once each and in order.
    await master.kill('SIGKILL');
    master = await group.master();
    expect(master).not.toBe(group.members.find((m) => !m.running));
    const consumer = await StompClient.connect(`tcp://127.0.0.1:${master.stompPort}`);
    const seen: number[] = [];
    consumer.subscribe('/queue/catchup', (m) => { seen.push(Number(m.headers.n)); m.ack(); }, { ack: 'client-individual' });
    const deadline = Date.now() + 60_000;
    while (seen.length < 2 * PER_PHASE && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 300));
    consumer.close();
    expect(seen.length).toBe(2 * PER_PHASE);
    expect(seen.every((n, i) => n === i)).toBe(true);
  }, 180_000);
});
