#!/usr/bin/env node
// The anchor brokers issue 2 compares mini-amq with: Apache ActiveMQ 5.17 and RabbitMQ 3.10 (+ STOMP
// plugin), from Debian's `activemq` and `rabbitmq-server` packages. This file installs them and runs
// each as a private instance on loopback only, on ports of its own, without systemd: the binaries are
// started directly in the background, their PIDs recorded, and only those PIDs are stopped.
//
//   node bench/anchors.mjs install              apt-get update + install both (root), once
//   node bench/anchors.mjs start activemq|rabbitmq   start one, print its target and PIDs, keep it running
//   node bench/anchors.mjs stop                 stop whatever `start` recorded, remove its temp dir
//
// ActiveMQ: a generated activemq.xml with only a STOMP connector on 127.0.0.1:61713 with
// transport.tcpNoDelay=true (else its latency is Nagle's), KahaDB in the instance's temp dir, and the JVM
// options Debian ships in /usr/share/activemq/activemq-options (-Xms512M -Xmx512M ...).
// RabbitMQ: rabbitmq.conf with AMQP on 127.0.0.1:5772 and STOMP on 127.0.0.1:61813, the distribution
// port bound to loopback, private mnesia/log/cookie dirs, and an epmd of its own on 127.0.0.1:4469 that
// we start (so we know its PID and stop it too, leaving any system epmd alone).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from './lib/stomp-wire.mjs';
import { processTree } from './lib/rss.mjs';

export const PORTS = {
  activemqStomp: 61713,
  rabbitStomp: 61813,
  rabbitAmqp: 5772,
  rabbitDist: 25772,
  rabbitEpmd: 4469,
};

const STATE_FILE = path.join(os.tmpdir(), 'mini-amq-bench-anchors.json');

const log0 = (s) => process.stderr.write(s + '\n');

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && /install ok installed/.test(r.stdout);
}

/**
 * Installs the two Debian packages if missing. Returns which are usable; never throws, so that a
 * machine without apt (or without root) still benchmarks mini-amq and says why the anchors are absent.
 */
