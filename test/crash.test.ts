/**
 * Nothing acknowledged is lost: a real broker process takes persistent SENDs with receipts (20 in flight)
 * and is killed with SIGKILL at random moments, 12 times, restarted on the same LevelDB directory each
 * time; a consumer then must receive every receipted message exactly once and in send order.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StompClient } from '@mini-amq/stomp';
import { killAllBrokers, spawnBroker } from './helpers/broker-process.js';

const KILLS = 12;
const IN_FLIGHT = 20;

describe('SIGKILL under a producer waiting for receipts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mini-amq-crash-'));
  afterAll(async () => {
    await killAllBrokers();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`keeps every receipted message across ${KILLS} kills, once and in order`, async () => {
    const receipted = new Set<number>();
    let nextSeq = 0;
    for (let round = 0; round < KILLS; round++) {
      const broker = await spawnBroker(['--data', dataDir, '--name', 'crash']);
      const client = await StompClient.connect(`tcp://127.0.0.1:${broker.stompPort}`);
      client.on('error', () => {});
      let stopped = false;
      const producing = (async () => {
        const inFlight = new Set<Promise<void>>();
        while (!stopped) {
          const seq = nextSeq++;
          const p = client.sendWithReceipt('/queue/crash', `message ${seq}`, { persistent: 'true', seq: String(seq) })
            .then(() => { receipted.add(seq); }, () => { stopped = true; })
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
        }
        await Promise.allSettled(inFlight);
      })();
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 1000));
      await broker.kill('SIGKILL');
      stopped = true;
      await producing;
      client.close();
    }
    expect(receipted.size).toBeGreaterThan(KILLS * 20);

    const broker = await spawnBroker(['--data', dataDir, '--name', 'crash']);
    const consumer = await StompClient.connect(`tcp://127.0.0.1:${broker.stompPort}`);
    const seen: number[] = [];
    let lastAt = Date.now();
    consumer.subscribe('/queue/crash', (m) => {
      seen.push(Number(m.headers.seq));
      lastAt = Date.now();
      m.ack();
    }, { ack: 'client-individual' });
    const deadline = Date.now() + 60_000;
    while (Date.now() - lastAt < 1500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await consumer.disconnect();
    await broker.kill('SIGTERM');

    const counts = new Map<number, number>();
    for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
    const duplicates = [...counts].filter(([, n]) => n > 1).map(([s]) => s);
    const missing = [...receipted].filter((s) => !counts.has(s));
    expect(duplicates).toEqual([]);
    expect(missing).toEqual([]);
    const outOfOrder = seen.filter((s, i) => i > 0 && s <= seen[i - 1]!);
    expect(outOfOrder).toEqual([]);
  }, 180_000);
});
