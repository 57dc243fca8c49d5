/**
 * Runs the real `mini-amq` binary (the built CLI) as a child process and learns its ports from its JSON
 * log, so tests can kill it with SIGKILL and start it again on the same data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const CLI = fileURLToPath(new URL('../../packages/cli/bin/mini-amq.js', import.meta.url));
/** How long a broker child may take to start listening before the test gives up. */
export const BROKER_START_TIMEOUT_MS = 20_000;

export interface BrokerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly stompPort: number;
  readonly wsPort: number | null;
  /** Log lines seen so far (JSON objects). */
  readonly logs: Array<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();

export async function spawnBroker(args: readonly string[]): Promise<BrokerProcess> {
  const child = spawn(CLI, ['start', '--port', '0', '--ws-port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => { running.delete(child); resolve({ code, signal }); });
  });
  const ports = await new Promise<{ stompPort: number; wsPort: number | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start within ${BROKER_START_TIMEOUT_MS} ms; stderr: ${stderr}`)), BROKER_START_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try { entry = JSON.parse(line) as Record<string, unknown>; } catch { return; }
      logs.push(entry);
      if (typeof entry.stompPort === 'number') {
        clearTimeout(timer);
        resolve({ stompPort: entry.stompPort, wsPort: typeof entry.wsPort === 'number' ? entry.wsPort : null });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`broker exited before listening (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
  });
  return {
    child, pid: child.pid!, ...ports, logs, exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Ends every broker child this module started and that is still running (for afterAll hooks). */
export async function killAllBrokers(): Promise<void> {
  await Promise.all([...running].map((c) => new Promise<void>((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  })));
}
