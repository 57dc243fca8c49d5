/**
 * Goal: `mini-amq status` asks for the statistics exactly as the contract says (SUBSCRIBE to the reply
 * temp-queue first, then an empty SEND to /queue/ActiveMQ.Statistics.Broker naming it in reply-to), shows
 * the answer as a dstat-like table or passes it on as JSON, and fails with one line when no answer or a
 * malformed one comes. Method: runStatus in-process against a tiny fake STOMP server on a real socket
 * that answers like the broker will; the table itself through the pure statusTable.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, frame, FrameDecoder, header, type Frame } from '@mini-amq/stomp';
import type { CommandIo } from '../src/command-io.js';
import { parseStatusArgs, runStatus, STATISTICS_DESTINATION, STATUS_REPLY_DESTINATION, type StatusArgs } from '../src/commands/status.js';
import { CliError } from '../src/errors.js';
import { readStatistics, statusTable } from '../src/status-report.js';

const STATISTICS = {
  brokerName: 'b1', role: 'master', group: 'g1', version: '0.1.0', uptimeMs: 187_000, connections: 3, stompPort: 61613, wsPort: null,
  destinations: [
    { destination: '/queue/orders', pending: 12, inflight: 3, consumers: 1, enqueued: 40, dequeued: 25, memoryBytes: 12_288 },
    { destination: '/topic/prices', pending: 0, inflight: 0, consumers: 2, enqueued: 7, dequeued: 14, memoryBytes: 0 },
  ],
  members: [{ name: 'b2', role: 'slave' }],
};

/** How the fake answers the statistics request: a body, or silence. */
type Answer = string | null;

interface FakeStatisticsBroker {
  readonly port: number;
  /** Every frame received, in order, over all connections. */
  readonly frames: Frame[];
  close(): Promise<void>;
}

