#!/usr/bin/env node
// bench/group.mjs: what replication costs and how a replicated group recovers, in one run on this machine.
//
//   node bench/group.mjs [--messages N] [--rounds R] [--failovers K] [--catchup-messages N]
//                        [--tail-messages N] [--catchup-timeout S] [--loss-modes M,M] [--loss-kills K]
//                        [--loss-stall MS,MS] [--only c,failover,catchup,loss] [--out DIR] [--keep-logs]
//
// 1. Throughput: stomp-bench scenario c (queue 1P/1C, 1 KiB persistent, 100 receipts in flight; N messages,
//    default 50,000) against a standalone `mini-amq start`, then against the master of a fresh 3-member group
//    with --sync quorum_mem, then quorum_disk (a fresh group each). The client connects straight to the
//    master's STOMP port, read from its `"stompPort":N` log line. Ratio to standalone; target >= 0.5.
//    With --rounds R the three take turns R times and each keeps its best round.
// 2. Failover: a FailoverClient (packages/stomp) sends persistent messages with receipts, one at a time, to
//    failover:(all three)?randomize=false&initialReconnectDelay=20&maxReconnectDelay=250; the master is
//    SIGKILLed and we time kill -> first RECEIPT that arrives over the new connection. K times (default 5);
//    the killed member is restarted each time and rejoins as a slave. zkSessionTimeout 2000 ms. Target < 3 s.
//    Afterwards the queue's size on the last master is compared with the receipts we got (loss/duplicates).
// 3. Catch-up: one slave is SIGKILLed, N persistent 1 KiB messages (default 100,000) are sent to the group
//    (the other slave keeps the quorum), then the stopped slave is restarted (same `mini-amq start` command
//    and data directory) and we time restart -> the master's status (what `mini-amq status --json` prints:
//    replication.slaves[].match, asked over STOMP every ~25 ms) shows it replicating at the master's last
//    index (replication.position.index, read before the restart; no client writes meanwhile). A slave logs
//    nothing when it has caught up, so the master's status is the signal. Then once more with a backlog
//    that fits in the master's in-memory log tail (--tail-messages, default 9,000 < the 10,000 entries
//    kept), i.e. without a snapshot.
// 4. Loss window: for each sync mode (--loss-modes, default local_mem,local_disk,quorum_mem,quorum_disk) a
//    fresh group and a FailoverClient producer on failover:(all three)?randomize=false&initialReconnectDelay=20
//    &maxReconnectDelay=250 (persistent 1 KiB SENDs with receipts, 50 in flight, header `seq` = 1, 2, 3…).
//    The serving master is SIGKILLed K times (--loss-kills, default 5), each at a random moment 300–1000 ms
//    after it started serving, and restarted at once (same command and data dir). Then the producer stops
//    (its in-flight receipts awaited for up to 10 s), and once the group has a master and two slaves again,
//    a client-individual subscriber drains the queue on the master until 2 s of silence. Counted: receipts,
//    receipted seqs never consumed (lost), seqs consumed more than once (duplicates). In local_* modes a
//    receipt does not wait for any slave, so a kill can lose receipted messages; quorum_* modes must lose none.
//    Each mode runs once per --loss-stall value (default 0,500): with N > 0 the two slaves are SIGSTOPped at
//    the drawn moment, the master SIGKILLed N ms later and the slaves SIGCONTed (slaves that lag).
//
// Needs `npm run build` and Debian's zookeeper package (installed by test/helpers/zookeeper.mjs when
// root). Every process it starts is stopped by PID at the end, on error too, and its temp dirs removed
// (--keep-logs keeps the members' logs and says where). Writes bench/results/group-latest.md (or
// DIR/group-latest.md); a run of some parts only writes group-<parts>-latest.md instead (e.g.
// group-loss-latest.md), so that it never replaces the full report. Default run: ~2.5 minutes on 2 CPUs
// (the loss part ~1.5).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Proc, codeVersion, headerHelp, isStopping, markStopping, stopAll, waitFor } from './lib/procs.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const BIN = path.join(REPO, 'packages/cli/bin/mini-amq.js');
const SCENARIO_C_BASE = 50_000; // SCENARIOS.c.count in lib/scenarios.mjs: --scale is relative to it
const ZK_SESSION_TIMEOUT_MS = 2000;
const FAILOVER_PACE_MS = 5; // the failover producer's pause between one RECEIPT and the next SEND
const RATIO_TARGET = 0.5;
const FAILOVER_TARGET_MS = 3000;
const SYNC_MODES = ['local_mem', 'local_disk', 'remote_mem', 'remote_disk', 'quorum_mem', 'quorum_disk']; // packages/cli/src/config.ts
const LOSS_WINDOW = 50; // the loss producer's SENDs in flight
const LOSS_KILL_DELAY_MS = [300, 1000]; // a master is killed this long after it started serving (uniform)
const LOSS_DRAIN_MS = 10_000; // how long the stopped producer waits for its in-flight receipts
const LOSS_SILENCE_MS = 2000; // the consumer stops after this long without a message
const now = () => performance.now();
/** A child started from the repository's root (see lib/procs.mjs). */
const newProc = (label, argv, logFile) => new Proc(label, argv, logFile, { cwd: REPO });
const log = (s) => process.stderr.write(s + '\n');

// ------------------------------------------------------------------------------------------------------
// options

