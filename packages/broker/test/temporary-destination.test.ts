// Goal: request/reply over temporary destinations works as in ActiveMQ: a `/temp-queue/X` in reply-to
// reaches the responder as a `/remote-temp-queue/…` name it can SEND to, and the destination dies with
// the connection that created it; method: three StompClients (requester, responder, bystander) on a
// real broker.
import { describe, expect, it } from 'vitest';
import { barrier, startTestBroker, subscribe, waitFor } from './test-helpers.js';

describe('temporary destinations', () => {
  it('routes a reply to the requester through the rewritten reply-to', async () => {
    const b = await startTestBroker();
    const requester = await b.connect();
    const responder = await b.connect();
    const replies = await subscribe(requester, '/temp-queue/replies');
    const requests = await subscribe(responder, '/queue/service');
    requests.onMessage = (m) => responder.send(m.headers['reply-to']!, `re:${m.text}`, { 'correlation-id': m.headers['correlation-id']! });
    await requester.sendWithReceipt('/queue/service', 'ping', { 'reply-to': '/temp-queue/replies', 'correlation-id': 'c1' });
    const [request] = await requests.count(1);
    expect(request!.headers['reply-to']).toMatch(/^\/remote-temp-queue\/.+replies$/);
    const [reply] = await replies.count(1);
    expect(reply!.text).toBe('re:ping');
    expect(reply!.headers['correlation-id']).toBe('c1');
    expect(reply!.destination).toBe('/temp-queue/replies');
  });

  it('gives two connections using the same temp name separate destinations', async () => {
    const b = await startTestBroker();
    const a = await b.connect();
    const c = await b.connect();
    const aInbox = await subscribe(a, '/temp-queue/mine');
    const cInbox = await subscribe(c, '/temp-queue/mine');
    await a.sendWithReceipt('/temp-queue/mine', 'for a');
    await c.sendWithReceipt('/temp-queue/mine', 'for c');
    await aInbox.count(1);
    await cInbox.count(1);
    await barrier(a);
    await barrier(c);
    expect(aInbox.texts).toEqual(['for a']);
    expect(cInbox.texts).toEqual(['for c']);
  });

  it('works for temp topics too', async () => {
    const b = await startTestBroker();
    const requester = await b.connect();
    const responder = await b.connect();
    const events = await subscribe(requester, '/temp-topic/events');
    const requests = await subscribe(responder, '/queue/svc.topic');
    requests.onMessage = (m) => responder.send(m.headers['reply-to']!, 'event');
    await requester.sendWithReceipt('/queue/svc.topic', 'go', { 'reply-to': '/temp-topic/events' });
    const [request] = await requests.count(1);
    expect(request!.headers['reply-to']).toMatch(/^\/remote-temp-topic\//);
    expect((await events.count(1))[0]!.text).toBe('event');
  });

  it('refuses a SEND to the reply-to once the requester has disconnected, and the broker carries on', async () => {
    const b = await startTestBroker();
    const requester = await b.connect();
    const responder = await b.connect();
    await subscribe(requester, '/temp-queue/replies');
    const requests = await subscribe(responder, '/queue/service2');
    await requester.sendWithReceipt('/queue/service2', 'ping', { 'reply-to': '/temp-queue/replies' });
    const [request] = await requests.count(1);
    const replyTo = request!.headers['reply-to']!;
    await requester.disconnect();
    await waitFor(() => b.server.connectionCount === 1, 'the requester to be gone');
    await expect(responder.sendWithReceipt(replyTo, 'too late')).rejects.toThrow(/does not exist/);
    await responder.closed;
    const bystander = await b.connect();
    await bystander.sendWithReceipt('/queue/service2', 'still fine');
  });

  it('does not let another connection SEND to a temp destination that was never created', async () => {
    const b = await startTestBroker();
    const c = await b.connect();
    await expect(c.sendWithReceipt('/remote-temp-queue/nobody:x', 'x')).rejects.toThrow(/does not exist/);
  });

  it('does not let another connection consume from someone else\'s temp queue', async () => {
    const b = await startTestBroker();
    const owner = await b.connect();
    const replies = await subscribe(owner, '/temp-queue/private');
    const responder = await b.connect();
    const requests = await subscribe(responder, '/queue/leak');
    await owner.sendWithReceipt('/queue/leak', 'q', { 'reply-to': '/temp-queue/private' });
    const [request] = await requests.count(1);
    const thief = await b.connect();
    const sub = thief.subscribe(request!.headers['reply-to']!, () => {}, { receipt: true });
    await expect(sub.ready).rejects.toThrow('Cannot subscribe to remote temporary destination');
    responder.send(request!.headers['reply-to']!, 'secret');
    expect((await replies.count(1))[0]!.text).toBe('secret');
  });
});
