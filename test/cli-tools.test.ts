/**
 * Goal: the built `mini-amq produce`, `consume`, `browse` and `status` do what README promises against a
 * real broker, seen from outside: exit statuses, the --json results, no message lost or duplicated on a
 * produce → browse → consume round trip, no more taken than --count, one-line failures. Method: the binary
 * (`node packages/cli/bin/mini-amq.js …`, built by `npm test` first) as child processes against a broker
 * that is itself a child process (`mini-amq start` on OS-chosen ports, via spawnBroker); pipes, not a
 * terminal, so no progress bar may appear.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, killAllBrokers, spawnBroker, type BrokerProcess } from './helpers/broker-process.js';

/** A client command on an idle local broker finishes well within this; past it the test reports a hang. */
const COMMAND_MS_MAX = 20_000;
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mini-amq-tools-'));
  tempDirs.push(dir);
  return dir;
}

interface Exit { readonly code: number | null; readonly stdout: string; readonly stderr: string }

/** Runs the binary to completion; kills it (and fails) when it outlives COMMAND_MS_MAX. */
function run(args: readonly string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mini-amq ${args.join(' ')} still running after ${COMMAND_MS_MAX} ms; stderr: ${stderr}`));
    }, COMMAND_MS_MAX);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the binary, expects status 0 and one JSON value on stdout, and returns it. */
async function json<T = Record<string, unknown>>(args: readonly string[]): Promise<T> {
  const exit = await run([...args, '--json']);
  expect({ code: exit.code, stderr: exit.stderr }).toEqual({ code: 0, stderr: '' });
  expect(exit.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(exit.stdout) as T;
}

let broker: BrokerProcess;
let url: string;

beforeAll(async () => {
  broker = await spawnBroker(['--data', tempDir()]);
  url = `tcp://127.0.0.1:${broker.stompPort}`;
});