export function ensureInstalled(log = log0) {
  const want = ['activemq', 'rabbitmq-server'];
  const missing = want.filter((p) => !installed(p));
  const notes = [];
  if (missing.length) {
    if (process.getuid && process.getuid() !== 0) {
      notes.push(`not root: cannot apt-get install ${missing.join(' ')}`);
    } else {
      log(`anchors: apt-get update && apt-get install -y ${missing.join(' ')} ...`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      // policy-rc.d or a missing init system keeps the packages' own services from starting; we never
      // use them either way (our instances run on other ports).
      const u = spawnSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'pipe'], env, timeout: 300_000, encoding: 'utf8' });
      if (u.status !== 0) notes.push(`apt-get update failed: ${(u.stderr || u.error?.message || '').trim().split('\n').pop()}`);
      const r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'pipe'], env, timeout: 900_000, encoding: 'utf8' });
      if (r.status !== 0) notes.push(`apt-get install failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    }
  }
  return {
    activemq: installed('activemq') && fs.existsSync('/usr/share/activemq/bin/activemq.jar'),
    rabbitmq: installed('rabbitmq-server') && fs.existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server'),
    notes,
  };
}

async function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function cmdline(pid) {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' '); } catch { return ''; }
}

/**
 * Signals a PID we started, but only if it still runs the program we started (a recycled PID belongs
 * to someone else), then waits up to graceMs for it to go and SIGKILLs it if it did not.
 */
async function stopPid(pid, expect, graceMs, log = log0) {
  if (!pid || !alive(pid)) return;
  if (!cmdline(pid).includes(expect)) { log(`anchors: PID ${pid} no longer runs ${expect}; not touching it`); return; }
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const until = Date.now() + graceMs;
  while (alive(pid) && Date.now() < until) await sleep(200);
  if (alive(pid)) {
    log(`anchors: PID ${pid} (${expect}) still up after ${graceMs} ms, SIGKILL`);
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    const until2 = Date.now() + 5000;
    while (alive(pid) && Date.now() < until2) await sleep(100);
  }
}

/** Polls with a real STOMP CONNECT until the broker answers CONNECTED (a bound port is not enough). */
export async function waitForStomp(target, timeoutMs, isAlive = () => true) {
  const until = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < until) {
    if (!isAlive()) throw new Error('process exited before it accepted STOMP connections');
    try {
      const c = await connect(target, { timeoutMs: 3000 });
      await c.close(2000);
      return;
    } catch (e) {
      last = e;
    }
    await sleep(500);
  }
  throw new Error(`no STOMP CONNECTED from ${target.host}:${target.port} within ${timeoutMs} ms (${last?.message})`);
}

function tailFile(file, n = 15) {
  try { return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n'); } catch { return ''; }
}

function activemqXml(port) {
  return `<!-- Private benchmark instance, generated by bench/anchors.mjs: STOMP only, loopback only. -->
<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="bench" dataDirectory="\${activemq.data}">
    <persistenceAdapter>
      <kahaDB directory="\${activemq.data}/kahadb"/>
    </persistenceAdapter>
    <transportConnectors>
      <!-- Without tcpNoDelay ActiveMQ's STOMP replies wait for Nagle's algorithm. -->
      <transportConnector name="stomp" uri="stomp://127.0.0.1:${port}?transport.tcpNoDelay=true"/>
    </transportConnectors>
  </broker>
</beans>
`;
}

/** Debian's JVM options for ActiveMQ (ACTIVEMQ_OPTS in /usr/share/activemq/activemq-options). */
function debianActivemqOpts() {
  try {
    const m = /^ACTIVEMQ_OPTS="([^"]*)"/m.exec(fs.readFileSync('/usr/share/activemq/activemq-options', 'utf8'));
    if (m) return m[1].split(/\s+/).filter(Boolean);
  } catch { /* fall through */ }
  return ['-Xms512M', '-Xmx512M', '-Dorg.apache.activemq.UseDedicatedTaskRunner=true'];
}

export async function startActiveMQ({ port = PORTS.activemqStomp, log = log0 } = {}) {
  if (!(await portFree(port))) throw new Error(`port ${port} is in use`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-activemq-'));
  for (const d of ['conf', 'data', 'tmp']) fs.mkdirSync(path.join(dir, d));
  fs.writeFileSync(path.join(dir, 'conf', 'activemq.xml'), activemqXml(port));
  // ActiveMQ 5.17 as packaged logs through log4j 1.x; INFO to stdout lands in our log file, so a flow
  // control or store warning during a run can be looked up afterwards.
  fs.writeFileSync(path.join(dir, 'conf', 'log4j.properties'), [
    'log4j.rootLogger=INFO, out',
    'log4j.appender.out=org.apache.log4j.ConsoleAppender',
    'log4j.appender.out.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.out.layout.ConversionPattern=%d %-5p %c{1} - %m%n',
    '',
  ].join('\n'));
  const logFile = path.join(dir, 'activemq.log');
  const out = fs.openSync(logFile, 'a');
  // What /usr/bin/activemq would run, minus its daemonising: java with the activemq.* properties and
  // activemq.jar's "start", in the foreground of a child we own.
  const args = [
    ...debianActivemqOpts(),
    `-Dactivemq.home=/usr/share/activemq`,
    `-Dactivemq.base=${dir}`,
    `-Dactivemq.conf=${dir}/conf`,
    `-Dactivemq.data=${dir}/data`,
    `-Djava.io.tmpdir=${dir}/tmp`,
    `-Dlog4j.configuration=file:${dir}/conf/log4j.properties`,
    '-jar', '/usr/share/activemq/bin/activemq.jar',
    'start', `xbean:file:${dir}/conf/activemq.xml`,
  ];
  const child = spawn('java', args, { cwd: dir, stdio: ['ignore', out, out], detached: false });
  fs.closeSync(out);
  child.unref();
  const handle = {
    name: 'activemq',
    label: 'ActiveMQ 5.17 (Debian activemq)',
    version: debVersion('activemq'),
    target: `127.0.0.1:${port},bench,bench`,
    pid: child.pid,
    pids: { java: child.pid },
    dir,
    logFile,
    stop: async () => {
      await stopPid(child.pid, 'activemq', 30_000, log);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForStomp({ host: '127.0.0.1', port, login: 'bench', passcode: 'bench', vhost: '/' }, 90_000, () => alive(child.pid));
  } catch (e) {
    const tail = tailFile(logFile);
    await handle.stop();
    throw new Error(`ActiveMQ did not start: ${e.message}\n${tail}`);
  }
  return handle;
}

export async function startRabbitMQ({ stompPort = PORTS.rabbitStomp, amqpPort = PORTS.rabbitAmqp, distPort = PORTS.rabbitDist, epmdPort = PORTS.rabbitEpmd, log = log0 } = {}) {
  for (const p of [stompPort, amqpPort, distPort, epmdPort]) if (!(await portFree(p))) throw new Error(`port ${p} is in use`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rabbitmq-'));
  for (const d of ['mnesia', 'log', 'home']) fs.mkdirSync(path.join(dir, d));
  fs.writeFileSync(path.join(dir, 'rabbitmq.conf'), [
    `listeners.tcp.1 = 127.0.0.1:${amqpPort}`,
    `stomp.listeners.tcp.1 = 127.0.0.1:${stompPort}`,
    'stomp.tcp_listen_options.nodelay = true',
    '',
  ].join('\n'));
  // Enabling the plugin in a private file is what `rabbitmq-plugins enable --offline rabbitmq_stomp`
  // writes, without touching the system's /etc/rabbitmq/enabled_plugins.
  fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[rabbitmq_stomp].\n');
  fs.writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
  const epmdOut = fs.openSync(path.join(dir, 'epmd.log'), 'a');
  const epmd = spawn('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], { cwd: dir, stdio: ['ignore', epmdOut, epmdOut] });
  fs.closeSync(epmdOut);
  epmd.unref();
  const env = {
    ...process.env,
    HOME: path.join(dir, 'home'), // .erlang.cookie goes here
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_NODENAME: 'bench@localhost',
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_PID_FILE: path.join(dir, 'rabbit.pid'),
    // Erlang distribution would otherwise listen on all interfaces.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  const logFile = path.join(dir, 'rabbitmq.out');
  const out = fs.openSync(logFile, 'a');
  // The package's /usr/sbin wrapper would su to the rabbitmq user and use /var/lib/rabbitmq; the real
  // script under /usr/lib/rabbitmq/bin runs beam.smp as its child and stops it gracefully on SIGTERM.
  const child = spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], { cwd: dir, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  child.unref();
  const handle = {
    name: 'rabbitmq',
    label: 'RabbitMQ 3.10 + rabbitmq_stomp (Debian rabbitmq-server)',
    version: debVersion('rabbitmq-server'),
    target: `127.0.0.1:${stompPort},guest,guest,/`,
    pid: child.pid, // the wrapper; memory is summed over its tree (beam.smp, erl_child_setup)
    pids: { wrapper: child.pid, epmd: epmd.pid },
    dir,
    logFile,
    stop: async () => {
      const beams = processTree(child.pid).filter((p) => p !== child.pid && cmdline(p).includes('beam'));
      await stopPid(child.pid, 'rabbitmq-server', 30_000, log);
      for (const b of beams) await stopPid(b, 'beam', 10_000, log);
      await stopPid(epmd.pid, 'epmd', 5000, log);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForStomp({ host: '127.0.0.1', port: stompPort, login: 'guest', passcode: 'guest', vhost: '/' }, 120_000, () => alive(child.pid));
    handle.pids.beam = processTree(child.pid).find((p) => cmdline(p).includes('beam'));
  } catch (e) {
    const tail = tailFile(logFile);
    await handle.stop();
    throw new Error(`RabbitMQ did not start: ${e.message}\n${tail}`);
  }
  return handle;
}

function debVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export const STARTERS = { activemq: startActiveMQ, rabbitmq: startRabbitMQ };

// ---- CLI: start/stop across invocations keep their PIDs in a state file --------------------------------

async function cli(argv) {
  const [cmd, name] = argv;
  if (cmd === 'install') {
    const r = ensureInstalled();
    console.log(JSON.stringify(r));
    return r.activemq && r.rabbitmq ? 0 : 1;
  }
  if (cmd === 'start') {
    if (!STARTERS[name]) { log0('usage: anchors.mjs start activemq|rabbitmq'); return 2; }
    if (fs.existsSync(STATE_FILE)) { log0(`anchors: ${STATE_FILE} exists; run "stop" first`); return 1; }
    const h = await STARTERS[name]();
    fs.writeFileSync(STATE_FILE, JSON.stringify({ name: h.name, pids: h.pids, pid: h.pid, dir: h.dir, target: h.target }));
    console.log(JSON.stringify({ name: h.name, target: h.target, pid: h.pid, pids: h.pids, log: h.logFile }));
    return 0;
  }
  if (cmd === 'stop') {
    if (!fs.existsSync(STATE_FILE)) { log0('anchors: nothing recorded as started'); return 0; }
    const st = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8'));
    if (st.name === 'activemq') await stopPid(st.pids.java, 'activemq', 30_000);
    else {
      await stopPid(st.pids.wrapper, 'rabbitmq-server', 30_000);
      if (st.pids.beam) await stopPid(st.pids.beam, 'beam', 10_000);
      await stopPid(st.pids.epmd, 'epmd', 5000);
    }
    fs.rmSync(st.dir, { recursive: true, force: true });
    fs.rmSync(STATE_FILE, { force: true });
    console.log(`stopped ${st.name}`);
    return 0;
  }
  log0('usage: node bench/anchors.mjs install | start activemq|rabbitmq | stop');
  return 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  cli(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e) => { log0(`anchors: ${e.message}`); process.exitCode = 1; });
}
