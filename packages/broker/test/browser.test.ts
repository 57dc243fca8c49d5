// Goal: a `browser:true` subscription lists a queue's messages without consuming them and ends with a
// `browser:end` MESSAGE [ActiveMQ stomp.md: browser], also over a backlog paged out of memory; method:
// StompClients on a real broker, comparing what the browser saw with what a consumer gets afterwards.
import { describe, expect, it } from 'vitest';
import { frame, messageOf, sendMany, startTestBroker, subscribe } from './test-helpers.js';

const browse = { headers: { browser: 'true' } };

describe('queue browser', () => {
  it('lists the messages in order without consuming them, then browser:end; a consumer still gets them all', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    await sendMany(producer, '/queue/browse', 3, { 'x-k': 'v' });
    const c = await b.connect();
    const seen = await subscribe(c, '/queue/browse', { ...browse, id: 'b1' });
    await seen.count(4);
    const [m1, , , end] = seen.messages;
    expect(seen.texts.slice(0, 3)).toEqual(['m1', 'm2', 'm3']);
    expect(m1!.headers).toMatchObject({ browser: 'true', subscription: 'b1', destination: '/queue/browse', 'x-k': 'v' });
    expect(end!.headers).toMatchObject({ browser: 'end', subscription: 'b1' });
    expect(end!.body.length).toBe(0);
    expect(b.stats('/queue/browse')).toMatchObject({ pending: 3, inflight: 0, dequeued: 0 });
    const inbox = await subscribe(c, '/queue/browse');
    await inbox.count(3);
    expect(inbox.texts).toEqual(['m1', 'm2', 'm3']);
    expect(inbox.messages.map((m) => m.messageId)).toEqual(seen.messages.slice(0, 3).map((m) => m.messageId));
  });

  it('sends only browser:end for an empty queue', async () => {
    const b = await startTestBroker();
    const seen = await subscribe(await b.connect(), '/queue/browse.empty', browse);
    const [end] = await seen.count(1);
    expect(end!.headers.browser).toBe('end');
  });

  it('applies a selector', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    for (const color of ['red', 'blue', 'red']) await producer.sendWithReceipt('/queue/browse.sel', color, { color });
    const seen = await subscribe(await b.connect(), '/queue/browse.sel', { headers: { browser: 'true', selector: "color = 'red'" } });
    await seen.count(3);
    expect(seen.texts).toEqual(['red', 'red', '']);
  });

  it('lists a persistent backlog larger than the in-memory window, each message once, and a consumer then gets all in order', async () => {
    const b = await startTestBroker();
    const producer = await b.connect();
    const n = 2_300; // more than PAGE_IN_MESSAGES_MAX (2000): the tail stays in the store
    await sendMany(producer, '/queue/browse.big', n, { persistent: 'true' });
    const seen = await subscribe(await b.connect(), '/queue/browse.big', browse);
    await seen.count(n + 1);
    expect(seen.messages[n]!.headers.browser).toBe('end');
    const texts = seen.texts.slice(0, n);
    expect(new Set(texts).size).toBe(n);
    expect(texts).toEqual(Array.from({ length: n }, (_, i) => `m${i + 1}`));
    const inbox = await subscribe(await b.connect(), '/queue/browse.big');
    await inbox.count(n);
    expect(inbox.texts).toEqual(texts);
  });

  it('is refused on a topic', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    await raw.connect();
    raw.write(frame('SUBSCRIBE', { destination: '/topic/t', id: '1', browser: 'true' }));
    expect(messageOf(await raw.error())).toContain('browser:true works on queues only');
  });
});
