#!/usr/bin/env node
// bench/network.mjs: queue throughput through a network bridge (producer on broker A, consumer on broker B)
// against the same queue on one broker, in one run on this machine (issue 5's benchmark).
//
//   node bench/network.mjs [--messages N] [--rounds R] [--scenarios c,a] [--out DIR] [--keep-logs]
//
// Defaults: --messages 50000 --rounds 3 --scenarios c,a.
//
// Scenarios (1 producer, 1 consumer, 1 KiB bodies, as stomp-bench's c and a in lib/scenarios.mjs):
//   c  persistent, every SEND with a receipt, at most 100 receipts in flight
//   a  non-persistent, no receipts: SENDs as fast as the socket takes them
// Each is run twice per round:
//   single   `mini-amq start --name S --port P --no-ws --data DIR`; producer and consumer both on S.
//   bridged  broker B (`--name B`), then broker A (`--name A --network static:(tcp://127.0.0.1:<B>)`); the
//            consumer subscribes on B first, the benchmark waits until A's bridge forwards the queue (its
//            "bridge forwards <queue> to B" log line) and at least 1 s after the subscription, then the
//            producer sends to the same queue on A. Measured at B's consumer.
// msg/s = messages consumed / (last MESSAGE received - first SEND), end to end. Every message carries
// x-seq and x-ts: the consumer counts distinct, missing (lost) and repeated (duplicate) seqs, keeps
// listening 500 ms after the last one for late duplicates, and latency is SEND -> MESSAGE. After a bridged
// run the brokers' statistics (what `mini-amq status --json` prints) are read: the queue on A and on B
// must be empty and the bridge's forwarded count must have grown by N.
// The client is bench/lib/stomp-wire.mjs (not packages/stomp), the same code for single and bridged.
// Each round starts fresh brokers (single first, then the pair); each cell keeps its best round and the
// report lists all of them. Other test or benchmark runs seen on the machine (pgrep, at each measured
// run's start and at the end) are named in the report: their figures are then not to be trusted.
//
// Needs `npm run build`. Every process it starts is stopped by PID at the end, on error and on Ctrl-C too,
// and its temp dir removed (--keep-logs keeps the brokers' logs and says where). Writes
// bench/results/network-latest.md (or DIR/network-latest.md); an interrupted run writes nothing.
// Default run: about 40 s on 2 CPUs.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connect, parseTarget, withTimeout } from './lib/stomp-wire.mjs';
import { LatencyRecorder } from './lib/scenarios.mjs';
import { Proc, codeVersion, headerHelp, isStopping, markStopping, stopAll, waitFor } from './lib/procs.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const BIN = path.join(REPO, 'packages/cli/bin/mini-amq.js');
const BODY_SIZE = 1024;
const WINDOW_C = 100; // receipts in flight in scenario c
const PREFETCH = 1000; // as lib/scenarios.mjs: activemq.prefetchSize and prefetch-count
const YIELD_EVERY = 64; // the fast producer yields to the event loop this often, so the consumer keeps up
const STALL_MS = 20_000; // a scenario with no progress for this long is reported as a timeout
const LIMIT_MS = 180_000; // and one running longer than this
const DEMAND_TIMEOUT_MS = 15_000; // for A's bridge to forward the queue once B's consumer subscribed
const DEMAND_SETTLE_MS = 1000; // at least this long between B's subscription and the first SEND
const DUP_GRACE_MS = 500; // the consumer keeps listening this long after the last message
const SCENARIO_TITLES = {
  c: 'c: queue 1P/1C, 1 KiB persistent, 100 receipts in flight',
  a: 'a: queue 1P/1C, 1 KiB non-persistent, no receipts',
};
const now = () => performance.now();
/** A child started from the repository's root (see lib/procs.mjs). */
const newProc = (label, argv, logFile) => new Proc(label, argv, logFile, { cwd: REPO });
const log = (s) => process.stderr.write(s + '\n');

// ------------------------------------------------------------------------------------------------------
// options