/** A STOMP 1.2 server that does just enough: CONNECTED, RECEIPTs, and the statistics answer. */
async function fakeBroker(answer: Answer): Promise<FakeStatisticsBroker> {
  const frames: Frame[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const decoder = new FrameDecoder();
    const subscriptions = new Map<string, string>(); // destination → id
    const send = (f: Frame) => socket.write(encodeFrame(f, '1.2'));
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      for (let f = decoder.next(); f !== null; f = decoder.next()) {
        if (f.command === null) continue;
        const got = f as Frame;
        frames.push(got);
        if (got.command === 'CONNECT' || got.command === 'STOMP') {
          decoder.version = '1.2';
          send(frame('CONNECTED', { version: '1.2', server: 'fake' }));
          continue;
        }
        if (got.command === 'SUBSCRIBE') subscriptions.set(header(got, 'destination')!, header(got, 'id')!);
        const receipt = header(got, 'receipt');
        if (receipt !== undefined) send(frame('RECEIPT', { 'receipt-id': receipt }));
        if (got.command === 'DISCONNECT') socket.end();
        const replyTo = header(got, 'reply-to');
        if (got.command === 'SEND' && header(got, 'destination') === STATISTICS_DESTINATION && replyTo !== undefined && answer !== null) {
          send(frame('MESSAGE', {
            subscription: subscriptions.get(replyTo) ?? 'none', 'message-id': 'ID:stats-1', destination: replyTo, 'content-type': 'application/json',
          }, answer));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    frames,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A CommandIo that records stdout and stderr. */
function recordingIo(): CommandIo & { stdout: () => string } {
  let out = '';
  return {
    out: (text) => { out += text; },
    err: { isTTY: false, columns: 80, write: () => {} },
    now: () => performance.now(),
    signal: new AbortController().signal,
    stdout: () => out,
  };
}

let broker: FakeStatisticsBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

function argsFor(port: number, ...flags: string[]): StatusArgs {
  const parsed = parseStatusArgs(['--url', `tcp://127.0.0.1:${port}`, ...flags]);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed;
}

async function failureOf(work: Promise<unknown>): Promise<CliError> {
  const error = await work.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe('against a fake broker', () => {
  it('subscribes to the reply queue, then sends the empty request with reply-to; prints the table', async () => {
    broker = await fakeBroker(JSON.stringify(STATISTICS));
    const io = recordingIo();
    expect(await runStatus(argsFor(broker.port), io)).toBe(0);

    const commands = broker.frames.map((f) => f.command);
    expect(commands.indexOf('SUBSCRIBE')).toBeLessThan(commands.indexOf('SEND'));
    const subscribe = broker.frames.find((f) => f.command === 'SUBSCRIBE')!;
    expect(header(subscribe, 'destination')).toBe(STATUS_REPLY_DESTINATION);
    const request = broker.frames.find((f) => f.command === 'SEND')!;
    expect(header(request, 'destination')).toBe('/queue/ActiveMQ.Statistics.Broker');
    expect(header(request, 'reply-to')).toBe('/temp-queue/mini-amq-status');
    expect(request.body.length).toBe(0);
    expect(Number(header(request, 'expires'))).toBeGreaterThan(Date.now());
    expect(commands.at(-1)).toBe('DISCONNECT');

    expect(io.stdout()).toBe(statusTable(readStatistics(JSON.stringify(STATISTICS))));
    expect(io.stdout()).toContain('/queue/orders');
  });

  it('--json passes the answer on whole, keys this version does not know included', async () => {
    broker = await fakeBroker(JSON.stringify(STATISTICS));
    const io = recordingIo();
    expect(await runStatus(argsFor(broker.port, '--json'), io)).toBe(0);
    expect(io.stdout().endsWith('\n')).toBe(true);
    expect(io.stdout().trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(io.stdout())).toEqual(STATISTICS);
  });

  it('no answer: CLI_TIMEOUT naming the statistics destination', async () => {
    broker = await fakeBroker(null);
    const error = await failureOf(runStatus(argsFor(broker.port), recordingIo(), 200));
    expect(error.code).toBe('CLI_TIMEOUT');
    expect(error.message).toMatch(/^no answer from the broker's statistics destination within 0\.2 s/);
  });

  it('an answer that is not the expected JSON: CLI_BAD_ANSWER saying what is wrong', async () => {
    broker = await fakeBroker('<html>nope</html>');
    const error = await failureOf(runStatus(argsFor(broker.port), recordingIo()));
    expect(error.code).toBe('CLI_BAD_ANSWER');
    expect(error.message).toMatch(/^the broker's statistics answer is not what mini-amq status expects: not JSON/);
  });
});

describe('readStatistics', () => {
  const body = (change: Record<string, unknown>) => JSON.stringify({ ...STATISTICS, ...change });
  it.each([
    ['[]', 'not a JSON object'],
    [body({ brokerName: 1 }), '"brokerName" must be a string'],
    [body({ role: undefined }), '"role" must be a string'],
    [body({ group: 5 }), '"group" must be a string or null'],
    [body({ uptimeMs: -1 }), '"uptimeMs" must be a non-negative integer'],
    [body({ connections: '3' }), '"connections" must be a non-negative integer'],
    [body({ stompPort: 'x' }), '"stompPort" must be a port number or null'],
    [body({ destinations: {} }), '"destinations" must be an array'],
    [body({ destinations: [{ pending: 1 }] }), 'destinations[0] must be an object with a "destination" string'],
    [body({ destinations: [{ ...STATISTICS.destinations[0], inflight: 1.5 }] }), 'destinations[0].inflight must be a non-negative integer'],
  ])('%s is refused: %s', (text, why) => {
    expect(() => readStatistics(text)).toThrow(`the broker's statistics answer is not what mini-amq status expects: ${why}`);
  });

  it('a standalone broker: group null, no WebSocket port, no version', () => {
    const { version: _, ...rest } = STATISTICS;
    const s = readStatistics(JSON.stringify({ ...rest, role: 'standalone', group: null, wsPort: null }));
    expect(s).toMatchObject({ role: 'standalone', group: null, wsPort: null, version: 'unknown' });
  });
});

describe('statusTable', () => {
  it('reads like activemq dstat: the broker block, then one row per destination sorted by name', () => {
    const text = statusTable(readStatistics(JSON.stringify({ ...STATISTICS, destinations: [...STATISTICS.destinations].reverse() })));
    expect(text).toBe([
      'Broker       b1',
      'Role         master',
      'Group        g1',
      'Version      0.1.0',
      'Uptime       3 min 07 s',
      'Connections  3',
      'Ports        STOMP 61613',
      '',
      'Name           Queue Size  In Flight #  Consumer #  Enqueue #  Dequeue #    Memory',
      '/queue/orders          12            3           1         40         25  12.0 KiB',
      '/topic/prices           0            0           2          7         14       0 B',
      '',
    ].join('\n'));
  });

  it('leaves out the temporary queue status itself asks on', () => {
    const own = { destination: '/remote-temp-queue/d5ed584:mini-amq-status', pending: 0, inflight: 0, consumers: 1, enqueued: 0, dequeued: 0, memoryBytes: 0 };
    const other = { ...own, destination: '/remote-temp-queue/d5ed584:replies' };
    const text = statusTable(readStatistics(JSON.stringify({ ...STATISTICS, destinations: [own, other] })));
    expect(text).not.toContain('mini-amq-status');
    expect(text).toContain('/remote-temp-queue/d5ed584:replies');
  });

  it('a broker without destinations says so', () => {
    expect(statusTable(readStatistics(JSON.stringify({ ...STATISTICS, destinations: [] })))).toContain('(no destinations yet)');
  });
});
