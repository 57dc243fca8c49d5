// A forwarded message (a network bridge's SEND carries NetworkMessageId and NetworkPath) that arrives again
// along the same path is a redelivery from a bridge whose broker died before it could ACK: it is dropped
// and still receipted. Arriving along another path it is new (a stranded message flowing back).
import { describe, expect, it } from 'vitest';
import { NETWORK_MESSAGE_ID_HEADER } from '../src/index.js';
import { barrier, startTestBroker, subscribe } from './test-helpers.js';

const forwarded = (id: string, path: string) => ({ persistent: 'true', [NETWORK_MESSAGE_ID_HEADER]: id, NetworkPath: path, NetworkHops: '1' });

describe('de-duplication of forwarded messages', () => {
  it('drops a message forwarded twice along the same path, receipting both sends', async () => {
    const broker = await startTestBroker();
    const c = await broker.connect();
    await c.sendWithReceipt('/queue/net', 'x once', forwarded('ID:A-1-7', ',A,'));
    await c.sendWithReceipt('/queue/net', 'x again', forwarded('ID:A-1-7', ',A,'));
    await c.sendWithReceipt('/queue/net', 'y', forwarded('ID:A-1-8', ',A,'));
    // The same original message back along a longer path: stored again.
    await c.sendWithReceipt('/queue/net', 'x back', forwarded('ID:A-1-7', ',A,B,'));
    const inbox = await subscribe(c, '/queue/net');
    await inbox.count(3);
    await barrier(c);
    expect(inbox.texts).toEqual(['x once', 'y', 'x back']);
    expect(broker.broker.duplicatesDropped).toBe(1);
  });

  it('does not remember non-persistent forwarded messages, nor messages without the header', async () => {
    const broker = await startTestBroker();
    const c = await broker.connect();
    for (let i = 0; i < 2; i++) await c.sendWithReceipt('/queue/net2', `np${i}`, { ...forwarded('ID:A-1-9', ',A,'), persistent: 'false' });
    for (let i = 0; i < 2; i++) await c.sendWithReceipt('/queue/net2', `plain${i}`, { persistent: 'true' });
    const inbox = await subscribe(c, '/queue/net2');
    await inbox.count(4);
    expect(inbox.texts).toEqual(['np0', 'np1', 'plain0', 'plain1']);
  });
});
