/**
 * Goal: the built `mini-amq` binary behaves as README promises, seen from outside: help, usage errors, config
 * errors, a broker that starts, answers STOMP, and stops cleanly on a signal, and one-line failures for a
 * taken port or a data directory in use. Method: `node packages/cli/bin/mini-amq.js …` as child processes
 * (npm test builds first), ports chosen by the OS (`--port 0`) and read back from the JSON log line,
 * a raw TCP socket for STOMP so no client library is involved.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'packages/cli/bin/mini-amq.js');
/** "Within a few seconds": a graceful stop of an idle broker must not take longer. */
const STOP_MS_MAX = 5_000;
/** A broker with an empty store starts in well under this. */
const START_MS_MAX = 15_000;
/** Any of our child processes left running after a test is killed, so a failing test cannot leak one. */
const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mini-amq-cli-'));
  tempDirs.push(dir);
  return dir;
}

interface Exit { readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly stdout: string; readonly stderr: string }

/** A running binary: its output so far and a promise of its exit. */
interface Child { readonly process: ChildProcess; readonly exit: Promise<Exit>; stdout(): string; stderr(): string }

function spawnCli(args: readonly string[]): Child {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: tempDir(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  const exit = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return { process: child, exit, stdout: () => out, stderr: () => err };
}

/** Runs the binary to completion. */
function run(args: readonly string[]): Promise<Exit> {
  return spawnCli(args).exit;
}

/** The JSON log lines printed so far (anything else on stdout is skipped). */
function logLines(stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').flatMap((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/** The line README promises once the broker listens: the bound ports and the data directory. */
function startedLine(stdout: string): Record<string, unknown> | undefined {
  return logLines(stdout).find((line) => 'stompPort' in line && 'dataDir' in line);
}

/** Starts a broker and waits for its "started" line; fails with its stderr if it exits first. */
async function startBroker(args: readonly string[]): Promise<{ child: Child; started: Record<string, unknown> }> {
  const child = spawnCli(['start', ...args]);
  const deadline = Date.now() + START_MS_MAX;
  let exited: Exit | null = null;
  void child.exit.then((e) => { exited = e; });
  for (;;) {
    const started = startedLine(child.stdout());
    if (started) return { child, started };
    if (exited) throw new Error(`broker exited (${(exited as Exit).code}) before starting:\n${(exited as Exit).stderr}${(exited as Exit).stdout}`);
    if (Date.now() > deadline) throw new Error(`broker did not log its ports within ${START_MS_MAX} ms:\n${child.stderr()}${child.stdout()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends a STOMP 1.2 CONNECT on a raw socket and resolves to the first frame the broker answers. */
function stompConnect(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer to CONNECT, got ${JSON.stringify(received)}`)); }, 5_000);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('CONNECT\naccept-version:1.2\nhost:localhost\n\n\0'));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\0');
      if (end >= 0) {
        clearTimeout(timer);
        socket.end();
        resolve(received.slice(0, end));
      }
    });
    socket.on('error', (error) => { clearTimeout(timer); reject(error); });
  });
}

