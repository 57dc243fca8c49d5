// Goal: a SUBSCRIBE `selector` filters deliveries on queues and topics as a JMS selector does in
// ActiveMQ, and a bad selector is an ERROR that says what is wrong; method: StompClients on a real
// broker, sending messages with and without matching headers.
import { describe, expect, it } from 'vitest';
import { barrier, frame, headersOf, messageOf, startTestBroker, subscribe } from './test-helpers.js';

const selector = "color = 'red' AND n > 3";
const samples: Array<[string, Record<string, string | number>]> = [
  ['red-5', { color: 'red', n: 5 }],
  ['red-2', { color: 'red', n: 2 }],
  ['blue-9', { color: 'blue', n: 9 }],
  ['none', {}],
  ['red-4', { color: 'red', n: 4 }],
];

describe('selectors', () => {
  it('on a queue: the selecting consumer gets only matches, the rest stay for others', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const picky = await subscribe(c, '/queue/sel', { headers: { selector } });
    const producer = await b.connect();
    for (const [body, headers] of samples) await producer.sendWithReceipt('/queue/sel', body, headers);
    await picky.count(2);
    await barrier(c);
    expect(picky.texts).toEqual(['red-5', 'red-4']);
    expect(b.stats('/queue/sel').pending).toBe(3);
    const rest = await subscribe(await b.connect(), '/queue/sel');
    await rest.count(3);
    expect(rest.texts).toEqual(['red-2', 'blue-9', 'none']);
  });

  it('on a topic: each subscriber gets the copies its selector accepts', async () => {
    const b = await startTestBroker();
    const c1 = await b.connect();
    const c2 = await b.connect();
    const picky = await subscribe(c1, '/topic/sel', { headers: { selector } });
    const all = await subscribe(c2, '/topic/sel');
    const producer = await b.connect();
    for (const [body, headers] of samples) await producer.sendWithReceipt('/topic/sel', body, headers);
    await all.count(samples.length);
    await barrier(c1);
    expect(picky.texts).toEqual(['red-5', 'red-4']);
  });

  it('sees JMS header names (JMSPriority, JMSDeliveryMode)', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const urgent = await subscribe(c, '/queue/sel.jms', { headers: { selector: "JMSPriority > 6 AND JMSDeliveryMode = 'PERSISTENT'" } });
    const producer = await b.connect();
    await producer.sendWithReceipt('/queue/sel.jms', 'low', { priority: 2, persistent: 'true' });
    await producer.sendWithReceipt('/queue/sel.jms', 'high-np', { priority: 8 });
    await producer.sendWithReceipt('/queue/sel.jms', 'high', { priority: 8, persistent: 'true' });
    await urgent.count(1);
    await barrier(c);
    expect(urgent.texts).toEqual(['high']);
  });

  it('refuses a bad selector with an ERROR that says where and why, with the receipt-id', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    await raw.connect();
    raw.write(frame('SUBSCRIBE', { destination: '/queue/sel.bad', id: '1', selector: "color = 'red' AND", receipt: 'r1' }));
    const error = await raw.error();
    const message = messageOf(error);
    expect(message.toLowerCase()).toContain('selector');
    expect(message).toMatch(/end|expected|position|column/i);
    expect(headersOf(error)['receipt-id']).toBe('r1');
    expect(b.stats('/queue/sel.bad').consumers).toBe(0);
  });

  it('refuses an unterminated string in a selector', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    const sub = c.subscribe('/topic/sel.bad', () => {}, { headers: { selector: "color = 'red" }, receipt: true });
    await expect(sub.ready).rejects.toThrow(/selector/i);
  });
});
