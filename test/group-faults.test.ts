/**
 * Nothing acknowledged is lost in a replicated group, whatever happens to its master:
 * - Soak: a producer waiting for receipts (20 in flight) and a consumer at full speed, both through
 *   `failover:(…)`, while the current master is killed with SIGKILL at random moments 20 times (each killed
 *   member restarted at once, rejoining as a slave). With quorum_mem and with quorum_disk, every receipted
 *   message is consumed; none is stored twice (a re-send after failover is dropped by the replicated
 *   de-duplication window); none arrives twice except a redelivery, with its message-id, whose first
 *   delivery's ack died with a master; and first deliveries keep the producer's order.
 * - Pause: a master stopped (SIGSTOP) past its ZooKeeper session timeout is replaced; resumed (SIGCONT),
 *   it never acknowledges another write: a SEND on a connection it still holds gets no receipt.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StompClient } from '@mini-amq/stomp';
import { TestGroup } from './helpers/group.js';
import { audit, CountingConsumer, CountingProducer } from './helpers/traffic.js';

const KILLS = 20;
const IN_FLIGHT = 20;

describe('a replicated group under master failures', () => {
  let group: TestGroup | null = null;
  afterEach(async () => {
    await group?.stop();
    group = null;
  });

  for (const sync of ['quorum_mem', 'quorum_disk']) {
    it(`${sync}: ${KILLS} SIGKILLs of the master under load lose no receipted message`, async () => {
      group = await TestGroup.create(sync === 'quorum_mem' ? 'soakm' : 'soakd', { sync });
      await group.startAll();
      await group.master();
      const destination = `/queue/soak-${sync}`;
      const consumer = await CountingConsumer.start(group.failoverUri(), destination);
      const producer = await CountingProducer.start(group.failoverUri(), destination, IN_FLIGHT);
      const masters: string[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        const master = await group.master(30_000);
        masters.push(master.name);
        // A random moment: the new master has served for 0.2–1 s, with the load on it.
        await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 800));
        await master.kill('SIGKILL');
        await master.start();
      }
      await group.master(30_000);
      await producer.stop();
      await consumer.idle(1_500, 60_000);
      consumer.client.close();
      producer.client.close();

      // Every kill hit a serving master, and a killed master (restarted at once) rejoined as a slave: the
      // next master was always another member.
      expect(masters).toHaveLength(KILLS);
      const reelected = masters.filter((name, i) => i > 0 && name === masters[i - 1]);
      expect(reelected).toEqual([]);
      expect(producer.receipted.size).toBeGreaterThan(KILLS * 20);

      const books = audit(producer, consumer);
      expect(books.missing).toEqual([]);
      // A second delivery is only allowed across a failover (its first copy's ack may have died with the
      // master that took it), and then with its message-id: another id would be a second stored copy.
      expect(books.sameConnectionTwice).toEqual([]);
      expect(books.storedTwice).toEqual([]);
      // At most the consumer's prefetch window per failover could come again; far fewer do in practice.
      expect(books.redeliveries).toBeLessThan(KILLS * 1000);
      // First deliveries come in the producer's order.
      expect(books.firstsOutOfOrder).toEqual([]);
    }, 300_000);
  }

  it('a master paused past its session timeout is replaced and, resumed, acknowledges nothing more', async () => {
    group = await TestGroup.create('pause');
    await group.startAll();
    const paused = await group.master();
    const direct = await StompClient.connect(`tcp://127.0.0.1:${paused.stompPort}`);
    direct.on('error', () => {});
    await direct.sendWithReceipt('/queue/pause', 'before', { persistent: 'true' });

    paused.signal('SIGSTOP');
    try {
      // Its session expires after 2 s; the others elect among themselves.
      const deadline = Date.now() + 30_000;
      let replacement = null;
      while (replacement === null && Date.now() < deadline) {
        replacement = group.members.find((m) => m !== paused && m.running && m.serving) ?? null;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(replacement).not.toBeNull();
    } finally {
      paused.signal('SIGCONT');
    }
    // Straight after resuming, the old master still holds the client connection: a SEND on it must not be
    // receipted (its slaves follow a newer epoch and reject its entries; it fences as soon as it notices).
    const outcome = await Promise.race([
      direct.sendWithReceipt('/queue/pause', 'after', { persistent: 'true' }).then(() => 'receipted', () => 'failed'),
      new Promise<string>((resolve) => setTimeout(() => resolve('no receipt'), 5_000)),
    ]);
    expect(outcome).not.toBe('receipted');
    direct.close();
    await waitUntil(() => paused.messages().some((line) => line.startsWith('closing client connections')), 'the resumed master to close its client connections');

    // The group has exactly one master, and it holds the message receipted before the pause, not the other.
    const master = await group.master();
    expect(master).not.toBe(paused);
    const consumer = await StompClient.connect(`tcp://127.0.0.1:${master.stompPort}`);
    const bodies: string[] = [];
    consumer.subscribe('/queue/pause', (m) => { bodies.push(m.body.toString()); m.ack(); }, { ack: 'client-individual' });
    await waitUntil(() => bodies.length >= 1, 'the message sent before the pause');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bodies).toEqual(['before']);
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