function parseArgs(argv) {
  const o = { messages: 50_000, rounds: 3, scenarios: ['c', 'a'], out: path.join(HERE, 'results'), keepLogs: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const int = (min, max) => {
      const v = Number(val());
      if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${a} must be a whole number from ${min} to ${max}`);
      return v;
    };
    if (a === '--messages') o.messages = int(10, 10_000_000);
    else if (a === '--rounds') o.rounds = int(1, 10);
    else if (a === '--scenarios') o.scenarios = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--keep-logs') o.keepLogs = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown option ${a}`);
  }
  for (const s of o.scenarios) if (!SCENARIO_TITLES[s]) throw new Error(`--scenarios: unknown scenario ${s} (c, a)`);
  if (o.scenarios.length === 0) throw new Error('--scenarios: none given');
  return o;
}


/** The run's temp directory (the brokers' data and logs), removed at the end unless --keep-logs. */
let ROOT = null;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Other test or benchmark runs on this machine now (their command lines), this process left out. */
const OTHER_RUNS = 'test/run-tests.mjs|bench/group.mjs|bench/run.mjs|bench/network.mjs|bench/stomp-bench.mjs|vitest';
const SEEN_OTHERS = new Set();
/** This process and the ones that started it (a shell whose command line names this script is not another run). */
const ANCESTORS = (() => {
  const pids = new Set();
  for (let pid = process.pid; pid > 1 && !pids.has(pid);) {
    pids.add(pid);
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch { break; }
  }
  return pids;
})();
/** Records (and returns how many) other runs are active now. */
function noteOtherRuns() {
  let out = '';
  let n = 0;
  try { out = execFileSync('pgrep', ['-af', OTHER_RUNS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }); } catch { return 0; } // 1 = none
  for (const line of out.split('\n')) {
    const m = /^(\d+) (.*)$/.exec(line.trim());
    if (!m || ANCESTORS.has(Number(m[1])) || m[2].startsWith('pgrep ')) continue;
    if (!SEEN_OTHERS.has(m[2])) log(`note: another run is active: ${m[2]}`);
    SEEN_OTHERS.add(m[2]);
    n++;
  }
  return n;
}

/** CPU seconds one process has used so far (utime + stime from /proc), or null. */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // clock ticks, USER_HZ = 100 on Linux
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------------------------------------
// brokers

/**
 * Starts `mini-amq start --name NAME --port P --no-ws --data DIR [extra]` and waits for its
 * `"stompPort":P` "listening" line. Returns { name, port, pid, proc }.
 */
async function startBroker(name, extra = []) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(ROOT, `${name}-`));
  const argv = [BIN, 'start', '--name', name, '--port', String(port), '--no-ws', '--data', path.join(dir, 'data'), ...extra];
  const p = newProc(name, argv, path.join(dir, 'mini-amq.log'));
  try {
    await waitFor(() => !p.alive || p.find((j) => j.stompPort === port && typeof j.msg === 'string' && j.msg.startsWith('listening')), 30_000, `broker ${name} to listen`);
    if (!p.alive) throw new Error(`exited (${JSON.stringify(p.exitInfo)})`);
  } catch (e) {
    await p.stop();
    throw new Error(`mini-amq ${name} did not start: ${e.message}\n${p.tail()}`);
  }
  return { name, port, pid: p.pid, proc: p, command: `mini-amq start ${argv.slice(2).map((a) => (a.startsWith(ROOT) ? a.replace(ROOT, '$TMP') : a)).join(' ')}` };
}

/** The broker's statistics over STOMP (what `mini-amq status --json` prints). */
async function brokerStats(port) {
  const c = await connect(parseTarget(`127.0.0.1:${port}`), { timeoutMs: 5000 });
  try {
    let got;
    const answer = new Promise((resolve) => { got = resolve; });
    await c.subscribe('/temp-queue/bench-status', (f) => got(f), { receipt: true });
    c.send('/queue/ActiveMQ.Statistics.Broker', '', { 'reply-to': '/temp-queue/bench-status' });
    const f = await withTimeout(answer, 5000, 'statistics answer');
    return JSON.parse(f.body.toString('utf8'));
  } finally {
    await c.close(2000);
  }
}