afterAll(async () => {
  await killAllBrokers();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

interface BrowsedMessage { messageId: string; headers: Record<string, string>; body: string; bytes: number }

describe('a produce → browse → consume round trip', () => {
  const destination = 'queue://tools.roundtrip';

  it('produce 500 persistent messages: exit 0, sent 500, and nothing on stderr (not a terminal)', async () => {
    const result = await json(['produce', '--url', url, '--destination', destination, '--count', '500', '--persistent']);
    expect(result).toMatchObject({
      command: 'produce', destination: '/queue/tools.roundtrip', requested: 500, sent: 500, bodyBytes: 1024, persistent: true, receipts: true,
    });
    expect(result.producerRun).toEqual(expect.any(String));
  });

  it('browse lists the 500 in order without consuming them', async () => {
    const first = await json<BrowsedMessage[]>(['browse', '--url', url, '--destination', destination]);
    expect(first).toHaveLength(500);
    expect(first.map((m) => Number(m.headers.seq))).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(first[0]).toMatchObject({ bytes: 1024, headers: { persistent: 'true' } });
    const again = await json<BrowsedMessage[]>(['browse', '--url', url, '--destination', destination]);
    expect(again.map((m) => m.messageId)).toEqual(first.map((m) => m.messageId));

    const table = await run(['browse', '--url', url, '--destination', destination]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('500 messages on /queue/tools.roundtrip (browsed, not consumed)');
    expect(table.stdout).toContain(first[0]!.messageId);
  });

  it('consume --count 500 receives all 500: lost 0, duplicates 0; the queue is then empty', async () => {
    const result = await json(['consume', '--url', url, '--destination', destination, '--count', '500']);
    expect(result).toMatchObject({ command: 'consume', requested: 500, received: 500, lost: 0, duplicates: 0, untracked: 0, endedBy: 'count' });
    expect(result.runs).toEqual([expect.objectContaining({ received: 500, distinct: 500, minSeq: 0, maxSeq: 499 })]);
    expect(await json<BrowsedMessage[]>(['browse', '--url', url, '--destination', destination])).toEqual([]);
  });
});

describe('consume', () => {
  it('takes no more than --count: the rest stays on the queue, in order', async () => {
    const destination = 'queue://tools.partial';
    await json(['produce', '--url', url, '--destination', destination, '--count', '50', '--receipts', '--size', '10']);
    const first = await json(['consume', '--url', url, '--destination', destination, '--count', '20']);
    expect(first).toMatchObject({ received: 20, lost: 0, duplicates: 0 });
    const left = await json<BrowsedMessage[]>(['browse', '--url', url, '--destination', destination]);
    expect(left.map((m) => Number(m.headers.seq))).toEqual(Array.from({ length: 30 }, (_, i) => 20 + i));
  });

  it('--print writes each body on its own line and the summary on stderr', async () => {
    const destination = 'queue://tools.print';
    await json(['produce', '--url', url, '--destination', destination, '--count', '3', '--message', 'hello']);
    const exit = await run(['consume', '--url', url, '--destination', destination, '--count', '3', '--print']);
    expect(exit.code).toBe(0);
    expect(exit.stdout).toBe('hello\nhello\nhello\n');
    expect(exit.stderr).toMatch(/^received 3 messages from \/queue\/tools\.print in .*, lost 0, duplicates 0\n$/);
  });

  it('--timeout before --count: exit 1 naming the timeout, and the result still printed', async () => {
    const destination = 'queue://tools.timeout';
    await json(['produce', '--url', url, '--destination', destination, '--count', '2']);
    const exit = await run(['consume', '--url', url, '--destination', destination, '--count', '5', '--timeout', '1', '--json']);
    expect(exit.code).toBe(1);
    expect(exit.stderr.trim()).toBe('mini-amq: timeout: no message for 1 s; received 2 of 5');
    expect(JSON.parse(exit.stdout)).toMatchObject({ received: 2, endedBy: 'timeout' });
  });
});

describe('status', () => {
  // Needs the broker's statistics destination (the lead's half of issue 3).
  it('--json lists the queues with their pending counts; the table shows them too', async () => {
    const destination = 'queue://tools.status';
    await json(['produce', '--url', url, '--destination', destination, '--count', '7', '--persistent']);
    const status = await json<{ brokerName: string; role: string; destinations: Array<Record<string, unknown>> }>(['status', '--url', url]);
    expect(status).toMatchObject({ brokerName: 'localhost', role: 'standalone' });
    expect(status.destinations).toContainEqual(expect.objectContaining({ destination: '/queue/tools.status', pending: 7 }));
    const table = await run(['status', '--url', url]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^\/queue\/tools\.status\s+7\s/m);
  });
});

describe('failures', () => {
  it('a URL nobody listens on: exit 1, "cannot connect … connection refused"', async () => {
    const exit = await run(['produce', '--url', 'tcp://127.0.0.1:1', '--destination', 'queue://x']);
    expect(exit.code).toBe(1);
    expect(exit.stderr.trim()).toBe('mini-amq: cannot connect to tcp://127.0.0.1:1: connection refused');
    for (const command of [['consume', '--destination', 'queue://x'], ['browse', '--destination', 'queue://x'], ['status']]) {
      const other = await run([...command, '--url', 'tcp://127.0.0.1:1']);
      expect(other.code).toBe(1);
      expect(other.stderr).toContain('cannot connect to tcp://127.0.0.1:1');
    }
  });

  it('an unknown flag: exit 2, naming it and pointing to the command\'s --help', async () => {
    for (const command of ['produce', 'consume', 'browse', 'status']) {
      const exit = await run([command, '--destination', 'queue://x', '--bogus']);
      expect(exit.code).toBe(2);
      expect(exit.stderr.trim()).toBe(command === 'status'
        ? 'mini-amq: unknown flag --destination for mini-amq status; see mini-amq status --help'
        : `mini-amq: unknown flag --bogus for mini-amq ${command}; see mini-amq ${command} --help`);
    }
  });

  it('every command\'s --help exits 0', async () => {
    for (const command of ['produce', 'consume', 'browse', 'status']) {
      const exit = await run([command, '--help']);
      expect(exit.code).toBe(0);
      expect(exit.stdout).toContain(`Usage: mini-amq ${command}`);
    }
  });

  it('a refused login: exit 1, "authentication refused by the broker: …"', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'broker.json'), JSON.stringify({
      plugins: { simpleAuthenticationPlugin: { users: [{ username: 'admin', password: 'secret' }] } },
    }));
    const secured = await spawnBroker(['--data', path.join(dir, 'data'), '--config', path.join(dir, 'broker.json')]);
    const target = `tcp://127.0.0.1:${secured.stompPort}`;
    const refused = await run(['produce', '--url', target, '--destination', 'queue://x', '--user', 'admin', '--password', 'wrong']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe('mini-amq: authentication refused by the broker: User name [admin] or password is invalid.');
    await json(['produce', '--url', target, '--destination', 'queue://x', '--count', '1', '--user', 'admin', '--password', 'secret']);
    await secured.kill();
  });
});
