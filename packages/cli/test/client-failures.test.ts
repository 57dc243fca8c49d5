/**
 * Goal: every way a client command can fail to reach or keep its broker ends in one line naming the cause
 * (refused, unknown host, timeout, refused login, lost connection, the broker's ERROR), and surprises are
 * left alone so their stack shows. Method: errors shaped as the STOMP client builds them, plus real
 * sockets: a port nobody listens on, and a tiny server that accepts CONNECT and then drops the connection.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeFrame, frame, FrameDecoder, StompError } from '@mini-amq/stomp';
import { BrokerSession } from '../src/broker-session.js';
import type { CommandIo } from '../src/command-io.js';
import { explainConnectFailure, explainRunFailure } from '../src/client-failures.js';
import { CliError } from '../src/errors.js';

const url = 'tcp://127.0.0.1:61613';
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:61613`), { code, syscall: 'connect' });
/** StompClient's connect failure around a socket error, inside FailoverClient's give-up, as they nest. */
const gaveUp = (inner: Error, attempts = 1) => new StompError(
  'STOMP_CONNECT_FAILED',
  `could not connect to any broker after ${attempts} attempt(s) in 1 round(s); tried ${url}; last error: ${inner.message}`,
  { cause: new StompError('STOMP_CONNECT_FAILED', `cannot connect to ${url}: ${inner.message}`, { cause: inner }) },
);

const io: CommandIo = {
  out: () => {},
  err: { isTTY: false, columns: 80, write: () => {} },
  now: () => performance.now(),
  signal: new AbortController().signal,
};

describe('explainConnectFailure', () => {
  it.each([
    ['ECONNREFUSED', 'connection refused'],
    ['ENOTFOUND', 'host not found'],
    ['EHOSTUNREACH', 'host unreachable'],
    ['ECONNRESET', 'connection reset by the broker'],
  ])('%s: "cannot connect to URL: %s"', (code, reason) => {
    const explained = explainConnectFailure(gaveUp(socketError(code)), url);
    expect(explained).toMatchObject({ code: 'CLI_CONNECT_FAILED', message: `cannot connect to ${url}: ${reason}` });
  });

  it('no CONNECTED in time is a timeout', () => {
    const error = gaveUp(new StompError('STOMP_CONNECT_FAILED', `no CONNECTED from ${url} within 10000 ms`));
    expect(explainConnectFailure(error, url)?.message).toBe(`cannot connect to ${url}: timeout: no CONNECTED frame within 10 s`);
  });

  it('a failover URL says how many attempts it made', () => {
    const failover = 'failover:(tcp://a:1,tcp://b:2)?startupMaxReconnectAttempts=3';
    expect(explainConnectFailure(gaveUp(socketError('ECONNREFUSED'), 6), failover)?.message)
      .toBe(`cannot connect to ${failover}: connection refused (gave up after 6 attempt(s))`);
  });

  it('the broker refusing the login is an authentication failure, whatever wraps it', () => {
    const refused = new StompError('STOMP_SERVER_ERROR', 'User name [bob] or password is invalid.');
    expect(explainConnectFailure(refused, url)).toMatchObject({
      code: 'CLI_AUTH_REFUSED', message: 'authentication refused by the broker: User name [bob] or password is invalid.',
    });
    expect(explainConnectFailure(gaveUp(refused), url)?.code).toBe('CLI_AUTH_REFUSED');
  });

  it('another ERROR answering CONNECT is quoted', () => {
    const full = gaveUp(new StompError('STOMP_SERVER_ERROR', 'maximumConnections (1000) reached'));
    expect(explainConnectFailure(full, url)?.message).toBe(`cannot connect to ${url}: the broker answered with an ERROR: maximumConnections (1000) reached`);
  });

  it('anything else is not ours to explain', () => {
    expect(explainConnectFailure(new TypeError('bug'), url)).toBeNull();
    expect(explainConnectFailure(new StompError('STOMP_BAD_URI', 'bad'), url)).toBeNull();
  });

  it('a real refused connection', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await BrokerSession.open({ url: `tcp://127.0.0.1:${port}`, login: undefined, passcode: undefined }, io).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe(`cannot connect to tcp://127.0.0.1:${port}: connection refused`);
  });
});

describe('explainRunFailure', () => {
  const closed = (cause: Error) => new StompError('STOMP_CONNECTION_CLOSED', `failover client for ${url} closed before it was confirmed`, { cause });

  it('the broker\'s ERROR, even behind the "closed" it caused', () => {
    const error = new StompError('STOMP_SERVER_ERROR', 'destination /queue/x is full');
    expect(explainRunFailure(error, url)).toMatchObject({ code: 'CLI_BROKER_ERROR', message: 'the broker sent an ERROR: destination /queue/x is full' });
    expect(explainRunFailure(closed(error), url)?.code).toBe('CLI_BROKER_ERROR');
  });

  it('a lost connection names the reason', () => {
    const lost = new StompError('STOMP_CONNECTION_CLOSED', `connection to ${url} lost: read ECONNRESET`, { cause: socketError('ECONNRESET') });
    expect(explainRunFailure(closed(lost), url)).toMatchObject({ code: 'CLI_CONNECTION_LOST', message: `connection to ${url} lost: connection reset by the broker` });
  });

  it('a failover send timeout is a timeout', () => {
    const error = new StompError('STOMP_TIMEOUT', 'no broker connection within 3000 ms (failover timeout)');
    expect(explainRunFailure(error, url)).toMatchObject({ code: 'CLI_TIMEOUT', message: 'timeout: no broker connection within 3000 ms (failover timeout)' });
  });

  it('a surprise is left alone', () => {
    expect(explainRunFailure(new RangeError('bug'), url)).toBeNull();
  });
});

describe('BrokerSession.lost', () => {
  it('fails with the reason once the broker drops the connection, and stays quiet after close()', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      const decoder = new FrameDecoder();
      socket.on('data', (chunk) => {
        decoder.push(chunk);
        for (let f = decoder.next(); f !== null; f = decoder.next()) {
          if (f.command === 'CONNECT') socket.write(encodeFrame(frame('CONNECTED', { version: '1.2' }), '1.2'));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const target = `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      const session = await BrokerSession.open({ url: target, login: undefined, passcode: undefined }, io);
      for (const s of sockets) s.destroy();
      const error = await session.lost.then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(CliError);
      expect(error).toMatchObject({ code: 'CLI_CONNECTION_LOST' });
      expect((error as CliError).message).toMatch(new RegExp(`^connection to ${target} lost: `));

      const ended = await BrokerSession.open({ url: target, login: undefined, passcode: undefined }, io);
      ended.close();
      const outcome = await Promise.race([ended.lost.then(() => 'resolved', () => 'rejected'), new Promise((r) => setTimeout(r, 100, 'quiet'))]);
      expect(outcome).toBe('quiet');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