function parseArgs(argv) {
  const o = {
    messages: 50_000, rounds: 1, failovers: 5, catchupMessages: 100_000, tailMessages: 9_000, catchupTimeoutS: 45,
    lossModes: ['local_mem', 'local_disk', 'quorum_mem', 'quorum_disk'], lossKills: 5, lossStalls: [0, 500],
    only: ['c', 'failover', 'catchup', 'loss'], out: path.join(HERE, 'results'),
  };
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
    else if (a === '--failovers') o.failovers = int(1, 50);
    else if (a === '--catchup-messages') o.catchupMessages = int(0, 10_000_000);
    else if (a === '--tail-messages') o.tailMessages = int(0, 10_000_000);
    else if (a === '--catchup-timeout') o.catchupTimeoutS = int(5, 3600);
    else if (a === '--loss-kills') o.lossKills = int(1, 50);
    else if (a === '--loss-stall') {
      o.lossStalls = val().split(',').map((x) => Number(x.trim()));
      if (!o.lossStalls.length || o.lossStalls.some((x) => !Number.isInteger(x) || x < 0 || x > 900)) throw new Error('--loss-stall: a list of whole numbers of ms from 0 to 900 (0 = no stall)');
    }
    else if (a === '--loss-modes') o.lossModes = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--only') o.only = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--keep-logs') o.keepLogs = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown option ${a}`);
  }
  for (const p of o.only) if (!['c', 'failover', 'catchup', 'loss'].includes(p)) throw new Error(`--only: unknown part ${p} (c, failover, catchup, loss)`);
  for (const m of o.lossModes) if (!SYNC_MODES.includes(m)) throw new Error(`--loss-modes: unknown sync mode ${m} (${SYNC_MODES.join(', ')})`);
  if (o.lossModes.length === 0) throw new Error('--loss-modes: no mode given');
  return o;
}


/** /proc figures of one process: resident MiB and CPU seconds so far. */
function procSample(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(f[11]) + Number(f[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100 on Linux)
    return { rssMiB: Math.round(rss), cpuS: cpu };
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------------------------------------
// brokers and groups

let ROOT = null; // the run's temp dir
let ZK = null;
let ZK_STARTING = null; // the start in progress, so that Ctrl-C meanwhile still stops it
let freePort = null;

/** The STOMP port a broker process serves now (from its log), or null. */
function servingPort(proc) {
  if (!proc || !proc.alive) return null;
  let port = null;
  for (const l of proc.lines) {
    const j = l.j;
    if (!j) continue;
    if (typeof j.stompPort === 'number' && typeof j.msg === 'string' && j.msg.startsWith('listening')) port = j.stompPort;
    else if (typeof j.msg === 'string' && j.msg.startsWith('closing client connections')) port = null;
  }
  return port;
}

/** The member's role as its latest replication log line says (candidate / slave / master), or null. */
function lastRole(proc) {
  if (!proc || !proc.alive) return null;
  for (let i = proc.lines.length - 1; i >= 0; i--) {
    const r = proc.lines[i].j?.replication;
    if (r && typeof r.role === 'string') return r.role;
  }
  return null;
}

function findLine(proc, pred, fromAt = -Infinity) {
  return proc.lines.find((l) => l.at >= fromAt && l.j && pred(l.j)) ?? null;
}

async function startStandalone() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(ROOT, 'standalone-'));
  const p = newProc('standalone', [BIN, 'start', '--name', 'standalone', '--port', String(port), '--no-ws', '--data', path.join(dir, 'data')], path.join(dir, 'mini-amq.log'));
  try {
    await waitFor(() => servingPort(p) === port || !p.alive, 30_000, 'the standalone broker to listen');
    if (!p.alive) throw new Error('exited');
  } catch (e) {
    await p.stop();
    throw new Error(`standalone mini-amq did not start: ${e.message}\n${p.tail()}`);
  }
  return { label: 'standalone', port, pid: p.pid, stop: () => p.stop() };
}

class Group {
  constructor(tag, sync) {
    this.tag = tag;
    this.sync = sync;
    this.zkPath = `/bench/${tag}`;
    this.dir = fs.mkdtempSync(path.join(ROOT, `${tag}-`));
    this.members = [];
  }

  async start() {
    for (let i = 1; i <= 3; i++) {
      this.members.push({ name: `${this.tag}-b${i}`, port: await freePort(), data: path.join(this.dir, `b${i}`), proc: null, starts: 0 });
    }
    for (const m of this.members) this.launch(m);
    try {
      await this.ready(30_000);
    } catch (e) {
      await this.stop();
      throw new Error(`group ${this.tag} (${this.sync}) did not form: ${e.message}\n${this.members.map((m) => `--- ${m.name}\n${m.proc.tail(8)}`).join('\n')}`);
    }
    return this;
  }

  args(m) {
    return ['start', '--name', m.name, '--group', this.tag, '--replicas', '3', '--zk', ZK.connect, '--zk-path', this.zkPath,
      '--port', String(m.port), '--no-ws', '--data', m.data, '--bind', 'tcp://127.0.0.1:0', '--sync', this.sync,
      '--zk-session-timeout', String(ZK_SESSION_TIMEOUT_MS)];
  }

  /** Starts member m as `mini-amq start` (again, after a kill: same name, port and data directory). */
  launch(m) {
    m.starts++;
    m.proc = newProc(m.name, [BIN, ...this.args(m)], path.join(this.dir, `${m.name}.${m.starts}.log`));
    (m.procs ??= []).push(m.proc); // every run of it, for its log lines
    return m.proc;
  }

  master() {
    const serving = this.members.filter((m) => servingPort(m.proc) !== null);
    return serving.length === 1 ? serving[0] : null;
  }

  /** One serving master, the two others slaves. */
  async ready(timeoutMs) {
    await waitFor(() => {
      const m = this.master();
      return m && this.members.every((x) => x === m || lastRole(x.proc) === 'slave');
    }, timeoutMs, 'one serving master and two slaves');
    return this.master();
  }

  memberByPort(port) {
    return this.members.find((m) => m.port === port) ?? null;
  }

  async stop() {
    await Promise.all(this.members.map((m) => m.proc?.stop(3000)));
  }
}

// ------------------------------------------------------------------------------------------------------
// 1. scenario c through stomp-bench.mjs in its own process (as run.mjs does)

async function runScenarioC(label, port, messages) {
  const outFile = path.join(ROOT, `c-${label}-${Date.now()}.json`);
  const args = [path.join(HERE, 'stomp-bench.mjs'), '--target', `127.0.0.1:${port}`, '--scenarios', 'c',
    '--scale', String(messages / SCENARIO_C_BASE), '--json-out', outFile, '--label', label];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', () => {}); // the table: we print our own
  child.stderr.on('data', (d) => process.stderr.write(d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  clearTimeout(killer);
  try {
    const report = JSON.parse(fs.readFileSync(outFile, 'utf8'));
    return report.results[0];
  } catch {
    return { id: 'c', status: 'failed', error: `stomp-bench exited with ${code} and no report`, rate: null };
  }
}

async function throughputPart(opts, results) {
  const configs = [
    { key: 'standalone', label: 'standalone `mini-amq start`' },
    { key: 'quorum_mem', label: '3-member group, --sync quorum_mem (master)' },
    { key: 'quorum_disk', label: '3-member group, --sync quorum_disk (master)' },
  ];
  const runs = Object.fromEntries(configs.map((c) => [c.key, []]));
  for (let round = 1; round <= opts.rounds; round++) {
    for (const c of configs) {
      log(`\n=== scenario c, ${c.label}${opts.rounds > 1 ? `, round ${round}/${opts.rounds}` : ''} ===`);
      let target = null;
      try {
        if (c.key === 'standalone') target = { ...(await startStandalone()), pids: null };
        else {
          const g = await new Group(`c-${c.key.replace('_', '-')}-r${round}`, c.key).start();
          const m = g.master();
          target = { port: servingPort(m.proc), pid: m.proc.pid, stop: () => g.stop(), master: m.name, slaves: g.members.filter((x) => x !== m).map((x) => x.proc.pid) };
        }
        log(`${c.key}: STOMP on 127.0.0.1:${target.port}${target.master ? ` (master ${target.master})` : ''}, load average ${os.loadavg()[0].toFixed(2)}`);
        // CPU seconds the broker (or master) and the slaves use during the run: 3 members share this machine's CPUs.
        const cpu = (pids) => pids.reduce((n, pid) => n + (procSample(pid)?.cpuS ?? 0), 0);
        const before = { master: cpu([target.pid]), slaves: cpu(target.slaves ?? []) };
        const r = await runScenarioC(c.key, target.port, opts.messages);
        if (r.status === 'ok' && r.seconds) {
          r.brokerCpuPct = Math.round(((cpu([target.pid]) - before.master) / r.seconds) * 100);
          if (target.slaves) r.slavesCpuPct = Math.round(((cpu(target.slaves) - before.slaves) / r.seconds) * 100);
        }
        runs[c.key].push(r);
      } catch (e) {
        runs[c.key].push({ id: 'c', status: 'failed', error: e.message.split('\n')[0], rate: null });
        log(`${c.key}: ${e.message}`);
      } finally {
        await target?.stop().catch(() => {});
      }
    }
  }
  for (const c of configs) {
    const ok = runs[c.key].filter((r) => r.status === 'ok' && r.rate);
    const best = ok.length ? ok.reduce((a, b) => (b.rate > a.rate ? b : a)) : runs[c.key][runs[c.key].length - 1];
    results.c[c.key] = { label: c.label, best, all: runs[c.key] };
  }
}

// ------------------------------------------------------------------------------------------------------
// 2. failover

async function failoverPart(opts, results) {
  log(`\n=== failover: ${opts.failovers} x SIGKILL of the master (quorum_mem, zkSessionTimeout ${ZK_SESSION_TIMEOUT_MS} ms) ===`);
  const { FailoverClient } = await import(pathToFileURL(path.join(REPO, 'packages/stomp/dist/index.js')).href);
  const g = await new Group('failover', 'quorum_mem').start();
  const out = { iterations: [], errors: [] };
  results.failover = out;
  let client = null;
  const prod = { stop: false, confirmed: 0, receipts: [], errors: 0, lastError: null };
  let loop = null;
  try {
    const uri = `failover:(${g.members.map((m) => `tcp://127.0.0.1:${m.port}`).join(',')})?randomize=false&initialReconnectDelay=20&maxReconnectDelay=250`;
    out.uri = uri;
    client = await FailoverClient.connect(uri);
    client.on('error', () => {});
    const reconnects = [];
    client.on('reconnect', (info) => reconnects.push({ at: now(), uri: info.uri, attempt: info.attempt }));
    const dest = `/queue/bench.failover.${Date.now().toString(36)}`;
    const body = Buffer.alloc(1024, 120);
    loop = (async () => {
      while (!prod.stop) {
        try {
          await client.sendWithReceipt(dest, body, { persistent: 'true' });
          prod.confirmed++;
          prod.receipts.push(now());
        } catch (e) {
          prod.errors++;
          prod.lastError = e.message;
          await sleep(50);
        }
        await sleep(FAILOVER_PACE_MS);
      }
    })();
    const portOf = (u) => Number(/:(\d+)$/.exec(u ?? '')?.[1]);
    for (let i = 1; i <= opts.failovers; i++) {
      // Steady state first: the client on the serving master, receipts flowing.
      const master = await waitFor(() => {
        const m = g.master();
        const t = now();
        const recent = prod.receipts.length >= 5 && t - prod.receipts[prod.receipts.length - 5] < 500;
        return m && recent && client.uri && portOf(client.uri) === m.port ? m : null;
      }, 30_000, 'steady sending to the serving master');
      await sleep(500);
      const tKill = now();
      const wallKill = Date.now();
      const sentBefore = prod.confirmed;
      master.proc.kill('SIGKILL');
      const it = { i, killed: master.name };
      try {
        const rec = await waitFor(() => {
          const r = reconnects.find((x) => x.at > tKill);
          if (!r) return null;
          const t = prod.receipts.find((x) => x >= r.at);
          return t === undefined ? null : { r, t };
        }, 30_000, 'the first receipt from a new master');
        it.ms = Math.round(rec.t - tKill);
        it.reconnectMs = Math.round(rec.r.at - tKill);
        it.dials = rec.r.attempt;
        const nm = g.memberByPort(portOf(rec.r.uri));
        it.newMaster = nm?.name ?? rec.r.uri;
        const serving = nm ? findLine(nm.proc, (j) => typeof j.stompPort === 'number' && j.msg?.startsWith('listening'), tKill) : null;
        it.servingLogMs = serving ? new Date(serving.j.time).getTime() - wallKill : null;
        const elected = nm ? findLine(nm.proc, (j) => typeof j.msg === 'string' && j.msg.startsWith('elected master'), tKill) : null;
        it.electedLogMs = elected ? new Date(elected.j.time).getTime() - wallKill : null;
        log(`failover ${i}: killed ${master.name}; first receipt after ${it.ms} ms (reconnected after ${it.reconnectMs} ms, ${it.dials} dial(s), new master ${it.newMaster}: elected ${it.electedLogMs} ms, serving ${it.servingLogMs} ms after the kill per its log)`);
      } catch (e) {
        it.error = e.message;
        log(`failover ${i}: ${e.message}`);
      }
      await master.proc.exited;
      // The killed member comes back on its data directory and rejoins as a slave.
      const tRestart = now();
      const p = g.launch(master);
      try {
        const line = await waitFor(() => (!p.alive ? { dead: true } : findLine(p, (j) => j.replication?.role === 'slave' && j.msg?.startsWith('slave of'), tRestart)), 30_000, `${master.name} to rejoin as a slave`);
        if (line.dead) throw new Error(`${master.name} exited after its restart:\n${p.tail()}`);
        it.rejoinMs = Math.round(line.at - tRestart);
        it.rejoinPosition = line.j.replication.position;
      } catch (e) {
        it.rejoinError = e.message;
        log(`failover ${i}: ${e.message}`);
      }
      it.confirmedDuring = prod.confirmed - sentBefore;
      out.iterations.push(it);
      if (it.error || it.rejoinError) break;
      // Let it catch up from the master's log tail (a few hundred entries) before the next kill.
      await sleep(1500);
    }
    prod.stop = true;
    await Promise.race([loop, sleep(30_000, undefined, { ref: false })]);
    out.confirmed = prod.confirmed;
    out.sendErrors = prod.errors;
    out.lastSendError = prod.lastError;
    // Nothing consumed the queue: it must hold exactly the messages whose receipts we got.
    const m = g.master();
    if (m) {
      try {
        const stats = await brokerStats(servingPort(m.proc));
        const row = stats.destinations.find((d) => d.destination === dest);
        out.queueSize = row ? row.pending + row.inflight : 0;
        out.duplicatesDropped = stats.duplicatesDropped;
      } catch (e) {
        out.errors.push(`statistics: ${e.message}`);
      }
    }
  } catch (e) {
    out.errors.push(e.message.split('\n')[0]);
    log(`failover: ${e.message}`);
  } finally {
    prod.stop = true;
    try { client?.close(); } catch { /* closed */ }
    await g.stop();
  }
}

/** The broker's statistics over STOMP (what `mini-amq status --json` prints). */
async function brokerStats(port) {
  const { connect, parseTarget, withTimeout } = await import('./lib/stomp-wire.mjs');
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

// ------------------------------------------------------------------------------------------------------
// 3. catch-up

/** Sends count persistent 1 KiB messages with up to `window` receipts outstanding; no consumer. */
async function sendBacklog(port, dest, count, window = 100) {
  const { connect, parseTarget } = await import('./lib/stomp-wire.mjs');
  const c = await connect(parseTarget(`127.0.0.1:${port}`), { timeoutMs: 10_000 });
  const body = Buffer.alloc(1024, 121);
  let inflight = 0;
  let failure = null;
  let wake = null;
  let done = 0;
  const settle = () => { if (wake) { const w = wake; wake = null; w(); } };
  const t0 = now();
  try {
    for (let i = 0; i < count && failure === null; i++) {
      while (inflight >= window && failure === null) await new Promise((r) => { wake = r; });
      if (failure) break;
      inflight++;
      c.sendWithReceipt(dest, body, { persistent: 'true' }).then(() => { inflight--; done++; settle(); }, (e) => { inflight--; failure ??= e; settle(); });
    }
    while (inflight > 0 && failure === null) await new Promise((r) => { wake = r; });
  } finally {
    await c.close(3000);
  }
  const seconds = (now() - t0) / 1000;
  if (failure) throw Object.assign(new Error(`sending the backlog failed after ${done} receipts: ${failure.message}`), { done });
  return { seconds, rate: Math.round(count / seconds) };
}

/** One STOMP connection asking a broker for its statistics again and again (what `mini-amq status --json` prints). */
class StatusPoller {
  static async open(port) {
    const { connect, parseTarget } = await import('./lib/stomp-wire.mjs');
    const p = new StatusPoller();
    p.conn = await connect(parseTarget(`127.0.0.1:${port}`), { timeoutMs: 5000 });
    p.waiting = null;
    await p.conn.subscribe('/temp-queue/bench-status', (f) => {
      const w = p.waiting;
      p.waiting = null;
      w?.resolve(f);
    }, { receipt: true });
    p.conn.onError = (e) => { const w = p.waiting; p.waiting = null; w?.reject(e); };
    return p;
  }

  async ask(timeoutMs = 5000) {
    const { withTimeout } = await import('./lib/stomp-wire.mjs');
    const answer = new Promise((resolve, reject) => { this.waiting = { resolve, reject }; });
    this.conn.send('/queue/ActiveMQ.Statistics.Broker', '', { 'reply-to': '/temp-queue/bench-status' });
    const f = await withTimeout(answer, timeoutMs, 'statistics answer');
    return JSON.parse(f.body.toString('utf8'));
  }

  close() { this.conn?.destroy(); }
}

async function catchupOnce(opts, messages, tag) {
  const r = { messages };
  const g = await new Group(tag, 'quorum_mem').start();
  const samples = [];
  let sampler = null;
  let poller = null;
  try {
    const master = g.master();
    const slaves = g.members.filter((m) => m !== master);
    const s = slaves[0];
    r.master = master.name;
    r.slave = s.name;
    await s.proc.sigkill();
    await sleep(300);
    log(`catch-up (${messages.toLocaleString('en-US')}): killed slave ${s.name}; sending ${messages.toLocaleString('en-US')} persistent 1 KiB messages to ${master.name} (quorum kept by ${slaves[1].name})`);
    const port = servingPort(master.proc);
    const sent = await sendBacklog(port, `/queue/bench.catchup.${Date.now().toString(36)}`, messages);
    r.sendSeconds = Math.round(sent.seconds * 10) / 10;
    r.sendRate = sent.rate;
    r.snapshotsWhileDown = master.proc.lines.filter((l) => l.j?.msg?.includes('sending it a snapshot')).length;
    // The master's last index now: what the returning slave must hold (no client writes from here on).
    poller = await StatusPoller.open(port);
    const before = await poller.ask();
    if (!before.replication) throw new Error('`mini-amq status` on the master has no "replication" block: slave positions cannot be read');
    const target = before.replication.position.index;
    r.targetIndex = target;
    log(`catch-up: sent in ${r.sendSeconds} s (${sent.rate.toLocaleString('en-US')} msg/s), master at index ${target}; restarting ${s.name}`);
    const tRestart = now();
    const p = g.launch(s);
    const sample = () => {
      const x = procSample(master.proc.pid);
      if (x) samples.push({ at: now() - tRestart, ...x });
    };
    sample();
    sampler = setInterval(sample, 250);
    // Poll the (current) master's status until it shows the returning slave replicating at its last index.
    const trace = [];
    let caught = null;
    const until = tRestart + opts.catchupTimeoutS * 1000;
    while (now() < until && caught === null) {
      if (!p.alive) throw new Error(`${s.name} exited after its restart:\n${p.tail()}`);
      let st = null;
      try {
        if (poller === null) {
          const m = g.master();
          if (m) poller = await StatusPoller.open(servingPort(m.proc));
        }
        st = poller ? await poller.ask(3000) : null;
      } catch {
        poller?.close();
        poller = null; // the master changed or is busy: find it again
      }
      const t = now();
      const rep = st?.replication;
      const sl = rep?.slaves?.find((x) => x.node === s.name);
      if (rep) {
        trace.push({ at: t - tRestart, master: rep.node, index: rep.position.index, state: sl?.state ?? 'absent', match: sl?.match ?? null, durable: sl?.durable ?? null });
        if (sl && sl.state === 'replicate' && sl.match >= Math.max(target, rep.position.index)) caught = t;
      }
      if (caught === null) await sleep(25);
    }
    clearInterval(sampler);
    sample();
    const slaveLine = findLine(p, (j) => j.replication?.role === 'slave' && typeof j.msg === 'string' && j.msg.startsWith('slave of'));
    r.slaveOfS = slaveLine ? round3((slaveLine.at - tRestart) / 1000) : null;
    r.fromPosition = slaveLine?.j.replication.position ?? null;
    if (caught !== null) {
      r.caughtS = round3((caught - tRestart) / 1000);
      r.rate = Math.round(messages / r.caughtS);
      if (slaveLine) r.rateFromSlaveOf = Math.round(messages / ((caught - slaveLine.at) / 1000));
    } else {
      r.timedOut = true;
    }
    const last = trace[trace.length - 1];
    r.last = last ?? null;
    r.snapshotsSent = g.members.reduce((n, m) => n + m.proc.lines.filter((l) => l.at >= tRestart && l.j?.msg?.includes('sending it a snapshot')).length, 0);
    const demotions = g.members.flatMap((m) => m.proc.lines.filter((l) => l.at >= tRestart && l.j?.msg?.startsWith('no longer master')).map((l) => `${round1((l.at - tRestart) / 1000)} s: ${m.name} ${l.j.msg}`));
    r.masterChanges = demotions.length;
    r.demotions = demotions;
    r.zkSessionsLost = g.members.reduce((n, m) => n + m.proc.lines.filter((l) => l.at >= tRestart && l.j?.msg?.startsWith('ZooKeeper session ended')).length, 0);
    r.masterPeakRssMiB = samples.length ? Math.max(...samples.map((x) => x.rssMiB)) : null;
    r.masterCpuS = samples.length > 1 ? round1(samples[samples.length - 1].cpuS - samples[0].cpuS) : null;
    r.windowS = samples.length ? round1(samples[samples.length - 1].at / 1000) : null;
    // What the master said of the slave over time: the first answer, every change of state, ~10 steps of
    // progress, the last.
    const fmtT = (x) => `${round3(x.at / 1000)} s: master ${x.master} at ${x.index}, ${s.name} ${x.state}${x.match === null ? '' : ` match ${x.match}`}`;
    r.trace = trace.filter((x, i) => i === 0 || i === trace.length - 1 || x.state !== trace[i - 1].state || x.master !== trace[i - 1].master
      || (x.match ?? 0) - (trace[i - 1].match ?? 0) > messages / 10).slice(0, 16).map(fmtT);
    log(`catch-up (${messages.toLocaleString('en-US')}): ${r.caughtS !== undefined ? `caught up ${r.caughtS} s after the restart (${r.rate.toLocaleString('en-US')} msg/s)` : `NOT caught up within ${opts.catchupTimeoutS} s (${last ? `master says ${last.state}, match ${last.match} of ${target}` : 'no status'})`}; ${r.snapshotsSent} snapshot(s) sent, ${r.masterChanges} master change(s), master peak RSS ${r.masterPeakRssMiB} MiB`);
  } finally {
    if (sampler) clearInterval(sampler);
    poller?.close();
    await g.stop();
  }
  return r;
}

const round1 = (x) => Math.round(x * 10) / 10;
const round3 = (x) => Math.round(x * 1000) / 1000;

async function catchupPart(opts, results) {
  results.catchup = [];
  const sizes = [[opts.catchupMessages, 'catchup'], [opts.tailMessages, 'catchup-tail']].filter(([n]) => n > 0);
  for (const [n, tag] of sizes) {
    log(`\n=== catch-up of a restarted slave, ${n.toLocaleString('en-US')} messages behind ===`);
    try {
      results.catchup.push(await catchupOnce(opts, n, tag));
    } catch (e) {
      results.catchup.push({ messages: n, error: e.message.split('\n')[0], failed: true });
      log(`catch-up: ${e.message}`);
    }
  }
}

// ------------------------------------------------------------------------------------------------------
// 4. loss window of the sync modes

/** The `at` of the latest "listening" line of a broker process (when it started serving clients), or null. */
function servingSince(proc) {
  for (let i = proc.lines.length - 1; i >= 0; i--) {
    const j = proc.lines[i].j;
    if (j && typeof j.stompPort === 'number' && typeof j.msg === 'string' && j.msg.startsWith('listening')) return proc.lines[i].at;
  }
  return null;
}

async function lossOnce(opts, mode, stallMs, stomp) {
  const { FailoverClient, StompClient } = stomp;
  const tag = `loss-${mode.replace('_', '-')}${stallMs ? `-s${stallMs}` : ''}`;
  const r = { mode, stallMs, kills: [], errors: [] };
  const g = await new Group(tag, mode).start();
  let client = null;
  let consumer = null;
  const prod = { stop: false, next: 1, receipted: new Map(), via: new Map(), lastAt: 0, failed: 0, lastError: null };
  const portOf = (u) => Number(/:(\d+)$/.exec(u ?? '')?.[1]);
  try {
    const uri = `failover:(${g.members.map((m) => `tcp://127.0.0.1:${m.port}`).join(',')})?randomize=false&initialReconnectDelay=20&maxReconnectDelay=250`;
    r.uri = uri;
    client = await FailoverClient.connect(uri);
    client.on('error', (e) => { prod.lastError = e.message; });
    const reconnects = [];
    client.on('reconnect', (info) => reconnects.push({ at: now(), uri: info.uri }));
    const dest = `/queue/bench.loss.${mode}.${Date.now().toString(36)}`;
    r.dest = dest;
    const body = Buffer.alloc(1024, 122);
    // LOSS_WINDOW workers, each with one SEND in flight: seqs are taken (and SENDs created) in order.
    const worker = async () => {
      while (!prod.stop) {
        const seq = prod.next++;
        try {
          await client.sendWithReceipt(dest, body, { persistent: 'true', seq: String(seq) });
          prod.lastAt = now();
          prod.receipted.set(seq, prod.lastAt);
          prod.via.set(seq, portOf(client.uri)); // the connection the RECEIPT came over (still set: 'close' comes later)
        } catch (e) {
          prod.failed++;
          prod.lastError = e.message;
          if (client.isClosed) return;
          await sleep(50);
        }
      }
    };
    const disconnects = [];
    client.on('disconnect', (info) => disconnects.push({ at: now(), uri: info.uri }));
    const tStart = now();
    const workers = Array.from({ length: LOSS_WINDOW }, worker);
    let lastKilled = null;
    for (let i = 1; i <= opts.lossKills; i++) {
      const m = await waitFor(() => { const x = g.master(); return x && x.proc !== lastKilled ? x : null; }, 30_000, `a serving master (before kill ${i})`);
      const since = Math.max(servingSince(m.proc) ?? tStart, tStart);
      const delay = Math.round(LOSS_KILL_DELAY_MS[0] + Math.random() * (LOSS_KILL_DELAY_MS[1] - LOSS_KILL_DELAY_MS[0]));
      await sleep(Math.max(0, since + delay - now()));
      if (g.master() !== m) {
        // It stopped serving by itself (demoted): wait for the next master and draw again.
        r.errors.push(`kill ${i}: ${m.name} stopped serving before its kill`);
        i--;
        if (r.errors.length > 10) throw new Error('masters keep stopping before their kill');
        continue;
      }
      // --loss-stall: the slaves are SIGSTOPped this long before the kill (a slow or cut-off slave), SIGCONTed after it.
      const stalled = stallMs > 0 ? g.members.filter((x) => x !== m && x.proc.alive).map((x) => x.proc) : [];
      for (const p of stalled) p.kill('SIGSTOP');
      const receiptsAtStall = prod.receipted.size;
      if (stalled.length) await sleep(stallMs);
      const tKill = now();
      const k = {
        i, killed: m.name, afterServingMs: Math.round(tKill - since), drawnMs: delay, tKill,
        receiptsBefore: prod.receipted.size, receiptsWhileStalled: prod.receipted.size - receiptsAtStall, clientOnIt: portOf(client.uri) === m.port,
      };
      lastKilled = m.proc;
      try {
        await m.proc.sigkill();
      } finally {
        for (const p of stalled) p.kill('SIGCONT');
      }
      g.launch(m); // at once: same command, name, port and data directory
      r.kills.push(k);
      log(`loss ${mode}: kill ${i}: ${m.name} after ${k.afterServingMs} ms serving, ${k.receiptsBefore.toLocaleString('en-US')} receipts so far${stalled.length ? ` (${k.receiptsWhileStalled.toLocaleString('en-US')} while its ${stalled.length} slave(s) were stopped)` : ''}`);
    }
    // After the last kill: a new master, and receipts from it, before the producer stops.
    const tLast = r.kills[r.kills.length - 1].tKill;
    await waitFor(() => {
      const rc = reconnects.find((x) => x.at > tLast);
      return rc !== undefined && prod.lastAt > rc.at;
    }, 30_000, 'receipts from the master after the last kill', 50);
    await sleep(300);
    prod.stop = true;
    const tStop = now();
    const drained = await Promise.race([Promise.all(workers).then(() => true), sleep(LOSS_DRAIN_MS, false, { ref: false })]);
    r.runS = round1((tStop - tStart) / 1000);
    r.sent = prod.next - 1;
    r.receipted = prod.receipted.size;
    r.rate = Math.round(r.receipted / ((tStop - tStart) / 1000));
    r.sendErrors = prod.failed;
    r.lastSendError = prod.lastError;
    if (!drained) r.errors.push(`${r.sent - r.receipted - prod.failed} SEND(s) still had no receipt ${LOSS_DRAIN_MS / 1000} s after the producer stopped`);
    // Which master each kill handed over to: the first reconnect after it. Receipts the killed master sent
    // before it died can reach us after tKill, until the client sees that connection close.
    for (const k of r.kills) {
      k.next = g.memberByPort(portOf(reconnects.find((x) => x.at > k.tKill)?.uri))?.name ?? null;
      // The position the next master was elected at, from its own log: (0,0) after epoch 1 means a
      // member with an empty store became master, and everything before was lost.
      const nm = g.members.find((x) => x.name === k.next);
      const el = (nm?.procs ?? []).map((p) => findLine(p, (j) => typeof j.msg === 'string' && j.msg.startsWith('elected master of epoch'), k.tKill)).filter(Boolean).sort((a, b) => a.at - b.at)[0] ?? null;
      const em = el ? /^elected master of epoch (\d+) at position \((\d+),(\d+)\)/.exec(el.j.msg) : null;
      if (em) {
        k.electedEpoch = Number(em[1]);
        k.electedAt = `(${em[2]},${em[3]})`;
        if (k.electedEpoch > 1 && Number(em[3]) === 0) {
          k.empty = true;
          r.errors.push(`kill ${k.i}: ${k.next} was elected master of epoch ${k.electedEpoch} at position (0,0), i.e. with an empty store: every message stored before was lost (see "a member with a wiped store elected" in bench/GROUP.md)`);
        }
      }
      const port = g.members.find((x) => x.name === k.killed).port;
      k.boundary = disconnects.find((x) => x.at >= k.tKill && portOf(x.uri) === port)?.at ?? k.tKill;
    }
    // Kill -> the first receipt after the client lost the killed master.
    const firsts = r.kills.map(() => Infinity);
    for (const at of prod.receipted.values()) {
      r.kills.forEach((k, n) => { if (at > k.boundary && at < firsts[n]) firsts[n] = at; });
    }
    r.kills.forEach((k, n) => { k.firstReceiptMs = Number.isFinite(firsts[n]) ? Math.round(firsts[n] - k.tKill) : null; });
    try { await client.disconnect({ timeoutMs: 2000 }); } catch { client.close(); }
    client = null;
    await sleep(50);
    // Drain the queue on the master once the group is whole again.
    const master = await g.ready(30_000);
    const port = servingPort(master.proc);
    r.finalMaster = master.name;
    try {
      const stats = await brokerStats(port);
      const row = stats.destinations.find((d) => d.destination === dest);
      r.queueSize = row ? row.pending + row.inflight : 0;
      r.duplicatesDropped = stats.duplicatesDropped;
    } catch (e) {
      r.errors.push(`statistics: ${e.message}`);
    }
    const counts = new Map();
    let consumed = 0;
    let lastMsg = now();
    let lostConn = null;
    consumer = await StompClient.connect({ host: '127.0.0.1', port });
    consumer.on('error', () => {});
    consumer.on('close', (e) => { lostConn = e ?? new Error('closed'); });
    const sub = consumer.subscribe(dest, (msg) => {
      const seq = Number(msg.headers.seq);
      counts.set(seq, (counts.get(seq) ?? 0) + 1);
      consumed++;
      lastMsg = now();
      msg.ack();
    }, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1000' }, receipt: true });
    await sub.ready;
    const tConsume = now();
    lastMsg = tConsume;
    while (now() - lastMsg < LOSS_SILENCE_MS && lostConn === null && now() - tConsume < 120_000) await sleep(50);
    if (lostConn) {
      r.drainInterrupted = true;
      r.errors.push(`the consumer's connection to ${master.name} closed while draining (${lostConn.message}): the lost count below is not conclusive`);
    }
    r.consumeS = round1((lastMsg - tConsume) / 1000);
    r.consumed = consumed;
    // Count.
    const lost = [];
    for (const seq of prod.receipted.keys()) if (!counts.has(seq)) lost.push(seq);
    lost.sort((a, b) => a - b);
    r.lost = lost.length;
    r.lostSeqs = lost;
    r.dupSeqs = 0;
    r.dupExtra = 0;
    r.storedUnreceipted = 0;
    for (const [seq, n] of counts) {
      if (n > 1) { r.dupSeqs++; r.dupExtra += n - 1; }
      if (!prod.receipted.has(seq)) r.storedUnreceipted++;
    }
    // Each lost message against the kill that took it: the first kill after its receipt, of the member
    // whose connection the receipt came over. Anything else (a receipt from a member never killed after it)
    // is listed apart.
    for (const k of r.kills) k.lost = 0;
    r.lostUnexplained = [];
    for (const seq of lost) {
      const at = prod.receipted.get(seq);
      const via = g.memberByPort(prod.via.get(seq))?.name ?? '?';
      const k = r.kills.find((x) => x.boundary >= at);
      if (k && k.killed === via) k.lost++;
      else r.lostUnexplained.push({ seq, via, atS: round3((at - tStart) / 1000), nextKill: k?.i ?? null });
    }
    r.lostAfterLastKill = r.lostUnexplained.length;
    r.lostRanges = ranges(lost);
    const pct = r.receipted ? (100 * r.lost) / r.receipted : 0;
    log(`loss ${mode}: ${r.receipted.toLocaleString('en-US')} receipted in ${r.runS} s (${r.rate.toLocaleString('en-US')} msg/s), ${r.consumed.toLocaleString('en-US')} consumed from ${master.name}; LOST ${r.lost} (${pct.toFixed(3)}%), ${r.dupSeqs} seq(s) consumed more than once, ${r.storedUnreceipted} stored without a receipt`);
    if (r.queueSize !== undefined && r.queueSize !== r.consumed) r.errors.push(`the queue held ${r.queueSize} before draining but ${r.consumed} were consumed`);
    if (r.lost > 0 && !mode.startsWith('local') && !r.drainInterrupted) {
      log(`loss ${mode}: *** ${r.lost} RECEIPTED MESSAGE(S) LOST IN A QUORUM MODE: seqs ${r.lostRanges.slice(0, 10).join(', ')} ***`);
    }
  } catch (e) {
    r.failed = true;
    r.errors.push(e.message.split('\n')[0]);
    log(`loss ${mode}: ${e.stack}`);
  } finally {
    prod.stop = true;
    try { client?.close(); } catch { /* closed */ }
    try { consumer?.close(); } catch { /* closed */ }
    await g.stop();
  }
  return r;
}

