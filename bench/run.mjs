#!/usr/bin/env node
// `npm run bench`: issue 2's side-by-side benchmark in one command.
//
// Prints the machine, then for mini-amq, ActiveMQ 5.17 and RabbitMQ 3.10 in turn (one broker at a time,
// each on its own loopback port): starts it, runs every scenario of bench/stomp-bench.mjs against it in
// a fresh client process (so no broker gets a client warmed up by another's run), samples its resident
// memory, and stops it. Then prints per scenario mini-amq's rate divided by the better anchor's, next to
// issue 2's target, and writes bench/results/latest.json and latest.md.
//
//   node bench/run.mjs [--only mini-amq,activemq,rabbitmq] [--scenarios a,b,c,c0,d,e,lat]
//                      [--quick | --scale X] [--no-install] [--mini-target host:port[,login,passcode]]
//                      [--mini-bin path/to/mini-amq.js] [--rounds N]
//
// An anchor that cannot be installed or started is skipped with a note; mini-amq is skipped with a note
// if packages/cli/dist is not built (`npm run build`). --mini-target measures an already running
// mini-amq instead of starting one (memory is then not sampled); --mini-bin starts another checkout's.
// The load average before and after each broker is recorded: other work on the machine skews a run.
// --rounds N (default 1) lets the brokers take turns N times and keeps each one's best round.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureInstalled, STARTERS, waitForStomp } from './anchors.mjs';
import { parseTarget } from './lib/stomp-wire.mjs';
import { SCENARIOS, SCENARIO_ORDER } from './lib/scenarios.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const MINI_PORT = 61913;

/** Issue 2's targets: mini-amq's rate over the better anchor's, in one run. */
const TARGETS = { a: 2, b: 1, c: 1.5, c0: 2, d: 2, e: 1.5 };
const MEMORY_TARGET = 0.25; // mini-amq's peak RSS in (a) over ActiveMQ's
const LATENCY_TARGET_MS = 1; // p99 at 1,000 msg/s

const BROKERS = {
  'mini-amq': { label: 'mini-amq' },
  activemq: { label: 'ActiveMQ' },
  rabbitmq: { label: 'RabbitMQ' },
};

const log = (s) => process.stderr.write(s + '\n');

