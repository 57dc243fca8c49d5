// Goal: topic messages reach every remote subscriber exactly once through one bridge subscription per
// topic (conduitSubscriptions), wildcard subscribers included, and in a 3-broker mesh where each broker
// bridges to the other two every subscriber gets every message exactly once and nothing circulates
// (counts stay exact after a pause); method: brokers in this process, real sockets.
import { describe, expect, it } from 'vitest';
import type { StompClient } from '@mini-amq/stomp';
import { connect, connected, demand, sleep, startNamedBroker, staticUri, waitFor, type TestBroker } from './helpers.js';

/** A plain (auto-ack) topic subscriber that keeps bodies. */
async function listen(client: StompClient, destination: string): Promise<string[]> {
  const bodies: string[] = [];
  await client.subscribe(destination, (m) => { bodies.push(m.text); }, { receipt: true }).ready;
  return bodies;
}

async function publish(broker: TestBroker, destination: string, bodies: readonly string[]): Promise<void> {
  const c = await broker.client();
  for (const body of bodies) await c.sendWithReceipt(destination, body);
}

describe('topic forwarding', () => {
  it('gives each subscriber on B each message once, through one bridge subscription', async () => {
    const a = await startNamedBroker('A');
    const b = await startNamedBroker('B');
    const bridge = connect(a, staticUri(b));
    await connected(bridge);
    const exact1 = await listen(await b.client(), '/topic/prices.eur');
    const exact2 = await listen(await b.client(), '/topic/prices.eur');
    const wildcard = await listen(await b.client(), '/topic/prices.>');
    await demand(bridge, '/topic/prices.eur');
    await demand(bridge, '/topic/prices.>');
    // One bridge subscription per topic (plus one for the wildcard), however many subscribers on B.
    expect(a.consumers('/topic/prices.eur')).toBe(1);
    const sent = Array.from({ length: 30 }, (_, i) => `p${i}`);
    await publish(a, '/topic/prices.eur', sent);
    await publish(a, '/topic/prices.usd', ['u1']);
    await waitFor(() => exact1.length === 30 && exact2.length === 30 && wildcard.length === 31, () => `all delivered (${exact1.length}, ${exact2.length}, ${wildcard.length})`);
    await sleep(300);
    expect(exact1).toEqual(sent);
    expect(exact2).toEqual(sent);
    expect([...wildcard].sort()).toEqual([...sent, 'u1'].sort());
  });

  it('in a 3-broker mesh, every subscriber gets every message exactly once and nothing circulates', async () => {
    const [x, y, z] = await Promise.all(['X', 'Y', 'Z'].map((n) => startNamedBroker(n))) as [TestBroker, TestBroker, TestBroker];
    const all = [x, y, z];
    const bridges = all.map((b) => connect(b, staticUri(...all.filter((o) => o !== b))));
    const subscribers = await Promise.all(all.map(async (b) => listen(await b.client(), '/topic/mesh')));
    for (const bridge of bridges) await connected(bridge);
    for (const bridge of bridges) await waitFor(() => bridge.status().every((s) => s.demand.includes('/topic/mesh')), () => JSON.stringify(bridge.status()));
    const perBroker = 40;
    for (const b of all) await publish(b, '/topic/mesh', Array.from({ length: perBroker }, (_, i) => `${b.name}-${i}`));
    await waitFor(() => subscribers.every((s) => s.length >= 3 * perBroker), () => `every message everywhere (${subscribers.map((s) => s.length)})`);
    await sleep(1_000);
    for (const s of subscribers) {
      expect(s).toHaveLength(3 * perBroker);
      expect(new Set(s).size).toBe(3 * perBroker);
    }
    // Each broker forwarded each of its own messages once to each neighbour, and nothing else.
    for (const bridge of bridges) expect(bridge.status().map((st) => st.forwarded)).toEqual([perBroker, perBroker]);
  });
});