const queueRow = (stats, dest) => stats.destinations.find((d) => d.destination === dest) ?? { pending: 0, inflight: 0, consumers: 0, enqueued: 0, dequeued: 0 };
const forwardedTotal = (stats) => (stats.network ?? []).reduce((n, b) => n + (b.forwarded ?? 0), 0);

// ------------------------------------------------------------------------------------------------------
// one measured run: producer on prodPort, consumer on consPort (the same port for a single broker)

function makeBody(size) {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + (i % 26);
  return b;
}

/**
 * Scenario `id` with `count` messages on a fresh queue. `beforeSend` (optional) runs after the consumer's
 * subscription is receipted and before the first SEND (the bridged run waits for demand there). Never
 * throws: a failure comes back as status 'failed' / 'timeout' with what had arrived.
 */
async function runQueue(id, { prodPort, consPort, dest, count, pids, beforeSend }) {
  const persistent = id === 'c';
  const window = id === 'c' ? WINDOW_C : 0;
  const body = makeBody(BODY_SIZE);
  const seen = new Uint8Array(count);
  const st = { distinct: 0, received: 0, dups: 0, unknown: 0, lastAt: 0, receipts: 0, sent: 0 };
  const lat = new LatencyRecorder(count);
  const receiptLat = window ? new LatencyRecorder(count) : null;
  let lastProgress = now();
  const progress = () => { lastProgress = now(); };
  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  let failure = null;
  let rejectFailed;
  const failed = new Promise((_, reject) => { rejectFailed = reject; });
  failed.catch(() => {});
  const fail = (e) => { if (failure === null) { failure = e; rejectFailed(e); } };
  const guard = (p) => Promise.race([p, failed]);
  let phase = 'connecting';
  const started = now();
  const timer = setInterval(() => {
    if (now() - started > LIMIT_MS) fail(Object.assign(new Error(`time limit ${LIMIT_MS / 1000} s reached while ${phase}`), { timeout: true }));
    else if (now() - lastProgress > STALL_MS) fail(Object.assign(new Error(`no progress for ${STALL_MS / 1000} s while ${phase}`), { timeout: true }));
  }, 250);
  const conns = [];
  let others = 0; // other test/benchmark runs seen at this run's start and end
  const open = async (port, label) => {
    const c = await guard(connect(parseTarget(`127.0.0.1:${port}`), { timeoutMs: 10_000 }));
    c.onError = (e) => fail(new Error(`${label}: ${e.message}`));
    conns.push(c);
    return c;
  };
  others = noteOtherRuns();
  const cpu0 = process.cpuUsage();
  const brokerCpu = {};
  let t0 = null;
  let tSent = null;
  try {
    const cons = await open(consPort, 'consumer');
    const prod = await open(prodPort, 'producer');
    phase = 'subscribing';
    await guard(cons.subscribe(dest, (f) => {
      const t = now();
      st.received++;
      st.lastAt = t;
      progress();
      const seq = Number(f.header('x-seq'));
      if (!Number.isInteger(seq) || seq < 0 || seq >= count) { st.unknown++; return; }
      if (seen[seq]) { st.dups++; return; }
      seen[seq] = 1;
      const ts = Number(f.header('x-ts'));
      if (Number.isFinite(ts)) lat.add(t - ts);
      if (++st.distinct === count) resolveDone();
    }, { ack: 'auto', prefetch: PREFETCH, receipt: true }));
    if (beforeSend) {
      phase = 'waiting for demand';
      await guard(beforeSend());
    }
    progress();
    for (const [k, pid] of Object.entries(pids)) brokerCpu[k] = cpuSeconds(pid);
    phase = 'sending';
    t0 = now();
    const p = persistent ? 'true' : undefined;
    if (window) {
      let inflight = 0;
      let wake = null;
      let sendFailure = null;
      const settle = () => { if (wake) { const w = wake; wake = null; w(); } };
      for (let i = 0; i < count; i++) {
        while (inflight >= window && sendFailure === null && failure === null) await guard(new Promise((r) => { wake = r; }));
        if (sendFailure) throw sendFailure;
        if (failure) throw failure;
        inflight++;
        const ts = now();
        prod.sendWithReceipt(dest, body, { persistent: p, 'x-seq': i, 'x-ts': ts }).then(() => {
          inflight--;
          st.receipts++;
          receiptLat.add(now() - ts);
          progress();
          settle();
        }, (e) => { sendFailure = e; inflight--; settle(); });
        st.sent++;
      }
      while (inflight > 0 && sendFailure === null && failure === null) await guard(new Promise((r) => { wake = r; }));
      if (sendFailure) throw sendFailure;
    } else {
      for (let i = 0; i < count; i++) {
        if (failure) throw failure;
        const ok = prod.send(dest, body, { persistent: p, 'x-seq': i, 'x-ts': now() });
        st.sent++;
        if (!ok) { await guard(prod.drain()); progress(); }
        else if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
      }
    }
    tSent = now();
    phase = 'receiving';
    await guard(done);
    const tDone = now();
    const wallS = (tDone - t0) / 1000;
    const cpuPct = {};
    for (const [k, pid] of Object.entries(pids)) {
      const after = cpuSeconds(pid);
      cpuPct[k] = brokerCpu[k] === null || after === null ? null : Math.round(((after - brokerCpu[k]) / wallS) * 100);
    }
    const cpu = process.cpuUsage(cpu0);
    cpuPct.client = Math.round(((cpu.user + cpu.system) / 1000 / (tDone - t0)) * 100);
    others += noteOtherRuns();
    phase = 'listening for late duplicates';
    await guard(sleep(DUP_GRACE_MS));
    const ms = st.lastAt - t0;
    return {
      id, status: 'ok', messages: count, received: st.received, distinct: st.distinct, lost: count - st.distinct, dups: st.dups, unknown: st.unknown,
      seconds: ms / 1000, rate: Math.round((count / ms) * 1000), sendRate: Math.round((count / (tSent - t0)) * 1000),
      latency: lat.summary(), receiptLatency: receiptLat?.summary() ?? null, cpuPct, othersActive: others > 0,
    };
  } catch (e) {
    const err = failure ?? e;
    return {
      id, status: err.timeout ? 'timeout' : 'failed', error: `${err.message} (phase: ${phase})`, messages: count, sent: st.sent, receipts: st.receipts,
      received: st.received, distinct: st.distinct, lost: count - st.distinct, dups: st.dups, unknown: st.unknown, rate: null,
      seconds: t0 === null ? null : (now() - t0) / 1000, othersActive: others + noteOtherRuns() > 0,
    };
  } finally {
    clearInterval(timer);
    if (failure) for (const c of conns) c.destroy();
    else await Promise.all(conns.map((c) => c.close(3000)));
  }
}

