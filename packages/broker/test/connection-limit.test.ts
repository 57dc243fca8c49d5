// Goal: ActiveMQ's `maximumConnections` bounds a connector: one connection too many gets an ERROR
// naming the limit and is closed, and a slot frees as soon as a connection ends, whichever way it
// ends; method: StompClients and raw sockets against a real broker with maximumConnections = 3 (or 1).
import { describe, expect, it } from 'vitest';
import { messageOf, rejectionOf, startTestBroker, waitFor } from './test-helpers.js';

describe('maximumConnections', () => {
  it('refuses the 4th of 3 allowed with an ERROR that names maximumConnections, and accepts again once one closes', async () => {
    const b = await startTestBroker({ maximumConnections: 3 });
    const clients = [await b.connect(), await b.connect(), await b.connect()];
    const err = await rejectionOf(b.connect());
    expect(err.message).toContain('maximumConnections (3)');
    const raw = await b.raw();
    const error = await raw.error();
    expect(messageOf(error)).toContain('maximumConnections');
    // The three still work.
    for (const c of clients) await c.sendWithReceipt('/queue/limit', 'ok');
    await clients[0]!.disconnect();
    await waitFor(() => b.server.connectionCount === 2, 'the slot to free');
    const fourth = await b.connect();
    await fourth.sendWithReceipt('/queue/limit', 'in');
    await expect(b.connect()).rejects.toThrow('maximumConnections');
  });

  it('frees a slot when a client drops its socket without DISCONNECT', async () => {
    const b = await startTestBroker({ maximumConnections: 1 });
    const c = await b.connect();
    c.close();
    await waitFor(() => b.server.connectionCount === 0, 'the dropped connection to be released', 1_000);
    await b.connect();
  });

  for (const [what, bytes] of [
    ['after an ERROR', 'SEND\ndestination:/nowhere\n\nx\0'],
    ['after a DISCONNECT', 'DISCONNECT\nreceipt:bye\n\n\0'],
  ] as const) {
    it(`frees a slot promptly ${what}, also when the client keeps writing and then half-closes`, async () => {
      const b = await startTestBroker({ maximumConnections: 1 });
      const raw = await b.raw();
      await raw.connect();
      raw.write(bytes);
      // Frames the broker will not read any more, then our FIN behind them.
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        raw.write(`SEND\ndestination:/queue/ignored\n\n${'x'.repeat(1000)}\0`);
      }
      raw.socket.end();
      await raw.waitClosed();
      // Well under the broker's 5 s safety timer for peers that never close.
      await waitFor(() => b.server.connectionCount === 0, 'the connection to be released', 1_000);
      const next = await b.connect();
      expect(next.isOpen).toBe(true);
    });
  }
});
