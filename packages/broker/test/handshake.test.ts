// Goal: the broker's CONNECT/STOMP handshake follows [STOMP 1.2: Connecting, Protocol Negotiation,
// Heart-beating] and ActiveMQ's authentication and client-id rules; method: raw sockets on a real
// broker, reading the exact CONNECTED / ERROR frames and watching when the broker closes.
import { describe, expect, it } from 'vitest';
import { frame, header, headersOf, messageOf, sleep, startTestBroker, waitFor, rejectionOf } from './test-helpers.js';

describe('version negotiation', () => {
  it('speaks 1.0 to a client without accept-version: CONNECTED has no version header', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    const connected = await raw.connect({ login: 'x' });
    expect(connected.command).toBe('CONNECTED');
    const h = headersOf(connected);
    expect(h.version).toBeUndefined();
    expect(h.server).toMatch(/^mini-amq\//);
    expect(h.session).toBeTruthy();
  });

  it('picks the highest common version: accept-version:1.1,1.2 gives 1.2, with server, session and heart-beat', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    const connected = await raw.connect({ 'accept-version': '1.1,1.2', host: 'localhost' });
    expect(connected.command).toBe('CONNECTED');
    expect(headersOf(connected)).toMatchObject({ version: '1.2', 'heart-beat': '0,0' });
    expect(header(connected, 'server')).toMatch(/^mini-amq\//);
    expect(header(connected, 'session')).toBeTruthy();
  });

  it('accepts accept-version:1.0,1.1 as 1.1, and the STOMP command like CONNECT', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    const connected = await raw.connect({ 'accept-version': '1.0,1.1', host: 'localhost' }, 'STOMP');
    expect(connected.command).toBe('CONNECTED');
    expect(header(connected, 'version')).toBe('1.1');
  });

  it('gives each connection its own session id', async () => {
    const b = await startTestBroker();
    const [c1, c2] = await Promise.all([b.connect(), b.connect()]);
    expect(c1.session).not.toBe(c2.session);
  });

  it('refuses accept-version:2.0 with an ERROR listing its versions in a version header, then closes', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    raw.write(frame('CONNECT', { 'accept-version': '2.0', host: 'localhost' }));
    const error = await raw.error();
    expect(header(error, 'version')).toBe('1.0,1.1,1.2');
    expect(messageOf(error)).toContain('Supported protocol versions are');
    expect(header(error, 'content-length')).toBe(String(error.body.length));
    expect(raw.frames.filter((f) => f.command === 'CONNECTED')).toHaveLength(0);
  });
});

describe('authentication', () => {
  const users = [{ username: 'admin', password: 'secret' }];

  it('refuses a bad password with ActiveMQ\'s sentence, then closes', async () => {
    const b = await startTestBroker({ users });
    const raw = await b.raw();
    raw.write(frame('CONNECT', { 'accept-version': '1.2', host: 'localhost', login: 'admin', passcode: 'wrong' }));
    const error = await raw.error();
    expect(messageOf(error)).toBe('User name [admin] or password is invalid.');
  });

  it('refuses a missing login when users are configured', async () => {
    const b = await startTestBroker({ users });
    const err = await rejectionOf(b.connect());
    expect(err.message).toBe('User name [] or password is invalid.');
  });

  it('accepts good credentials', async () => {
    const b = await startTestBroker({ users });
    const client = await b.connect({ login: 'admin', passcode: 'secret' });
    expect(client.version).toBe('1.2');
    await client.sendWithReceipt('/queue/auth', 'ok');
  });

  it('reads CONNECT headers without un-escaping them [STOMP 1.2: Value Encoding]', async () => {
    const b = await startTestBroker({ users: [{ username: 'we\\cird', password: 'p:w' }] });
    const raw = await b.raw();
    raw.write('CONNECT\naccept-version:1.2\nhost:localhost\nlogin:we\\cird\npasscode:p:w\n\n\0');
    expect((await raw.next()).command).toBe('CONNECTED');
  });

  it('accepts any login when no users are configured', async () => {
    const b = await startTestBroker();
    const client = await b.connect({ login: 'whoever', passcode: 'whatever' });
    await client.sendWithReceipt('/queue/anon', 'ok');
  });
});