// ------------------------------------------------------------------------------------------------------
// the two configurations

async function singleRound(opts, round, runId, res) {
  const s = await startBroker('S');
  res.commands.single ??= s.command;
  try {
    log(`single broker S: STOMP on 127.0.0.1:${s.port} (pid ${s.pid})`);
    for (const id of opts.scenarios) {
      const dest = `/queue/bench.network.${runId}.r${round}.${id}.single`;
      log(`  [single] ${SCENARIO_TITLES[id]} ...`);
      const r = await runQueue(id, { prodPort: s.port, consPort: s.port, dest, count: opts.messages, pids: { S: s.pid } });
      logResult('single', r);
      res.runs.push({ round, config: 'single', ...r });
      await sleep(500);
    }
  } finally {
    await s.proc.stop();
  }
}

async function bridgedRound(opts, round, runId, res) {
  const b = await startBroker('B');
  let a = null;
  try {
    a = await startBroker('A', ['--network', `static:(tcp://127.0.0.1:${b.port})`]);
    res.commands.brokerB ??= b.command;
    res.commands.brokerA ??= a.command.replace(`tcp://127.0.0.1:${b.port})`, 'tcp://127.0.0.1:<B port>)');
    await waitFor(() => !a.proc.alive || a.proc.find((j) => typeof j.msg === 'string' && j.msg.startsWith('bridge connected')), 15_000, 'A\'s bridge to connect to B');
    if (!a.proc.alive) throw new Error(`broker A exited\n${a.proc.tail()}`);
    log(`bridged: A on 127.0.0.1:${a.port} (pid ${a.pid}) --network static:(tcp://127.0.0.1:${b.port}) -> B (pid ${b.pid}); bridge connected`);
    for (const id of opts.scenarios) {
      const dest = `/queue/bench.network.${runId}.r${round}.${id}.bridged`;
      log(`  [A→bridge→B] ${SCENARIO_TITLES[id]} ...`);
      const before = { a: await brokerStats(a.port), b: await brokerStats(b.port) };
      let demandAfterMs = null;
      const beforeSend = async () => {
        const subscribedAt = now();
        // Each run's queue name is new, so any such line is this run's.
        const line = await waitFor(() => a.proc.find((j) => typeof j.msg === 'string' && j.msg.startsWith(`bridge forwards ${dest} `)), DEMAND_TIMEOUT_MS, `A's bridge to forward ${dest} (B's consumer subscribed)`);
        demandAfterMs = Math.round(Math.max(0, line.at - subscribedAt));
        const rest = DEMAND_SETTLE_MS - (now() - subscribedAt);
        if (rest > 0) await sleep(rest);
      };
      const r = await runQueue(id, { prodPort: a.port, consPort: b.port, dest, count: opts.messages, pids: { A: a.pid, B: b.pid }, beforeSend });
      r.demandAfterMs = demandAfterMs;
      // What the brokers say afterwards: both queues empty, the bridge forwarded each message once.
      try {
        const after = { a: await brokerStats(a.port), b: await brokerStats(b.port) };
        const qa = queueRow(after.a, dest);
        const qb = queueRow(after.b, dest);
        r.check = {
          leftOnA: qa.pending + qa.inflight, leftOnB: qb.pending + qb.inflight, enqueuedA: qa.enqueued, enqueuedB: qb.enqueued,
          forwarded: forwardedTotal(after.a) - forwardedTotal(before.a), duplicatesDroppedB: after.b.duplicatesDropped - before.b.duplicatesDropped,
        };
      } catch (e) {
        r.check = { error: e.message };
      }
      logResult('A→bridge→B', r);
      res.runs.push({ round, config: 'bridged', ...r });
      await sleep(500);
    }
  } finally {
    // A first: its bridge gives its unacked messages back while B still runs.
    await a?.proc.stop();
    await b.proc.stop();
  }
}