/** [1,2,3,7,9,10] -> ['1–3', '7', '9–10'] */
function ranges(sorted) {
  const out = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}–${sorted[j]}`);
    i = j + 1;
  }
  return out;
}

async function lossPart(opts, results) {
  const stomp = await import(pathToFileURL(path.join(REPO, 'packages/stomp/dist/index.js')).href);
  results.loss = [];
  for (const stallMs of opts.lossStalls) {
    for (const mode of opts.lossModes) {
      log(`\n=== loss window: --sync ${mode}, ${opts.lossKills} x SIGKILL of the master under load${stallMs ? `, the slaves SIGSTOPped for the last ${stallMs} ms before each kill` : ''} ===`);
      try {
        results.loss.push(await lossOnce(opts, mode, stallMs, stomp));
      } catch (e) { // the group did not form
        results.loss.push({ mode, stallMs, kills: [], errors: [e.message.split('\n')[0]], failed: true });
        log(`loss ${mode}: ${e.message}`);
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------------
// report

function fsyncProbe(dir) {
  const f = path.join(dir, `fsync-probe-${process.pid}`);
  const fd = fs.openSync(f, 'w');
  const buf = Buffer.alloc(1024, 120);
  let n = 0;
  const t0 = now();
  try {
    while (now() - t0 < 1000) { fs.writeSync(fd, buf); fs.fsyncSync(fd); n++; }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(f, { force: true });
  }
  return Math.round(n / ((now() - t0) / 1000));
}

const pct3 = (n, d) => (d ? `${((100 * n) / d).toFixed(3)}%` : '—');
const fmt = (x) => (x === null || x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
const yes = (b) => (b === null || b === undefined ? '—' : b ? 'yes' : '**no**');

function median(xs) {
  const a = [...xs].sort((p, q) => p - q);
  return a.length ? (a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2) : null;
}

function markdown(res, opts, command) {
  const m = res.machine;
  const L = [];
  L.push(`# mini-amq replicated group benchmark — ${m.date}`, '');
  L.push(`Machine: ${m.cpu}, ${m.cores} CPUs, ${m.ramGiB} GiB RAM, ${m.kernel}, Node ${m.node}, ~${fmt(m.fsyncs)} fsyncs/s in ${os.tmpdir()}; load average ${m.loadBefore} before, ${res.loadAfter} after.`);
  L.push(`Code: ${m.code} (built packages/*/dist as found). Command: \`${command}\` (ran ${res.totalS} s). ZooKeeper ${res.zk ?? '—'} (Debian's, on loopback), zkSessionTimeout ${ZK_SESSION_TIMEOUT_MS} ms, 3 members on this one machine.`, '');
  L.push('| measurement | result | target | met? |', '|---|---|---|:---:|');
  const c = res.c;
  const base = c.standalone?.best?.rate ?? null;
  if (c.standalone) {
    const s = c.standalone.best;
    L.push(`| scenario c, standalone (msg/s) | ${s.status === 'ok' ? fmt(s.rate) : s.status} | baseline | |`);
    for (const k of ['quorum_mem', 'quorum_disk']) {
      const b = c[k]?.best;
      if (!b) continue;
      const ratio = b.status === 'ok' && base ? b.rate / base : null;
      L.push(`| scenario c, group master, --sync ${k} (msg/s) | ${b.status === 'ok' ? `${fmt(b.rate)} (${ratio === null ? '—' : ratio.toFixed(2)}× standalone)` : `${b.status}: ${b.error}`} | ≥ ${RATIO_TARGET}× | ${yes(ratio === null ? null : ratio >= RATIO_TARGET)} |`);
    }
  }
  const f = res.failover;
  if (f) {
    const ms = f.iterations.filter((x) => x.ms !== undefined).map((x) => x.ms);
    const ok = ms.length === opts.failovers;
    const cell = ms.length ? `min ${fmt(Math.min(...ms))} / median ${fmt(median(ms))} / max ${fmt(Math.max(...ms))} ms (${ms.length} of ${opts.failovers})` : `failed: ${(f.errors[0] ?? f.iterations.find((x) => x.error)?.error ?? '?')}`;
    L.push(`| failover: SIGKILL of the master → first RECEIPT from the new master | ${cell} | < ${FAILOVER_TARGET_MS} ms | ${ms.length ? yes(ok && Math.max(...ms) < FAILOVER_TARGET_MS) : '**no**'} |`);
  }
  for (const r of res.catchup ?? []) {
    const what = `catch-up: restarted slave ${fmt(r.messages)} messages behind`;
    let cell;
    if (r.failed) cell = `failed: ${r.error}`;
    else if (r.caughtS !== undefined) cell = `${r.caughtS} s from restart → ${fmt(r.rate)} msg/s (${fmt(r.rateFromSlaveOf)} msg/s from its "slave of" line)${r.snapshotsSent ? `, via ${r.snapshotsSent} snapshot(s)` : ', from the log tail'}`;
    else cell = `**not caught up within ${opts.catchupTimeoutS} s**: master's status says ${r.last ? `${r.last.state}, match ${fmt(r.last.match)} of ${fmt(r.targetIndex)}` : 'nothing'}; ${r.snapshotsSent} snapshot(s) sent, ${r.masterChanges} master change(s), ${r.zkSessionsLost} ZooKeeper session(s) lost, master peak RSS ${fmt(r.masterPeakRssMiB)} MiB`;
    L.push(`| ${what} | ${cell} | | |`);
  }
  for (const r of res.loss ?? []) {
    const strict = !r.mode.startsWith('local');
    const what = `loss window, --sync ${r.mode}: receipted messages lost over ${r.kills.length} SIGKILLs of the master under load${r.stallMs ? `, slaves SIGSTOPped ${r.stallMs} ms before each` : ''}`;
    const empties = r.kills.filter((k) => k.empty).map((k) => k.i);
    const cell = r.lost === undefined ? `failed: ${r.errors[0]}` : `${fmt(r.lost)} of ${fmt(r.receipted)} (${pct3(r.lost, r.receipted)}); ${fmt(r.dupSeqs)} duplicate(s)${empties.length ? `; **a member with an empty store was elected after kill ${empties.join(', ')}**` : ''}`;
    L.push(`| ${what} | ${cell} | ${strict ? '0 lost, 0 duplicates' : 'measured (no slave ack)'} | ${strict ? (r.lost === undefined ? '**no**' : yes(r.lost === 0 && r.dupSeqs === 0)) : ''} |`);
  }
  L.push('');
  if (c.standalone) {
    L.push('## Scenario c (queue 1P/1C, 1 KiB persistent, 100 receipts in flight)', '');
    L.push(`${fmt(opts.messages)} messages per run${opts.rounds > 1 ? `, best of ${opts.rounds} rounds (the three took turns)` : ''}; each group fresh, the client connected straight to the master. Latency is SEND → MESSAGE, receipt latency SEND → RECEIPT (p50 / p99 ms).`, '');
    L.push('| broker | msg/s | latency p50 / p99 | receipt p50 / p99 | CPU: client / broker (master) / 2 slaves | all rounds |', '|---|---:|---:|---:|---:|---|');
    for (const k of ['standalone', 'quorum_mem', 'quorum_disk']) {
      const x = c[k];
      if (!x) continue;
      const b = x.best;
      const lat = (l) => (l ? `${l.p50} / ${l.p99}` : '—');
      L.push(`| ${x.label} | ${b.status === 'ok' ? fmt(b.rate) : b.status} | ${lat(b.latency)} | ${lat(b.receiptLatency)} | ${[b.clientCpuPct, b.brokerCpuPct, b.slavesCpuPct].map((x) => (x === undefined ? '—' : `${x}%`)).join(' / ')} | ${x.all.map((r) => (r.status === 'ok' ? fmt(r.rate) : r.status)).join(', ')} |`);
    }
    L.push('');
  }
  if (f) {
    L.push('## Failover', '');
    L.push(`Producer: FailoverClient on \`${f.uri ?? '?'}\`, one persistent 1 KiB SEND at a time, each waiting for its RECEIPT, ${FAILOVER_PACE_MS} ms apart. "first receipt" = SIGKILL → the first RECEIPT over the connection the client made after the kill (the SEND in flight at the kill, replayed); "elected"/"serving" = the new master's own log lines (wall clock).`, '');
    L.push('| # | killed | new master | first receipt (ms) | client reconnected (ms) | dials | elected (ms) | serving clients (ms) | killed member rejoined as slave (ms after restart) |', '|---:|---|---|---:|---:|---:|---:|---:|---:|');
    for (const x of f.iterations) {
      L.push(`| ${x.i} | ${x.killed} | ${x.newMaster ?? '—'} | ${x.ms ?? x.error ?? '—'} | ${x.reconnectMs ?? '—'} | ${x.dials ?? '—'} | ${x.electedLogMs ?? '—'} | ${x.servingLogMs ?? '—'} | ${x.rejoinMs ?? x.rejoinError ?? '—'} |`);
    }
    L.push('');
    if (f.confirmed !== undefined) {
      const check = f.queueSize === undefined ? 'not checked' : f.queueSize === f.confirmed ? 'equal: nothing lost, no duplicate' : f.queueSize > f.confirmed ? `**${f.queueSize - f.confirmed} more than confirmed (duplicates, or SENDs stored whose receipt never came)**` : `**${f.confirmed - f.queueSize} fewer than confirmed: messages lost**`;
      L.push(`Receipts confirmed: ${fmt(f.confirmed)}; queue size on the last master: ${fmt(f.queueSize)} (${check}); duplicates the broker dropped: ${fmt(f.duplicatesDropped)}; send errors: ${f.sendErrors}${f.lastSendError ? ` (last: ${f.lastSendError})` : ''}.`);
    }
    for (const e of f.errors) L.push(`- error: ${e}`);
    L.push('');
  }
  if (res.catchup?.length) {
    L.push('## Catch-up of a restarted slave', '');
    L.push('One slave SIGKILLed; the backlog sent to the master (persistent 1 KiB SENDs, 100 receipts in flight, no consumer) while the other slave kept the quorum; then the stopped slave restarted with the same `mini-amq start` command and data directory. "Caught up" = the master\'s status (`replication.slaves[]`, as `mini-amq status --json` shows it, asked every ~25 ms) lists it in state `replicate` with `match` at the master\'s last index. The master keeps the last 10,000 entries in memory (MEMBER_LOG_TAIL_ENTRIES_DEFAULT); a slave further behind is sent a snapshot of the store.', '');
    L.push('| backlog | sent at | "slave of" logged | caught up | rate (from restart) | rate (from "slave of") | snapshots sent | master changes | master peak RSS | master CPU |', '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of res.catchup) {
      if (r.failed) { L.push(`| ${fmt(r.messages)} | failed: ${r.error} | | | | | | | | |`); continue; }
      L.push(`| ${fmt(r.messages)} | ${fmt(r.sendRate)} msg/s | ${r.slaveOfS ?? '—'} s | ${r.caughtS !== undefined ? `${r.caughtS} s` : `**no** (${r.windowS} s)`} | ${r.rate ? `${fmt(r.rate)} msg/s` : '—'} | ${r.rateFromSlaveOf ? `${fmt(r.rateFromSlaveOf)} msg/s` : '—'} | ${r.snapshotsSent} (+${r.snapshotsWhileDown} while it was down) | ${r.masterChanges} | ${fmt(r.masterPeakRssMiB)} MiB | ${r.masterCpuS ?? '—'} s in ${r.windowS ?? '—'} s |`);
    }
    L.push('');
    for (const r of res.catchup) {
      if (r.failed || !r.trace) continue;
      L.push(`Returning slave ${r.slave}, ${fmt(r.messages)} behind (it restarted at ${r.fromPosition ?? '?'}; master at index ${fmt(r.targetIndex)}), seconds after its restart, as the master's status showed it:`, '');
      for (const t of r.trace) L.push(`    ${t}`);
      for (const d of r.demotions ?? []) L.push(`    ${d}`);
      L.push('');
    }
  }
  if (res.loss?.length) {
    L.push('## Loss window of the sync modes', '');
    L.push(`A fresh group per row. Producer: FailoverClient on \`failover:(all three)?randomize=false&initialReconnectDelay=20&maxReconnectDelay=250\`, persistent 1 KiB SENDs with receipts, ${LOSS_WINDOW} in flight, each with a header \`seq\` (1, 2, 3…). The serving master was SIGKILLed ${opts.lossKills} times, each at a random moment ${LOSS_KILL_DELAY_MS[0]}–${LOSS_KILL_DELAY_MS[1]} ms after it started serving (its "listening" log line), and restarted at once with the same command and data directory. With "slaves stalled" the two other members were SIGSTOPped at that moment, the master SIGKILLed that much later, and the slaves SIGCONTed right after (a slave that lags or is cut off). After the last kill and the first receipts from the next master the producer stopped and waited up to ${LOSS_DRAIN_MS / 1000} s for its in-flight receipts; once the group had a master and two slaves again, a client-individual subscriber (prefetch 1,000) drained the queue on the master until ${LOSS_SILENCE_MS / 1000} s of silence. "Lost" = seqs whose RECEIPT the producer got and that nobody consumed; "duplicates" = seqs consumed more than once; msg/s = receipts / the producer's run (failovers included); "stored, no receipt" = consumed seqs whose RECEIPT never came (in doubt, not an error).`, '');
    L.push('| mode | slaves stalled | kills | receipted | lost | duplicates | msg/s during the run | stored, no receipt | queue size before draining | consumed |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of res.loss) {
      const stall = r.stallMs ? `${r.stallMs} ms` : 'no';
      if (r.lost === undefined) { L.push(`| ${r.mode} | ${stall} | ${r.kills.length} | failed: ${r.errors[0]} | | | | | | |`); continue; }
      const bad = r.lost && !r.mode.startsWith('local') ? '**' : '';
      L.push(`| ${r.mode} | ${stall} | ${r.kills.length} | ${fmt(r.receipted)} | ${bad}${fmt(r.lost)} (${pct3(r.lost, r.receipted)})${bad} | ${fmt(r.dupSeqs)}${r.dupExtra > r.dupSeqs ? ` (${fmt(r.dupExtra)} extra copies)` : ''} | ${fmt(r.rate)} (${r.runS} s) | ${fmt(r.storedUnreceipted)} | ${fmt(r.queueSize)} | ${fmt(r.consumed)} |`);
    }
    L.push('');
    L.push('Per kill: the member killed, how long it had served (ms), the receipts it gave while the slaves were stopped, the next master the client reached, the log position (epoch,index) it was elected at (its log line) and how long after the kill its first receipt came (ms), and the lost messages the killed member had receipted (a message lost later, e.g. with a wiped store, still counts against the kill that followed its receipt).', '');
    L.push('| mode | slaves stalled | kill #. member @ms [receipts while stalled] → next master at (epoch,index) (first receipt, ms): lost |', '|---|---:|---|');
    for (const r of res.loss) {
      const cells = r.kills.map((k) => `${k.i}. ${k.killed.replace(/^.*-(b\d)$/, '$1')} @${k.afterServingMs}${r.stallMs ? ` [${fmt(k.receiptsWhileStalled)}]` : ''} → ${(k.next ?? '?').replace(/^.*-(b\d)$/, '$1')} at ${k.electedAt ?? '?'} (${k.firstReceiptMs ?? '?'}): ${k.lost ?? '?'}`);
      L.push(`| ${r.mode} | ${r.stallMs ? `${r.stallMs} ms` : 'no'} | ${cells.join('; ')}${r.lostAfterLastKill ? `; **not explained by a kill: ${r.lostAfterLastKill}**` : ''} |`);
    }
    L.push('');
    for (const r of res.loss) {
      const name = `${r.mode}${r.stallMs ? ` (slaves stalled ${r.stallMs} ms)` : ''}`;
      const again = `node bench/group.mjs --only loss --loss-modes ${r.mode} --loss-stall ${r.stallMs} --keep-logs`;
      if (r.lost && !r.mode.startsWith('local') && !r.drainInterrupted) L.push(`- **${name} lost ${r.lost} receipted message(s)** (seqs ${r.lostRanges.slice(0, 20).join(', ')}${r.lostRanges.length > 20 ? ', …' : ''}): a quorum mode must lose none. Reproduce: \`${again}\`.`);
      else if (r.lost) L.push(`- ${name}: lost seqs ${r.lostRanges.slice(0, 8).join(', ')}${r.lostRanges.length > 8 ? ', …' : ''}.`);
      for (const u of (r.lostUnexplained ?? []).slice(0, 5)) L.push(`- **${name}: seq ${u.seq} was receipted by ${u.via} ${u.atS} s into the run and lost, but no kill of ${u.via} followed it${u.nextKill ? ` (next kill: #${u.nextKill})` : ''}.** Reproduce: \`${again}\`.`);
      if (r.dupSeqs) L.push(`- **${name}: ${r.dupSeqs} seq(s) consumed more than once.** Reproduce: \`${again}\`.`);
      for (const e of r.errors) L.push(`- ${name}: ${e}`);
      if (r.sendErrors) L.push(`- ${name}: ${r.sendErrors} send error(s), last: ${r.lastSendError}`);
    }
    L.push('');
  }
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
    log(`group bench: ${e.message}`);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    process.stdout.write(headerHelp(import.meta.url));
    return;
  }
  if (!fs.existsSync(path.join(REPO, 'packages/cli/dist/main.js')) || !fs.existsSync(path.join(REPO, 'packages/replication/dist/index.js'))) {
    log('group bench: not built: run `npm run build` first');
    process.exitCode = 2;
    return;
  }
  const command = `node bench/group.mjs${argv.length ? ' ' + argv.join(' ') : ''}`;
  const code = codeVersion(REPO);
  const t0 = now();
  const cpus = os.cpus();
  let interrupted = false;
  const onSignal = (sig) => {
    if (interrupted) return;
    interrupted = true;
    log(`group bench: ${sig}: stopping everything`);
    markStopping();
    void stopAll().then(async () => {
      const zk = ZK ?? (await ZK_STARTING?.catch(() => null));
      await zk?.stop();
    }).catch(() => {}).finally(() => {
      if (ROOT) fs.rmSync(ROOT, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-group-'));
  const res = {
    machine: {
      cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, node: process.version,
      kernel: `${os.type()} ${os.release()}`, code, date: new Date().toISOString(), loadBefore: os.loadavg()[0].toFixed(2), fsyncs: fsyncProbe(ROOT),
    },
    c: {}, failover: null, catchup: null, loss: null, notes: [],
  };
  log(`machine: ${res.machine.cpu}, ${res.machine.cores} CPUs, node ${res.machine.node}, ${res.machine.date}, ~${res.machine.fsyncs} fsyncs/s`);
  try {
    const zkHelper = await import(pathToFileURL(path.join(REPO, 'test/helpers/zookeeper.mjs')).href);
    freePort = zkHelper.freePort;
    if (opts.only.length) {
      zkHelper.ensureZookeeperInstalled(log);
      if (isStopping()) throw new Error('interrupted');
      ZK_STARTING = zkHelper.startZooKeeper();
      ZK = await ZK_STARTING;
      res.zk = ZK.connect;
      log(`zookeeper: ${ZK.connect} (pid ${ZK.pid})`);
    }
    if (opts.only.includes('c')) await throughputPart(opts, res);
    if (opts.only.includes('failover')) await failoverPart(opts, res);
    if (opts.only.includes('catchup')) await catchupPart(opts, res);
    if (opts.only.includes('loss')) await lossPart(opts, res);
  } catch (e) {
    res.notes.push(`run aborted: ${e.message.split('\n')[0]}`);
    log(`group bench: ${e.stack}`);
    process.exitCode = 1;
  } finally {
    await stopAll();
    await ZK?.stop().catch(() => {});
    if (opts.keepLogs) {
      // Only the members' logs are kept: their data directories go.
      for (const f of fs.readdirSync(ROOT, { recursive: true })) {
        const full = path.join(ROOT, f);
        if (fs.statSync(full, { throwIfNoEntry: false })?.isDirectory() && /\/b\d$|^standalone-[^/]+\/data$/.test(f)) fs.rmSync(full, { recursive: true, force: true });
      }
      log(`logs kept in ${ROOT}`);
    } else {
      fs.rmSync(ROOT, { recursive: true, force: true });
    }
  }
  if (isStopping()) return; // interrupted: the signal handler exits; a partial report would replace the last good one
  res.totalS = Math.round((now() - t0) / 1000);
  res.loadAfter = os.loadavg()[0].toFixed(2);
  const md = markdown(res, opts, command);
  fs.mkdirSync(opts.out, { recursive: true });
  const all = ['c', 'failover', 'catchup', 'loss'];
  const file = all.every((p) => opts.only.includes(p)) ? 'group-latest.md' : `group-${all.filter((p) => opts.only.includes(p)).join('-')}-latest.md`;
  fs.writeFileSync(path.join(opts.out, file), md);
  process.stdout.write('\n' + md);
  log(`wrote ${path.relative(process.cwd(), path.join(opts.out, file))}`);
}

main().catch((e) => {
  log(`group bench: ${e.stack}`);
  process.exitCode = 1;
});