describe('frame order and identity', () => {
  it('answers a frame before CONNECT with an ERROR, then closes', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    raw.write(frame('SEND', { destination: '/queue/early' }, 'x'));
    const error = await raw.error();
    expect(messageOf(error)).toContain('expected CONNECT or STOMP as the first frame, got SEND');
    expect(b.stats('/queue/early').enqueued).toBe(0);
  });

  it('answers a second CONNECT with an ERROR, then closes', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    expect((await raw.connect()).command).toBe('CONNECTED');
    raw.write(frame('CONNECT', { 'accept-version': '1.2', host: 'localhost' }));
    expect(messageOf(await raw.error())).toContain('second CONNECT');
  });

  it('refuses a second connection with a client-id already in use, and frees it when the first leaves', async () => {
    const b = await startTestBroker();
    const first = await b.connect({ clientId: 'app-1' });
    const err = await rejectionOf(b.connect({ clientId: 'app-1' }));
    expect(err.message).toContain('Client: app-1 already connected');
    // A different id is fine meanwhile.
    await b.connect({ clientId: 'app-2' });
    await first.disconnect();
    await waitFor(() => b.server.connectionCount === 1, 'the first connection to be gone');
    const again = await b.connect({ clientId: 'app-1' });
    expect(again.isOpen).toBe(true);
  });
});

describe('heart-beats', () => {
  it('sends EOLs to a client that asks for them (heart-beat:0,200)', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    const connected = await raw.connect({ 'accept-version': '1.2', host: 'localhost', 'heart-beat': '0,200' });
    expect(header(connected, 'heart-beat')).toBe('200,0');
    const start = Date.now();
    await waitFor(() => raw.heartBeats >= 3, '3 heart-beats', 2_000);
    // Three beats at 200 ms apart take at least ~400 ms; far faster would mean the interval is ignored.
    expect(Date.now() - start).toBeGreaterThanOrEqual(350);
    expect(raw.isClosed).toBe(false);
  });

  it('closes a client that promised heart-beats (200,0) and went silent, with an ERROR, within ~1 s', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    const connected = await raw.connect({ 'accept-version': '1.2', host: 'localhost', 'heart-beat': '200,0' });
    expect(header(connected, 'heart-beat')).toBe('0,200');
    const start = Date.now();
    const error = await raw.error(2_000);
    expect(Date.now() - start).toBeLessThan(1_000);
    expect(messageOf(error)).toContain('no data from the client');
  });

  it('keeps a client that heart-beats connected well past the grace period', async () => {
    const b = await startTestBroker();
    const client = await b.connect({ heartBeat: [100, 0] });
    expect(client.heartBeats.sendMs).toBe(100);
    await sleep(700); // > 4 × (100 ms × 1.5 grace): a client not beating would be gone by now
    expect(client.isOpen).toBe(true);
    await client.sendWithReceipt('/queue/hb', 'still here');
  });

  it('does not heart-beat a 1.0 client (heart-beats came with 1.1)', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    const connected = await raw.connect({ 'heart-beat': '0,100' });
    expect(header(connected, 'heart-beat')).toBeUndefined();
    await sleep(350);
    expect(raw.heartBeats).toBe(0);
  });

  it('refuses a malformed heart-beat header', async () => {
    const b = await startTestBroker();
    const raw = await b.raw();
    raw.write(frame('CONNECT', { 'accept-version': '1.2', host: 'localhost', 'heart-beat': 'fast' }));
    expect(messageOf(await raw.error())).toContain('heart-beat header must be');
  });
});