const fmt = (x) => (x === null || x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));

function logResult(label, r) {
  const l = r.latency;
  const ck = r.check && !r.check.error ? `; A left ${r.check.leftOnA}, B left ${r.check.leftOnB}, bridge forwarded ${r.check.forwarded}` : r.check?.error ? `; stats: ${r.check.error}` : '';
  log(`  [${label}] ${r.id}: ${r.status}${r.rate ? ` ${fmt(r.rate)} msg/s` : ''} (received ${fmt(r.distinct)}/${fmt(r.messages)}, lost ${r.lost}, dups ${r.dups})${l ? `, latency p50 ${l.p50} p99 ${l.p99} ms` : ''}${r.cpuPct ? `, CPU ${Object.entries(r.cpuPct).map(([k, v]) => `${k} ${v}%`).join(' ')}` : ''}${ck}${r.error ? ` — ${r.error}` : ''}`);
}

// ------------------------------------------------------------------------------------------------------
// report

function best(runs) {
  const ok = runs.filter((r) => r.status === 'ok' && r.rate);
  return ok.length ? ok.reduce((x, y) => (y.rate > x.rate ? y : x)) : runs[runs.length - 1] ?? null;
}

function markdown(res, opts, command) {
  const m = res.machine;
  const L = [];
  L.push(`# mini-amq network bridge benchmark — ${m.date}`, '');
  L.push(`Machine: ${m.cpu}, ${m.cores} CPUs, ${m.ramGiB} GiB RAM, ${m.kernel}, Node ${m.node}; load average ${m.loadBefore} before, ${res.loadAfter} after.`);
  L.push(`Code: ${m.code} (built packages/*/dist as found). Command: \`${command}\` (ran ${res.totalS} s).`, '');
  L.push(`${fmt(opts.messages)} messages per run, 1 producer and 1 consumer, 1 KiB bodies; ${opts.rounds > 1 ? `best of ${opts.rounds} rounds (fresh brokers each round, single broker first)` : '1 round'}. msg/s = messages consumed / (last MESSAGE − first SEND). Producer, consumer and all brokers share this machine's CPUs.`, '');
  L.push('| scenario | single broker msg/s | A→bridge→B msg/s | ratio | lost (single / bridged) | duplicates (single / bridged) |', '|---|---:|---:|---:|---:|---:|');
  for (const id of opts.scenarios) {
    const s = best(res.runs.filter((r) => r.id === id && r.config === 'single'));
    const b = best(res.runs.filter((r) => r.id === id && r.config === 'bridged'));
    const cell = (r) => (!r ? '—' : r.status === 'ok' ? fmt(r.rate) : `${r.status}`);
    const ratio = s?.rate && b?.rate ? `${(b.rate / s.rate).toFixed(2)}×` : '—';
    const sum = (cfg, k) => res.runs.filter((r) => r.id === id && r.config === cfg).reduce((n, r) => n + (r[k] ?? 0), 0);
    L.push(`| ${SCENARIO_TITLES[id]} | ${cell(s)} | ${cell(b)} | ${ratio} | ${sum('single', 'lost')} / ${sum('bridged', 'lost')} | ${sum('single', 'dups')} / ${sum('bridged', 'dups')} |`);
  }
  const shared = res.runs.filter((r) => r.othersActive).length;
  if (shared) L.push('', `**${shared} of ${res.runs.length} runs shared the machine with another test or benchmark run** (marked below; see Notes): their figures are low.`);
  L.push('', 'Lost and duplicate counts are summed over all rounds; "lost" = seqs never consumed, "duplicates" = seqs consumed more than once (the consumer listens 500 ms past the last one).', '');
  L.push('## Every run', '');
  L.push('Latency is SEND → MESSAGE at the consumer, receipt is SEND → RECEIPT at the producer (p50 / p99 ms). "send done" = the producer\'s own rate (last RECEIPT, or last SEND written, for a). CPU = share of one CPU over the run for each broker and for the benchmark client. After a bridged run: messages left on A and B (pending + in flight), enqueued on each, and how many the bridge forwarded in the run (from A\'s statistics).', '');
  L.push('| round | scenario | config | status | msg/s | send done (msg/s) | latency p50 / p99 | receipt p50 / p99 | CPU | lost | dups | after (bridged) |', '|---:|---|---|---|---:|---:|---:|---:|---|---:|---:|---|');
  const lat = (l) => (l ? `${l.p50} / ${l.p99}` : '—');
  for (const r of res.runs) {
    const ck = r.check ? (r.check.error ? `stats: ${r.check.error}` : `left A ${r.check.leftOnA}, B ${r.check.leftOnB}; enqueued A ${fmt(r.check.enqueuedA)}, B ${fmt(r.check.enqueuedB)}; forwarded ${fmt(r.check.forwarded)}${r.check.duplicatesDroppedB ? `; B dropped ${r.check.duplicatesDroppedB} duplicate SENDs` : ''}; bridge forwarding ${r.demandAfterMs ?? '?'} ms after the subscription's receipt`) : '';
    const cpu = r.cpuPct ? Object.entries(r.cpuPct).map(([k, v]) => `${k} ${v ?? '?'}%`).join(', ') : '—';
    L.push(`| ${r.round} | ${r.id} | ${r.config === 'single' ? 'single broker' : 'A→bridge→B'} | ${r.status === 'ok' ? 'ok' : `**${r.status}**: ${r.error} (received ${fmt(r.distinct)})`}${r.othersActive ? ' (another run active)' : ''} | ${fmt(r.rate)} | ${fmt(r.sendRate)} | ${lat(r.latency)} | ${lat(r.receiptLatency)} | ${cpu} | ${r.lost} | ${r.dups}${r.unknown ? ` (+${r.unknown} unknown)` : ''} | ${ck} |`);
  }
  L.push('', '## Brokers', '');
  L.push(`- single: \`${res.commands.single ?? '—'}\``);
  L.push(`- B: \`${res.commands.brokerB ?? '—'}\``);
  L.push(`- A: \`${res.commands.brokerA ?? '—'}\``);
  L.push('', 'The consumer subscribes on B (ack auto, prefetch 1000) first; the producer starts once A logs "bridge forwards <queue> to B" and at least 1 s after the subscription. Method: bench/NETWORK.md.', '');
  if (res.notes.length) L.push('Notes:', '', ...res.notes.map((n) => `- ${n}`), '');
  return L.join('\n');
}

