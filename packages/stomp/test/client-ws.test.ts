// Goal: StompClient works over a real WebSocket however the broker packs frames into messages; method:
// a ws WebSocketServer fake broker sends frames whole, coalesced into one message and split across two.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, frame, header, StompClient, STOMP_WS_PROTOCOLS, type Message } from '@mini-amq/stomp';
import { startFakeBroker, type FakeBroker } from './fake-broker.js';

let broker: FakeBroker | undefined;
let client: StompClient | undefined;
afterEach(async () => {
  client?.close();
  await broker?.close();
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('StompClient over WebSocket', () => {
  it('connects with a STOMP subprotocol, sends, subscribes, receives and disconnects', async () => {
    broker = await startFakeBroker('ws', { version: '1.2' });
    client = await StompClient.connect(`ws://127.0.0.1:${broker.port}/stomp`, { login: 'u' });
    expect(client.version).toBe('1.2');
    expect(broker.connections[0]?.protocol).toBe(STOMP_WS_PROTOCOLS[0]);

    await client.sendWithReceipt('/queue/a', Buffer.from([1, 0, 2]), { 'x:y': 'a\nb' });
    const sent = await broker.waitForFrame((f) => f.command === 'SEND');
    expect(sent.body).toEqual(Buffer.from([1, 0, 2]));
    expect(header(sent, 'x:y')).toBe('a\nb');

    const got: Message[] = [];
    const sub = client.subscribe('/queue/a', (m) => got.push(m), { receipt: true });
    await sub.ready;
    const conn = broker.connections[0];
    const message = (n: number): Buffer => encodeFrame(frame('MESSAGE', { subscription: sub.id, 'message-id': `ID:${n}`, destination: '/queue/a', 'content-length': 1 }, String(n)), '1.2');
    conn?.sendRaw(message(1)); // one frame per message
    conn?.sendRaw(Buffer.concat([message(2), Buffer.from('\n'), message(3)])); // coalesced, with a heart-beat between
    const split = message(4);
    conn?.sendRaw(split.subarray(0, 10)); // one frame split across two messages
    conn?.sendRaw(split.subarray(10));
    await waitUntil(() => got.length === 4);
    expect(got.map((m) => [m.messageId, m.text])).toEqual([['ID:1', '1'], ['ID:2', '2'], ['ID:3', '3'], ['ID:4', '4']]);

    await client.disconnect();
    expect(client.isClosed).toBe(true);
    expect(client.lastError).toBeNull();
    expect((await broker.waitForFrame((f) => f.command === 'DISCONNECT')).command).toBe('DISCONNECT');
  });

  it('reports back-pressure: send returns false while the broker does not read, waitDrain resolves after', async () => {
    broker = await startFakeBroker('ws');
    client = await StompClient.connect(`ws://127.0.0.1:${broker.port}`);
    broker.connections[0]?.pause();
    const body = Buffer.alloc(256 * 1024, 0x61);
    let sends = 0;
    for (let round = 0; round < 200 && client.writable; round++) {
      while (sends < 2_000 && client.send('/queue/a', body)) sends++;
      sends++; // the send that returned false went out as well
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(client.writable).toBe(false);
    const waited = client.waitDrain();
    broker.connections[0]?.resume();
    await waited;
    expect(client.writable).toBe(true);
    await waitUntil(() => (broker?.connections[0]?.frames.length ?? 0) === sends + 1); // + CONNECT
  });

  it('reports an HTTP-level refusal as STOMP_CONNECT_FAILED', async () => {
    broker = await startFakeBroker('tcp'); // not a WebSocket server: the upgrade fails
    let caught: unknown;
    try { client = await StompClient.connect({ scheme: 'ws', host: '127.0.0.1', port: broker.port, path: '/' }, { connectTimeoutMs: 2_000 }); } catch (err) { caught = err; }
    expect((caught as { code?: string }).code).toBe('STOMP_CONNECT_FAILED');
    expect((caught as Error).message).toMatch(new RegExp(`^cannot connect to ws://127.0.0.1:${broker.port}/: `));
  });
});
