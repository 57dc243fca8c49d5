// Peak resident memory of a broker, sampled from /proc every 100 ms.
//
// A broker may be more than one process (RabbitMQ: a shell wrapper, beam.smp, erl_child_setup), so the
// sample is the sum of VmRSS over the PID and all its descendants; the process tree is re-read each second
// so children started late are counted. VmHWM of the root process is reported too, as a cross-check
// (it is a lifetime peak, so it includes start-up).

import fs from 'node:fs';

function readStatus(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return null;
  }
}

function kib(status, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

/** The pid and every process below it, from the ppid field of /proc/N/stat. */
export function processTree(rootPid) {
  const children = new Map();
  let names;
  try { names = fs.readdirSync('/proc'); } catch { return [rootPid]; }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${n}/stat`, 'latin1'); } catch { continue; }
    // The command name is in parentheses and may contain spaces; ppid is the 2nd field after it.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(n));
  }
  const out = [];
  const stack = [rootPid];
  while (stack.length && out.length < 10_000) {
    const p = stack.pop();
    out.push(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return out;
}

export function treeRssKiB(pids) {
  let sum = 0;
  for (const p of pids) {
    const s = readStatus(p);
    if (s) sum += kib(s, 'VmRSS');
  }
  return sum;
}

export class RssSampler {
  constructor(pid, intervalMs = 100) {
    this.pid = pid;
    this.intervalMs = intervalMs;
    this.peakKiB = 0;
    this.samples = 0;
    this.timer = null;
    this.tree = [pid];
    this.ticks = 0;
  }

  start() {
    this.tree = processTree(this.pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample() {
    if (++this.ticks % 10 === 0) this.tree = processTree(this.pid);
    const kb = treeRssKiB(this.tree);
    this.samples++;
    if (kb > this.peakKiB) this.peakKiB = kb;
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const st = readStatus(this.pid);
    return {
      peakRssMiB: Math.round((this.peakKiB / 1024) * 10) / 10,
      rootHwmMiB: st ? Math.round((kib(st, 'VmHWM') / 1024) * 10) / 10 : null,
      processes: this.tree.length,
      samples: this.samples,
    };
  }
}
