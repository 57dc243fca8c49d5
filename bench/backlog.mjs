#!/usr/bin/env node
/**
 * Backlog on disk, not in the heap: fills one queue with N persistent 1 KiB messages and no consumer,
 * samples the broker's resident memory the whole time, kills it with SIGKILL, measures how long a restart
 * on that backlog takes until a client is CONNECTED, then drains the queue and checks order and count.
 *
 *   node bench/backlog.mjs [--messages 1000000] [--size 1024]
 *
 * Prints one JSON line per phase and a summary; exits 1 if a message is missing, duplicated or out of order.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { StompClient } from '../packages/stomp/dist/index.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000000' }, size: { type: 'string', default: '1024' } } });
const N = Number(values.messages);
const SIZE = Number(values.size);
/** Sends without receipts in between; every WINDOW-th carries one, so the producer never runs far ahead. */
const WINDOW = 500;
const cli = new URL('../packages/cli/bin/mini-amq.js', import.meta.url).pathname;

function rssMiB(pid, field = 'VmRSS') {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)[1]) / 1024;
  } catch { return 0; }
}

function startBroker(dataDir) {
  const started = Date.now();
  const child = spawn(cli, ['start', '--port', '0', '--ws-port', '0', '--data', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const e = JSON.parse(line);
        if (typeof e.stompPort === 'number') resolve({ child, port: e.stompPort, listeningMs: Date.now() - started });
      } catch { /* not JSON */ }
    });
    child.on('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
}

/** Peak resident memory, and its anonymous part (heap, buffers) apart from file pages (LevelDB's mmapped tables). */
function sampler(pid) {
  let peak = 0;
  let anon = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
    anon = Math.max(anon, rssMiB(pid, 'RssAnon'));
  }, 100);
  return { stop() { clearInterval(timer); sampler.lastAnon = anon; return peak; } };
}

const dataDir = mkdtempSync(join(tmpdir(), 'mini-amq-backlog-'));
const body = Buffer.alloc(SIZE, 'x');
console.log(JSON.stringify({ machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, messages: N, size: SIZE }));
try {
  let broker = await startBroker(dataDir);
  let mem = sampler(broker.child.pid);
  let client = await StompClient.connect(`tcp://127.0.0.1:${broker.port}`);
  let t0 = Date.now();
  for (let i = 0; i < N; i++) {
    const headers = { persistent: 'true', seq: String(i) };
    if ((i + 1) % WINDOW === 0 || i === N - 1) await client.sendWithReceipt('/queue/backlog', body, headers);
    else if (!client.send('/queue/backlog', body, headers)) await client.waitDrain();
  }
  const fillSeconds = (Date.now() - t0) / 1000;
  const fillPeak = mem.stop();
  console.log(JSON.stringify({ phase: 'fill', messagesPerSecond: Math.round(N / fillSeconds), seconds: fillSeconds, peakRssMiB: Math.round(fillPeak), peakAnonMiB: Math.round(sampler.lastAnon) }));
  client.close();
  broker.child.kill('SIGKILL');
  await new Promise((r) => broker.child.once('exit', r));

  t0 = Date.now();
  broker = await startBroker(dataDir);
  client = await StompClient.connect(`tcp://127.0.0.1:${broker.port}`);
  const readySeconds = (Date.now() - t0) / 1000;
  const restartRss = rssMiB(broker.child.pid);
  console.log(JSON.stringify({ phase: 'restart', readySeconds, rssMiB: Math.round(restartRss), anonMiB: Math.round(rssMiB(broker.child.pid, 'RssAnon')) }));

  mem = sampler(broker.child.pid);
  t0 = Date.now();
  let received = 0, expected = 0, errors = 0;
  await new Promise((resolve) => {
    client.subscribe('/queue/backlog', (m) => {
      const seq = Number(m.headers.seq);
      if (seq !== expected) errors++;
      expected = seq + 1;
      received++;
      if (received === N) resolve();
    }, { ack: 'auto' });
  });
  const drainSeconds = (Date.now() - t0) / 1000;
  const drainPeak = mem.stop();
  console.log(JSON.stringify({ phase: 'drain', messagesPerSecond: Math.round(N / drainSeconds), seconds: drainSeconds, peakRssMiB: Math.round(drainPeak), peakAnonMiB: Math.round(sampler.lastAnon), outOfOrder: errors }));
  await client.disconnect();
  broker.child.kill('SIGTERM');
  await new Promise((r) => broker.child.once('exit', r));
  const peak = Math.max(fillPeak, drainPeak, restartRss);
  console.log(`backlog of ${N} x ${SIZE} B: peak RSS ${Math.round(peak)} MiB (target < 256), restart ready in ${readySeconds.toFixed(2)} s (target < 10), fill ${Math.round(N / fillSeconds)}/s, drain ${Math.round(N / drainSeconds)}/s, ${errors} out of order`);
  process.exitCode = errors === 0 && received === N ? 0 : 1;
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
