// Child processes for the benchmarks that start brokers (group.mjs, network.mjs): every child is
// registered, its stdout kept line by line (JSON parsed) and in a log file, and every one still registered
// is stopped by its PID when the benchmark ends, fails or is interrupted (stopAll, and SIGKILL on exit as
// a last resort). Plain ESM, no dependencies.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const now = () => performance.now();

/** Every child started and not yet stopped. */
export const PROCS = new Set();

let stopping = false;

/** Set on Ctrl-C / SIGTERM: no new process is started from then on (a part still running would). */
export function markStopping() {
  stopping = true;
}

export function isStopping() {
  return stopping;
}

export class Proc {
  constructor(label, argv, logFile, { cwd }) {
    if (stopping) throw new Error(`not starting ${label}: the benchmark is stopping`);
    this.label = label;
    this.lines = [];
    this.logFile = logFile;
    this.out = fs.openSync(logFile, 'a');
    this.child = spawn(process.execPath, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    this.exitInfo = null;
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      resolve(this.exitInfo);
    }));
    this.child.once('error', (e) => { this.exitInfo = { code: null, signal: null, error: e.message }; });
    let partial = '';
    this.child.stdout.on('data', (chunk) => {
      const at = now();
      const wall = Date.now();
      fs.writeSync(this.out, chunk);
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop();
      for (const raw of parts) {
        if (!raw) continue;
        let j = null;
        try { j = JSON.parse(raw); } catch { /* not JSON */ }
        this.lines.push({ at, wall, j, raw });
      }
    });
    this.child.stderr.on('data', (chunk) => fs.writeSync(this.out, chunk));
    this.child.once('close', () => { try { fs.closeSync(this.out); } catch { /* closed */ } });
    PROCS.add(this);
  }

  get alive() { return this.exitInfo === null; }

  /** The first JSON log line (with its arrival time) for which `pred` holds, or undefined. */
  find(pred) {
    for (const l of this.lines) if (l.j !== null && pred(l.j)) return l;
    return undefined;
  }

  kill(signal) {
    if (!this.alive) return;
    try { process.kill(this.pid, signal); } catch (e) { if (e.code !== 'ESRCH') throw e; }
  }

  async stop(graceMs = 5000) {
    if (this.alive) {
      this.kill('SIGTERM');
      this.kill('SIGCONT'); // in case it was stopped (group.mjs's --loss-stall)
      const done = await Promise.race([this.exited.then(() => true), sleep(graceMs, false, { ref: false })]);
      if (!done) {
        this.kill('SIGKILL');
        await Promise.race([this.exited, sleep(5000, undefined, { ref: false })]);
      }
    }
    PROCS.delete(this);
  }

  async sigkill() {
    this.kill('SIGKILL');
    await Promise.race([this.exited, sleep(5000, undefined, { ref: false })]);
    PROCS.delete(this);
  }

  tail(n = 12) {
    try { return fs.readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-n).join('\n'); } catch { return '(no log)'; }
  }
}

export async function stopAll() {
  // Until none is left: a part still running may have registered one while we waited.
  while (PROCS.size) await Promise.all([...PROCS].map((p) => p.stop(3000).catch(() => { PROCS.delete(p); })));
}

// Last resort if we exit with children still registered (they would outlive us): SIGKILL by PID.
process.on('exit', () => {
  for (const p of PROCS) if (p.alive) try { process.kill(p.pid, 'SIGCONT'); process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
});

export async function waitFor(cond, timeoutMs, what, pollMs = 10) {
  const until = now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** A script's leading `//` comment block, as its --help text. */
export function headerHelp(scriptUrl) {
  const lines = fs.readFileSync(new URL(scriptUrl), 'utf8').split('\n').slice(1);
  return lines.filter((l, i, a) => a.slice(0, i + 1).every((x) => x.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n';
}

/** The commit measured, with a count of uncommitted changes under packages/ (a report says what it ran). */
export function codeVersion(repo) {
  try {
    const git = (...a) => execFileSync('git', a, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'packages').split('\n').filter(Boolean).length;
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ` + ${dirty} uncommitted change(s) under packages/` : ''}`;
  } catch {
    return 'unknown'; // not a git checkout
  }
}
