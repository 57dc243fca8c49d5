#!/usr/bin/env node
// stomp-bench: runs issue 2's benchmark scenarios against any STOMP broker at host:port and prints
// messages/s (end to end) and latency p50/p99 per scenario. Plain Node ESM, no dependencies, no build.
//
//   node bench/stomp-bench.mjs --target 127.0.0.1:61613[,login,passcode[,vhost]] \
//        [--scenarios a,b,c,c0,d,e,lat] [--pid PID] [--quick | --scale X] [--json] [--json-out FILE]
//        [--ack auto|client|client-individual]
//
// --pid samples that process tree's resident memory every 100 ms during scenario a (the figure issue 2
// compares) and over the whole run. Scenarios run one after another with a pause between them, each on
// fresh destinations (see lib/scenarios.mjs for what each measures and how it is bounded). Consumers use
// ack:auto except in e (client-individual, as issue 2 says); --ack changes that for the other scenarios,
// to study how much of a broker's figure is acknowledgement cost.

import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseTarget } from './lib/stomp-wire.mjs';
import { SCENARIOS, SCENARIO_ORDER, runScenario } from './lib/scenarios.mjs';
import { RssSampler } from './lib/rss.mjs';

export function parseArgs(argv) {
  const o = { scenarios: SCENARIO_ORDER.slice(), scale: 1, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--target') o.target = val();
    else if (a === '--scenarios') o.scenarios = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--pid') o.pid = Number(val());
    else if (a === '--quick') o.scale = 0.1;
    else if (a === '--scale') o.scale = Number(val());
    else if (a === '--json') o.json = true;
    else if (a === '--json-out') o.jsonOut = val();
    else if (a === '--label') o.label = val();
    else if (a === '--ack') o.ack = val();
    else if (a === '--pause-ms') o.pauseMs = Number(val());
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown option ${a}`);
  }
  for (const s of o.scenarios) if (!SCENARIOS[s]) throw new Error(`unknown scenario ${s} (known: ${SCENARIO_ORDER.join(',')})`);
  if (!(o.scale > 0)) throw new Error('--scale must be > 0');
  if (o.ack && !['auto', 'client', 'client-individual'].includes(o.ack)) throw new Error('--ack must be auto, client or client-individual');
  return o;
}

const fmtN = (x) => (x === null || x === undefined ? '-' : Number(x).toLocaleString('en-US'));
const fmtMs = (l, k) => (l && l[k] !== undefined ? `${l[k]}` : '-');

export function formatTable(results) {
  const rows = [['scenario', 'status', 'msgs', 'msg/s', 'p50 ms', 'p99 ms', 'max ms', 'client cpu', 'note']];
  for (const r of results) {
    const l = r.latency ?? r.receiptLatency;
    const lKind = r.latency ? '' : r.receiptLatency ? ' (receipt)' : '';
    rows.push([
      r.id, r.status, fmtN(r.messages), fmtN(r.rate) + (r.deliveriesPerSec ? ` (${fmtN(r.deliveriesPerSec)} deliveries/s)` : ''),
      fmtMs(l, 'p50') + lKind, fmtMs(l, 'p99'), fmtMs(l, 'max'), r.clientCpuPct !== undefined ? `${r.clientCpuPct}%` : '-',
      r.status === 'ok' ? (r.dups ? `${r.dups} duplicates` : '') : `${r.error} (received ${fmtN(r.received)})`,
    ]);
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows.map((r) => r.map((v, c) => String(v).padEnd(w[c])).join('  ').trimEnd()).join('\n');
}

/** Runs the chosen scenarios against one broker; returns the JSON report. Used by run.mjs too. */
export async function benchTarget(opts, log = (s) => process.stderr.write(s + '\n')) {
  const target = parseTarget(opts.target);
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const pauseMs = opts.pauseMs ?? 1000;
  const overall = opts.pid ? new RssSampler(opts.pid).start() : null;
  const results = [];
  let memory = null;
  for (const id of opts.scenarios) {
    log(`[${opts.label ?? opts.target}] ${id}: ${SCENARIOS[id].title} ...`);
    const sampler = opts.pid && id === 'a' ? new RssSampler(opts.pid).start() : null;
    const r = await runScenario(id, { target, runId, scale: opts.scale, consumerAck: opts.ack ?? 'auto' });
    if (sampler) {
      memory = sampler.stop();
      r.brokerPeakRssMiB = memory.peakRssMiB;
    }
    results.push(r);
    const l = r.latency ?? r.receiptLatency;
    log(`[${opts.label ?? opts.target}] ${id}: ${r.status}${r.rate ? ` ${fmtN(r.rate)} msg/s` : ''}${l ? ` p50 ${l.p50} ms p99 ${l.p99} ms` : ''}${r.error ? ` — ${r.error}` : ''}${r.brokerPeakRssMiB ? `, broker peak RSS ${r.brokerPeakRssMiB} MiB` : ''}`);
    // Let the broker settle (GC, journal checkpoints) so one scenario's tail does not bill the next.
    if (id !== opts.scenarios[opts.scenarios.length - 1]) await sleep(pauseMs);
  }
  return {
    target: `${target.host}:${target.port}`,
    label: opts.label ?? null,
    scale: opts.scale,
    date: new Date().toISOString(),
    results,
    memoryDuringA: memory,
    memoryWholeRun: overall ? overall.stop() : null,
  };
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`stomp-bench: ${e.message}\n`);
    return 2;
  }
  if (opts.help || !opts.target) {
    process.stdout.write(fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1).filter((l, i, a) => a.slice(0, i + 1).every((x) => x.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
    return opts.help ? 0 : 2;
  }
  const report = await benchTarget(opts);
  process.stdout.write(formatTable(report.results) + '\n');
  if (report.memoryDuringA) process.stdout.write(`broker peak RSS during a: ${report.memoryDuringA.peakRssMiB} MiB (${report.memoryDuringA.processes} processes)\n`);
  if (report.memoryWholeRun) process.stdout.write(`broker peak RSS over the run: ${report.memoryWholeRun.peakRssMiB} MiB\n`);
  if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  if (opts.jsonOut) {
    fs.mkdirSync(path.dirname(path.resolve(opts.jsonOut)), { recursive: true });
    fs.writeFileSync(opts.jsonOut, JSON.stringify(report, null, 2) + '\n');
  }
  return report.results.every((r) => r.status === 'ok') ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('stomp-bench.mjs')) {
  main().then((code) => { process.exitCode = code; }, (e) => { process.stderr.write(`stomp-bench: ${e.stack}\n`); process.exitCode = 2; });
}