// ------------------------------------------------------------------------------------------------------

async function main() {
  const argv = process.argv.slice(2);
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    log(`network bench: ${e.message}`);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    process.stdout.write(headerHelp(import.meta.url));
    return;
  }
  if (!fs.existsSync(path.join(REPO, 'packages/cli/dist/main.js')) || !fs.existsSync(path.join(REPO, 'packages/network/dist/index.js'))) {
    log('network bench: not built: run `npm run build` first');
    process.exitCode = 2;
    return;
  }
  const command = `node bench/network.mjs${argv.length ? ' ' + argv.join(' ') : ''}`;
  const code = codeVersion(REPO);
  const t0 = now();
  const cpus = os.cpus();
  let interrupted = false;
  const onSignal = (sig) => {
    if (interrupted) return;
    interrupted = true;
    markStopping();
    log(`network bench: ${sig}: stopping everything`);
    void stopAll().catch(() => {}).finally(() => {
      if (ROOT) fs.rmSync(ROOT, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-network-'));
  const res = {
    machine: {
      cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, node: process.version,
      kernel: `${os.type()} ${os.release()}`, code, date: new Date().toISOString(), loadBefore: os.loadavg()[0].toFixed(2),
    },
    runs: [], commands: {}, notes: [],
  };
  log(`machine: ${res.machine.cpu}, ${res.machine.cores} CPUs, node ${res.machine.node}, ${res.machine.date}, code ${code}`);
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      log(`\n=== round ${round}/${opts.rounds} ===`);
      await singleRound(opts, round, runId, res);
      if (isStopping()) break;
      await bridgedRound(opts, round, runId, res);
    }
  } catch (e) {
    res.notes.push(`run aborted: ${e.message.split('\n')[0]}`);
    log(`network bench: ${e.stack}`);
    process.exitCode = 1;
  } finally {
    await stopAll();
    if (opts.keepLogs && ROOT) {
      for (const f of fs.readdirSync(ROOT, { recursive: true })) {
        const full = path.join(ROOT, f);
        if (/(^|\/)data$/.test(f) && fs.statSync(full, { throwIfNoEntry: false })?.isDirectory()) fs.rmSync(full, { recursive: true, force: true });
      }
      log(`logs kept in ${ROOT}`);
    } else if (ROOT) {
      fs.rmSync(ROOT, { recursive: true, force: true });
    }
  }
  if (isStopping()) return; // interrupted: the signal handler exits; a partial report would replace the last good one
  noteOtherRuns();
  for (const c of SEEN_OTHERS) res.notes.push(`**another test or benchmark run was active during this one** (\`${c.length > 160 ? c.slice(0, 160) + '…' : c}\`): the figures shared the CPUs with it.`);
  if (res.runs.some((r) => r.status !== 'ok' || r.lost || r.dups || (r.check && (r.check.error || r.check.leftOnA || r.check.leftOnB)))) process.exitCode = 1;
  res.totalS = Math.round((now() - t0) / 1000);
  res.loadAfter = os.loadavg()[0].toFixed(2);
  const md = markdown(res, opts, command);
  fs.mkdirSync(opts.out, { recursive: true });
  const file = path.join(opts.out, 'network-latest.md');
  fs.writeFileSync(file, md);
  process.stdout.write('\n' + md);
  log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((e) => {
  log(`network bench: ${e.stack}`);
  process.exitCode = 1;
});