function parseArgs(argv) {
  const o = { only: Object.keys(BROKERS), scenarios: SCENARIO_ORDER.slice(), scale: 1, install: true, rounds: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--only') o.only = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--scenarios') o.scenarios = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--quick') o.scale = 0.1;
    else if (a === '--scale') o.scale = Number(val());
    else if (a === '--no-install') o.install = false;
    else if (a === '--rounds') o.rounds = Number(val());
    else if (a === '--mini-target') o.miniTarget = val();
    else if (a === '--mini-bin') o.miniBin = path.resolve(val());
    else if (a === '--out') o.out = val();
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown option ${a}`);
  }
  for (const b of o.only) if (!BROKERS[b]) throw new Error(`unknown broker ${b} (known: ${Object.keys(BROKERS).join(', ')})`);
  for (const s of o.scenarios) if (!SCENARIOS[s]) throw new Error(`unknown scenario ${s}`);
  if (!(o.scale > 0)) throw new Error('--scale must be > 0');
  if (!Number.isInteger(o.rounds) || o.rounds < 1 || o.rounds > 10) throw new Error('--rounds must be 1..10');
  return o;
}

/**
 * With several rounds, each broker's figure per scenario is its best round: the highest rate, for lat the
 * lowest p99. Interference from other work only ever makes a broker slower, so the best round is the
 * closest to what it can do on a quiet machine. Memory (in a) is the highest seen in any round.
 */
function bestOf(reports) {
  if (reports.length === 1) return reports[0];
  const ids = [...new Set(reports.flatMap((r) => r.results.map((x) => x.id)))];
  const results = ids.map((id) => {
    const all = reports.map((r) => r.results.find((x) => x.id === id)).filter(Boolean);
    const ok = all.filter((x) => x.status === 'ok');
    if (!ok.length) return all[all.length - 1];
    const score = (x) => (id === 'lat' ? -(x.latency?.p99 ?? Infinity) : x.rate ?? 0);
    const best = { ...ok.reduce((a, b) => (score(b) > score(a) ? b : a)) };
    const mems = all.map((x) => x.brokerPeakRssMiB).filter((m) => m !== undefined);
    if (mems.length) best.brokerPeakRssMiB = Math.max(...mems);
    best.roundsOk = `${ok.length}/${all.length}`;
    return best;
  });
  return { ...reports[0], results, bestOfRounds: reports.length };
}

/** A one-second probe of how many small fsyncs the temp dir's disk does: bounds every durable rate. */
function fsyncProbe(dir) {
  const f = path.join(dir, `fsync-probe-${process.pid}`);
  const fd = fs.openSync(f, 'w');
  const buf = Buffer.alloc(1024, 120);
  let n = 0;
  const t0 = performance.now();
  try {
    while (performance.now() - t0 < 1000 && n < 1_000_000) {
      fs.writeSync(fd, buf);
      fs.fsyncSync(fd);
      n++;
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(f, { force: true });
  }
  return Math.round(n / ((performance.now() - t0) / 1000));
}

function machineInfo() {
  const cpus = os.cpus();
  let fsyncs = null;
  try { fsyncs = fsyncProbe(os.tmpdir()); } catch { /* informative only */ }
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    tmpdirFsyncsPerSec: fsyncs,
  };
}

const loadAvg1 = () => Math.round(os.loadavg()[0] * 100) / 100;

function alive(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) !== 'Z';
  } catch { return false; }
}

/** Starts the standalone mini-amq broker as our child, with a fresh data dir, on MINI_PORT. */
async function startMiniAmq(binPath) {
  const bin = binPath ?? path.join(REPO, 'packages/cli/bin/mini-amq.js');
  const built = path.join(path.dirname(bin), '../dist/main.js');
  if (!fs.existsSync(built)) throw Object.assign(new Error(`mini-amq is not built (${path.relative(REPO, built)} missing): run \`npm run build\` first`), { skip: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-mini-amq-'));
  const logFile = path.join(dir, 'mini-amq.log');
  const out = fs.openSync(logFile, 'a');
  const dataDir = path.join(dir, 'data');
  const child = spawn(bin, ['start', '--port', String(MINI_PORT), '--ws-port', '0', '--data', dataDir], { cwd: REPO, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const stop = async () => {
    if (alive(child.pid)) {
      child.kill('SIGTERM');
      const until = Date.now() + 15_000;
      while (alive(child.pid) && Date.now() < until) await sleep(100);
      if (alive(child.pid)) child.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForStomp(parseTarget(`127.0.0.1:${MINI_PORT}`), 30_000, () => alive(child.pid));
  } catch (e) {
    let tail = '';
    try { tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n'); } catch { /* none */ }
    await stop();
    throw new Error(`mini-amq did not start: ${e.message}\n${tail}`);
  }
  let version = null;
  try { version = JSON.parse(fs.readFileSync(path.join(path.dirname(bin), '../package.json'), 'utf8')).version; } catch { /* none */ }
  return { name: 'mini-amq', label: 'mini-amq (packages/cli, standalone)', version, target: `127.0.0.1:${MINI_PORT}`, pid: child.pid, stop, logFile };
}

/** Runs stomp-bench.mjs in its own process against one broker; bounded by the scenarios' own limits. */
async function runClient(name, target, pid, opts) {
  const outFile = path.join(os.tmpdir(), `bench-${name}-${process.pid}-${Date.now()}.json`);
  const args = [path.join(HERE, 'stomp-bench.mjs'), '--target', target, '--scenarios', opts.scenarios.join(','), '--scale', String(opts.scale), '--json-out', outFile, '--label', name];
  if (pid) args.push('--pid', String(pid));
  const limitMs = opts.scenarios.reduce((s, id) => s + SCENARIOS[id].limitMs + 20_000, 60_000);
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.on('data', (d) => process.stderr.write(d));
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  clearTimeout(killer);
  try {
    const report = JSON.parse(fs.readFileSync(outFile, 'utf8'));
    fs.rmSync(outFile, { force: true });
    return report;
  } catch {
    throw new Error(`benchmark client for ${name} exited with ${code} and no report`);
  }
}

// ---- summary ----------------------------------------------------------------------------------------

const fmtInt = (x) => (x === null || x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
const fmtRatio = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}×`);

function byId(report) {
  const m = new Map();
  for (const r of report?.results ?? []) m.set(r.id, r);
  return m;
}

function cellRate(r) {
  if (!r) return '—';
  if (r.status !== 'ok') return r.status;
  return fmtInt(r.rate) + (r.id === 'd' && r.deliveriesPerSec ? ` (×10 = ${fmtInt(r.deliveriesPerSec)})` : '');
}

export function summarize(runs, scenarios) {
  const mini = byId(runs['mini-amq']?.report);
  const amq = byId(runs.activemq?.report);
  const rmq = byId(runs.rabbitmq?.report);
  const rows = [];
  for (const id of scenarios.filter((s) => s !== 'lat')) {
    const m = mini.get(id);
    const anchors = [['ActiveMQ', amq.get(id)], ['RabbitMQ', rmq.get(id)]].filter(([, r]) => r && r.status === 'ok' && r.rate);
    const best = anchors.sort((x, y) => y[1].rate - x[1].rate)[0];
    const ratio = m && m.status === 'ok' && best ? m.rate / best[1].rate : null;
    rows.push({
      id, title: SCENARIOS[id].title, mini: m ?? null, activemq: amq.get(id) ?? null, rabbitmq: rmq.get(id) ?? null,
      better: best ? best[0] : null, ratio, target: TARGETS[id] ?? null,
      met: ratio === null ? null : ratio >= TARGETS[id],
    });
  }
  const memMini = mini.get('a')?.brokerPeakRssMiB ?? null;
  const memAmq = amq.get('a')?.brokerPeakRssMiB ?? null;
  const memRmq = rmq.get('a')?.brokerPeakRssMiB ?? null;
  const memRatio = memMini && memAmq ? memMini / memAmq : null;
  const latMini = mini.get('lat')?.status === 'ok' ? mini.get('lat').latency : null;
  return {
    rows,
    memory: { mini: memMini, activemq: memAmq, rabbitmq: memRmq, ratioToActiveMQ: memRatio, target: MEMORY_TARGET, met: memRatio === null ? null : memRatio <= MEMORY_TARGET },
    latency: {
      mini: latMini, activemq: amq.get('lat')?.latency ?? null, rabbitmq: rmq.get('lat')?.latency ?? null,
      targetP99Ms: LATENCY_TARGET_MS, met: latMini ? latMini.p99 <= LATENCY_TARGET_MS : null,
    },
  };
}

const yes = (b) => (b === null ? '—' : b ? 'yes' : '**no**');

export function markdown(result) {
  const { machine, runs, summary, options } = result;
  const L = [];
  L.push(`# mini-amq benchmark — ${machine.date}`, '');
  L.push(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, ${machine.kernel}, Node ${machine.node}` +
    (machine.tmpdirFsyncsPerSec ? `, ~${fmtInt(machine.tmpdirFsyncsPerSec)} fsyncs/s in ${os.tmpdir()}` : '') + '.');
  L.push(`Options: scenarios ${options.scenarios.join(',')}, scale ${options.scale}${options.scale !== 1 ? ' (counts scaled: not comparable with full runs)' : ''}` +
    `${options.rounds > 1 ? `, best of ${options.rounds} rounds per broker and scenario (brokers took turns)` : ''}.`, '');
  for (const [name, run] of Object.entries(runs)) {
    const what = run.skipped ? `skipped — ${run.skipped}`
      : run.error ? `failed — ${run.error.split('\n')[0]}`
        : `${run.label}${run.version ? ` ${run.version}` : ''} at ${run.target.split(',')[0]} (load average ${run.loadBefore ?? '?'}–${run.loadAfter ?? '?'})`;
    L.push(`- ${BROKERS[name].label}: ${what}`);
  }
  L.push('', 'Messages per second, end to end (first SEND to last MESSAGE; c0: to last RECEIPT).', '');
  L.push('| scenario | mini-amq | ActiveMQ | RabbitMQ | ratio vs better anchor | target | met? |');
  L.push('|---|---:|---:|---:|---:|---:|:---:|');
  for (const r of summary.rows) {
    L.push(`| ${r.id}: ${r.title} | ${cellRate(r.mini)} | ${cellRate(r.activemq)} | ${cellRate(r.rabbitmq)} | ${fmtRatio(r.ratio)}${r.better ? ` (vs ${r.better})` : ''} | ≥ ${r.target}× | ${yes(r.met)} |`);
  }
  const m = summary.memory;
  if (m.mini !== null || m.activemq !== null || m.rabbitmq !== null) {
    L.push(`| broker peak RSS during a (MiB) | ${m.mini ?? '—'} | ${m.activemq ?? '—'} | ${m.rabbitmq ?? '—'} | ${fmtRatio(m.ratioToActiveMQ)} (vs ActiveMQ) | ≤ ${m.target}× | ${yes(m.met)} |`);
  }
  const l = summary.latency;
  if (l.mini || l.activemq || l.rabbitmq) {
    const p = (x) => (x ? `${x.p99}` : '—');
    L.push(`| p99 latency at 1,000 msg/s (ms) | ${p(l.mini)} | ${p(l.activemq)} | ${p(l.rabbitmq)} | | ≤ ${l.targetP99Ms} ms | ${yes(l.met)} |`);
  }
  L.push('', 'Latency p50 / p99 in ms (SEND to MESSAGE; c0: SEND to RECEIPT). Under full load this is mostly queueing time.', '');
  L.push('| scenario | mini-amq | ActiveMQ | RabbitMQ |', '|---|---:|---:|---:|');
  const lat = (r) => {
    if (!r) return '—';
    if (r.status !== 'ok') return r.status;
    const x = r.latency ?? r.receiptLatency;
    return x ? `${x.p50} / ${x.p99}` : '—';
  };
  for (const id of options.scenarios) {
    const get = (n) => byId(runs[n]?.report).get(id);
    L.push(`| ${id} | ${lat(get('mini-amq'))} | ${lat(get('activemq'))} | ${lat(get('rabbitmq'))} |`);
  }
  const failures = [];
  for (const [name, run] of Object.entries(runs)) {
    for (const r of run.report?.results ?? []) if (r.status !== 'ok') failures.push(`- ${BROKERS[name].label} ${r.id}: ${r.status} — ${r.error} (received ${r.received ?? '?'} of ${r.messages})`);
    if (run.error) failures.push(`- ${BROKERS[name].label}: ${run.error.split('\n')[0]}`);
    for (const e of run.roundErrors ?? []) failures.push(`- ${BROKERS[name].label}, one round: ${e.split('\n')[0]}`);
  }
  if (failures.length) L.push('', 'Failures:', '', ...failures);
  L.push('');
  return L.join('\n');
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    log(`bench: ${e.message}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1).filter((l, i, a) => a.slice(0, i + 1).every((x) => x.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
    return 0;
  }
  const machine = machineInfo();
  log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB, ${machine.kernel}, node ${machine.node}, ${machine.date}` +
    (machine.tmpdirFsyncsPerSec ? `, ~${machine.tmpdirFsyncsPerSec} fsyncs/s in ${os.tmpdir()}` : ''));

  let inst = { activemq: true, rabbitmq: true, notes: [] };
  const wantAnchors = opts.only.some((b) => b !== 'mini-amq');
  if (wantAnchors) inst = opts.install ? ensureInstalled(log) : { activemq: true, rabbitmq: true, notes: [] };

  // Whatever is running when we are interrupted is stopped before we exit.
  let current = null;
  const onSignal = async (sig) => {
    log(`bench: ${sig}, stopping ${current?.name ?? 'nothing'}`);
    if (current) await current.stop().catch(() => {});
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  // Each round runs every broker once, one after another; with --rounds N the brokers take turns, so
  // a burst of other work on the machine hits each of them rather than whichever ran at that moment.
  const rounds = {};
  const names = Object.keys(BROKERS).filter((b) => opts.only.includes(b));
  for (let round = 1; round <= opts.rounds; round++) {
    for (const name of names) {
      log(`\n=== ${BROKERS[name].label}${opts.rounds > 1 ? `, round ${round} of ${opts.rounds}` : ''} ===`);
      const acc = (rounds[name] ??= { attempts: [] });
      if (acc.skipped) continue;
      if (name !== 'mini-amq' && !inst[name]) {
        acc.skipped = `not installed${inst.notes.length ? ` (${inst.notes.join('; ')})` : ''}`;
        log(`skipping ${name}: ${acc.skipped}`);
        continue;
      }
      let handle = null;
      try {
        if (name === 'mini-amq' && opts.miniTarget) {
          handle = { name, label: 'mini-amq (already running)', target: opts.miniTarget, pid: null, stop: async () => {} };
        } else {
          handle = name === 'mini-amq' ? await startMiniAmq(opts.miniBin) : await STARTERS[name]({ log });
        }
        current = handle;
        const loadBefore = loadAvg1();
        log(`${name}: up at ${handle.target.split(',')[0]}${handle.pid ? `, pid ${handle.pid}` : ''}; load average ${loadBefore}`);
        if (loadBefore > os.cpus().length / 2) log(`warning: load average ${loadBefore} on ${os.cpus().length} cores: something else is running, figures will be low and noisy`);
        const report = await runClient(name, handle.target, handle.pid, opts);
        Object.assign(acc, { label: handle.label, version: handle.version ?? null, target: handle.target });
        acc.attempts.push({ round, loadBefore, loadAfter: loadAvg1(), report });
      } catch (e) {
        if (e.skip) acc.skipped = e.message;
        else acc.errors = [...(acc.errors ?? []), e.message];
        log(`${name}: ${e.message}`);
      } finally {
        if (handle) {
          await handle.stop().catch((e) => log(`${name}: stop failed: ${e.message}`));
          log(`${name}: stopped`);
        }
        current = null;
      }
    }
  }
  const runs = {};
  for (const [name, acc] of Object.entries(rounds)) {
    if (acc.skipped) runs[name] = { skipped: acc.skipped };
    else if (!acc.attempts.length) runs[name] = { error: (acc.errors ?? ['no result']).join('; '), label: acc.label, target: acc.target ?? '' };
    else {
      const loads = acc.attempts.flatMap((a) => [a.loadBefore, a.loadAfter]);
      runs[name] = {
        label: acc.label, version: acc.version, target: acc.target,
        loadBefore: Math.min(...loads), loadAfter: Math.max(...loads),
        report: bestOf(acc.attempts.map((a) => a.report)),
        rounds: acc.attempts,
        roundErrors: acc.errors,
      };
    }
  }

  const summary = summarize(runs, opts.scenarios);
  const result = { machine, options: { scenarios: opts.scenarios, scale: opts.scale, only: opts.only, rounds: opts.rounds }, runs, summary };
  const md = markdown(result);
  const outDir = opts.out ?? path.join(HERE, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'latest.md'), md);
  process.stdout.write('\n' + md);
  log(`wrote ${path.relative(REPO, path.join(outDir, 'latest.md'))} and latest.json`);
  return 0;
}

main().then((c) => { process.exitCode = c; }, (e) => { log(`bench: ${e.stack}`); process.exitCode = 1; });