/** Sends `signal` and waits for the exit, timing it. */
async function stop(child: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit & { ms: number }> {
  const begun = Date.now();
  child.process.kill(signal);
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running ${STOP_MS_MAX * 2} ms after ${signal}`)), STOP_MS_MAX * 2));
  const exit = await Promise.race([child.exit, timeout]);
  return { ...exit, ms: Date.now() - begun };
}

/** A TCP port held by this test process, as another program would hold it. */
async function occupiedPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, release: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A stack trace has lines like "    at foo (file.js:1:2)"; expected failures must not print one. */
const STACK_LINE = /^\s+at .+[:(]/m;

describe('help, version and usage errors', () => {
  it('mini-amq --help lists the commands and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('start');
  });

  it('mini-amq start --help documents every flag with its default', async () => {
    const { code, stdout } = await run(['start', '--help']);
    expect(code).toBe(0);
    for (const flag of ['--port', '--ws-port', '--no-ws', '--host', '--data', '--name', '--group', '--config',
      '--max-connections', '--max-frame-size', '--log-level', '--help', '-h', '--version']) {
      expect(stdout).toContain(flag);
    }
    for (const value of ['61613', '61614', '127.0.0.1', './data', 'quorum_mem', '127.0.0.1:2181']) expect(stdout).toContain(value);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string };
    const { code, stdout } = await run(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`mini-amq ${version}`);
  });

  it('an unknown flag exits 2 naming it and pointing to --help', async () => {
    const { code, stderr } = await run(['start', '--bogus']);
    expect(code).toBe(2);
    expect(stderr).toContain('--bogus');
    expect(stderr).toContain('--help');
    expect(stderr).not.toMatch(STACK_LINE);
  });

  it('an unknown command and a bad flag value exit 2', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
    const bad = await run(['start', '--port', 'abc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be a port number');
  });
});

describe('config errors', () => {
  async function withConfig(content: unknown): Promise<Exit & { file: string }> {
    const file = path.join(tempDir(), 'broker.json');
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return { ...(await run(['start', '--config', file])), file };
  }

  it('an unknown key exits 1 with its path, the known keys, and no stack trace', async () => {
    const { code, stderr, file } = await withConfig({ transportConnectors: [{ name: 'stomp', url: 'stomp://127.0.0.1:0' }] });
    expect(code).toBe(1);
    expect(stderr).toContain(file);
    expect(stderr).toContain('unknown key "url" at $.transportConnectors[0] (known: name, uri)');
    expect(stderr).not.toMatch(STACK_LINE);
  });

  it('a bad value exits 1 naming the setting, the value and its path', async () => {
    const { code, stderr } = await withConfig({ destinationPolicy: { maximumRedeliveries: 'six' } });
    expect(code).toBe(1);
    expect(stderr).toContain('maximumRedeliveries must be a non-negative integer, got "six" (at $.destinationPolicy.maximumRedeliveries)');
  });

  it('a missing file and bad JSON exit 1', async () => {
    expect((await run(['start', '--config', path.join(tempDir(), 'absent.json')])).code).toBe(1);
    const broken = await withConfig('{ "brokerName": ');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('is not valid JSON');
  });
});

describe('a running broker', () => {
  it('starts on OS-chosen ports, logs them, answers CONNECT, and stops on SIGTERM with status 0', async () => {
    const data = tempDir();
    const { child, started } = await startBroker(['--port', '0', '--ws-port', '0', '--data', data, '--name', 'b1']);
    expect(started).toMatchObject({ brokerName: 'b1', group: null, role: 'standalone', dataDir: data });
    expect(started.stompPort).toEqual(expect.any(Number));
    expect(started.stompPort).not.toBe(0);
    expect(started.wsPort).toEqual(expect.any(Number));
    expect(started.wsPort).not.toBe(started.stompPort);

    const answer = await stompConnect(started.stompPort as number);
    expect(answer.split('\n')[0]).toBe('CONNECTED');

    const exit = await stop(child, 'SIGTERM');
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(STOP_MS_MAX);
    expect(exit.stderr).toBe('');
    expect(logLines(exit.stdout).map((l) => l.msg)).toContain('shutdown complete');
  });

  it('stops on SIGINT too, releasing the data directory for the next broker', async () => {
    const data = tempDir();
    const first = await startBroker(['--port', '0', '--no-ws', '--data', data]);
    expect(first.started.wsPort).toBeNull();
    expect((await stop(first.child, 'SIGINT')).code).toBe(0);

    const second = await startBroker(['--port', '0', '--no-ws', '--data', data]);
    expect((await stompConnect(second.started.stompPort as number)).split('\n')[0]).toBe('CONNECTED');
    expect((await stop(second.child)).code).toBe(0);
  });

  it('takes its settings from a config file', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'broker.json'), JSON.stringify({
      brokerName: 'from-file',
      dataDirectory: './store',
      transportConnectors: [{ name: 'stomp', uri: 'stomp://127.0.0.1:0?maximumConnections=10' }],
    }));
    const { child, started } = await startBroker(['--config', path.join(dir, 'broker.json')]);
    expect(started).toMatchObject({ brokerName: 'from-file', dataDir: path.join(dir, 'store'), wsPort: null });
    expect((await stop(child)).code).toBe(0);
  });
});

describe('startup failures print one line and exit 1', () => {
  it('a STOMP port in use', async () => {
    const held = await occupiedPort();
    try {
      const { code, stderr } = await run(['start', '--port', String(held.port), '--ws-port', '0', '--data', tempDir()]);
      expect(code).toBe(1);
      expect(stderr.trim()).toBe(`mini-amq: port ${held.port} is already in use: stop the other broker or pass --port`);
    } finally {
      await held.release();
    }
  });

  it('a WebSocket port in use points to --ws-port', async () => {
    const held = await occupiedPort();
    try {
      const { code, stderr } = await run(['start', '--port', '0', '--ws-port', String(held.port), '--data', tempDir()]);
      expect(code).toBe(1);
      expect(stderr.trim()).toBe(`mini-amq: port ${held.port} is already in use: stop the other broker or pass --ws-port`);
    } finally {
      await held.release();
    }
  });

  it('a data directory another broker is using', async () => {
    const data = tempDir();
    const first = await startBroker(['--port', '0', '--ws-port', '0', '--data', data]);
    const second = await run(['start', '--port', '0', '--ws-port', '0', '--data', data]);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(`mini-amq: data directory ${data} is in use by another broker (its store is locked): stop that broker or pass --data with another directory`);
    expect((await stop(first.child)).code).toBe(0);
  });
});
