#!/usr/bin/env node
// Measures the LevelStore where a broker leans on it: sustained persistent enqueues through group commit,
// then open() over the resulting backlog. Not a test: it prints figures, it asserts nothing but sanity.
// A producer appends one message per call (as a broker does per SEND), `--per-turn` calls per event-loop
// turn (as if read from many sockets), and never has more than `--window` entries waiting to be durable
// (as producers waiting for receipts would).
//
//   npx tsc -b packages/store && node packages/store/scripts/measure.mjs [--messages 1000000] [--bytes 1024]
//        [--sync true|false] [--per-turn 200] [--window 20000] [--dir DIR] [--keep] [--phase append|open|both]
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { LevelStore } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    bytes: { type: 'string', default: '1024' },
    sync: { type: 'string', default: 'true' },
    'per-turn': { type: 'string', default: '200' },
    window: { type: 'string', default: '20000' },
    dir: { type: 'string' },
    phase: { type: 'string', default: 'both' }, // append | open | both (open alone: a fresh process over --dir)
    keep: { type: 'boolean', default: false },
  },
});
const messages = Number(args.messages);
const bodyBytes = Number(args.bytes);
const sync = args.sync !== 'false';
const perTurn = Number(args['per-turn']);
const window = Number(args.window);
const MiB = 1024 * 1024;

const phase = args.phase;
const dir = args.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'mini-amq-measure-')));
const cpu = os.cpus();
console.log(`machine: ${cpu[0]?.model} x${cpu.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`);
console.log(`store: ${dir} sync=${sync}; ${messages} enqueues of ${bodyBytes} B, ${perTurn} per turn, window ${window}`);

const turn = () => new Promise((resolve) => setImmediate(resolve));
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
// RSS counts pages of LevelDB's memory-mapped table files, which the kernel can drop at will; the
// anonymous part is what the process really holds (Linux only).
const rssParts = async () => {
  try {
    const status = await readFile('/proc/self/status', 'utf8');
    const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
    return `anon ${(kib('RssAnon') / 1024).toFixed(0)} MiB, file-backed ${(kib('RssFile') / 1024).toFixed(0)} MiB`;
  } catch {
    return 'anon/file split unavailable';
  }
};
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

// --- 1. sustained appends -------------------------------------------------------------------------------
if (phase !== 'open') {
  const store = new LevelStore({ directory: dir, sync });
  await store.open();
  // Random bytes: LevelDB compresses with Snappy, and a repeated byte would shrink 1 GiB to a few MiB.
  const pool = randomBytes(4 * MiB + bodyBytes);
  const bodyAt = (i) => pool.subarray((i * 4099) % (4 * MiB), ((i * 4099) % (4 * MiB)) + bodyBytes);
  const headers = [['content-type', 'text/plain'], ['persistent', 'true']];
  const outstanding = []; // { durable, count }
  let waiting = 0;
  const latencies = [];
  const t0 = process.hrtime.bigint();
  let sent = 0;
  while (sent < messages) {
    const n = Math.min(perTurn, messages - sent);
    const started = process.hrtime.bigint();
    let durable;
    for (let i = 0; i < n; i++) {
      const seqHint = sent + i;
      durable = store.append([
        {
          kind: 'enqueue',
          queue: '/queue/measure',
          message: { messageId: `ID:measure-${seqHint}`, destination: '/queue/measure', headers, body: bodyAt(seqHint), priority: 4, expires: 0, timestamp: Date.now() },
        },
      ]).durable;
    }
    sent += n;
    waiting += n;
    // Every call of one turn shares its batch, so the turn's last promise stands for all of them.
    outstanding.push({ count: n, durable: durable.then(() => latencies.push(ms(started))) });
    while (waiting > window) {
      const oldest = outstanding.shift();
      await oldest.durable;
      waiting -= oldest.count;
    }
    await turn();
  }
  await Promise.all(outstanding.map((o) => o.durable));
  const elapsed = ms(t0);
  const s = store.stats();
  latencies.sort((a, b) => a - b);
  console.log(
    `append: ${messages} in ${(elapsed / 1000).toFixed(2)} s = ${Math.round(messages / (elapsed / 1000))} entries/s, ` +
      `${((s.bytesWritten / MiB) / (elapsed / 1000)).toFixed(1)} MiB/s; ${s.batches} batches, ${(s.entriesWritten / s.batches).toFixed(0)} entries/batch avg, ` +
      `${s.largestBatchEntries} max; durable latency per turn p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms`,
  );
  const t1 = process.hrtime.bigint();
  await store.close();
  console.log(`close: ${ms(t1).toFixed(0)} ms`);
}

// --- 2. open over the backlog ---------------------------------------------------------------------------
if (global.gc) global.gc();
const rssBefore = process.memoryUsage().rss;
if (phase !== 'append') {
  const store = new LevelStore({ directory: dir, sync });
  const t0 = process.hrtime.bigint();
  const recovered = await store.open();
  const openMs = ms(t0);
  const mem = process.memoryUsage();
  const counts = [...recovered.queues].map(([q, n]) => `${q}=${n}`).join(', ');
  console.log(
    `open: ${openMs.toFixed(0)} ms for ${recovered.lastIndex} entries (${counts}); ` +
      `RSS ${(mem.rss / MiB).toFixed(0)} MiB (${await rssParts()}; ${(rssBefore / MiB).toFixed(0)} MiB before open), heap used ${(mem.heapUsed / MiB).toFixed(0)} MiB`,
  );
  // Paging the backlog back in, as a queue does at start: 500 at a time.
  const t1 = process.hrtime.bigint();
  let after = 0;
  let read = 0;
  while (read < 100_000) {
    const page = await store.readQueue('/queue/measure', 4, after, 500);
    if (page.length === 0) break;
    read += page.length;
    after = page[page.length - 1].key.seq;
  }
  const readMs = ms(t1);
  console.log(`page-in: ${read} messages in pages of 500, ${Math.round(read / (readMs / 1000))} messages/s`);
  await store.close();
}
if (phase === 'both' && !args.keep && args.dir === undefined) await rm(dir, { recursive: true, force: true });
