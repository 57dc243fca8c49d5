/**
 * A real ZooKeeper for tests: Apache ZooKeeper 3.8 from Debian's `zookeeper` package (ARCHITECTURE.md,
 * "Replication"), run as a standalone server on 127.0.0.1 with its own config and data directory, so a
 * test run never touches a system-wide ZooKeeper or its data.
 *
 * Plain ESM (not TypeScript) so that test/run-tests.mjs can import it before anything is built; TypeScript
 * tests can import it too (zookeeper.d.mts gives the types), e.g. to start the extra servers of an ensemble.
 *
 * Every server started here is stopped by the PID we started, and its directory removed, by `stop()`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where Debian's package puts ZooKeeper's jar; its manifest's Class-Path names every dependency jar. */
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
/** Present once Debian's `zookeeper` package is installed (its bin/ scripts live there). */
const ZOOKEEPER_SHARE = '/usr/share/zookeeper';
const JAVA = '/usr/bin/java';
const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
/** A JVM plus ZooKeeper usually answers `ruok` in 1–3 s here; this bounds a hung or crashing start. */
export const ZK_START_TIMEOUT_MS = 30_000;
/** How often `ruok` is asked while waiting for the server. */
const RUOK_POLL_MS = 200;
/** A four-letter command that gets no answer within this is treated as "not up yet". */
const RUOK_TIMEOUT_MS = 1_000;
/** SIGTERM lets the JVM exit cleanly; after this long it gets SIGKILL. */
const STOP_GRACE_MS = 5_000;
/**
 * 500 ms ticks let sessions as short as 1 s be negotiated (ZooKeeper allows 2 to 20 ticks by default; we
 * set the minimum explicitly), so tests can use ActiveMQ's 2 s zkSessionTimeout and expire quickly.
 */
const TICK_TIME_MS = 500;
const MIN_SESSION_TIMEOUT_MS = 1_000;
const MAX_SESSION_TIMEOUT_MS = 20_000;
/** How much of the server's log a start failure prints. */
const LOG_TAIL_BYTES = 4_000;
/** apt-get on a fresh machine (update plus a JVM's worth of packages) can take a few minutes. */
const APT_TIMEOUT_MS = 8 * 60_000;

/** True when Debian's `zookeeper` package is installed. */
export function zookeeperInstalled() {
  if (!existsSync(ZOOKEEPER_SHARE) || !existsSync(ZOOKEEPER_JAR)) return false;
  try {
    // `dpkg -s` also succeeds for a removed package whose config files remain: ask for the status itself.
    const status = execFileSync('dpkg-query', ['-W', '-f=${Status}', 'zookeeper'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return status.trim() === 'install ok installed';
  } catch {
    return false;
  }
}

/**
 * Installs Debian's `zookeeper` package when it is missing. Only root can (CI and developers' machines run
 * as root); anyone else gets an Error that says what to run.
 */
export function ensureZookeeperInstalled(log = console.error) {
  if (zookeeperInstalled()) return;
  if (process.getuid?.() !== 0) {
    throw new Error('ZooKeeper is not installed and we are not root: run `apt-get update && apt-get install -y zookeeper`');
  }
  log('zookeeper: installing Debian\'s zookeeper package (apt-get update && apt-get install -y zookeeper)');
  const opts = { stdio: ['ignore', 'ignore', 'inherit'], timeout: APT_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  execFileSync('apt-get', ['update'], opts);
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'zookeeper'], opts);
  if (!zookeeperInstalled()) throw new Error('apt-get install zookeeper finished but the package is still not installed');
}

/** A port nobody listens on right now: the kernel's pick for a socket bound to port 0. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Sends a four-letter command (`ruok`, `srvr`) and resolves to the answer, or null on any failure. */
export function fourLetterWord(host, port, word, timeoutMs = RUOK_TIMEOUT_MS) {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect({ host, port });
    const done = (value) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('end', () => done(answer));
    socket.on('error', () => done(null));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function tail(file) {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(-LOG_TAIL_BYTES);
  } catch {
    return '(no log)';
  }
}

/**
 * Starts one server and resolves once it answers `ruok` with `imok`.
 * - `servers`: for an ensemble member, the `server.N=host:peer:election` lines and `myid` (all on loopback);
 *   omitted, it is a standalone server.
 * Resolves to `{ connect: 'host:port', host, port, pid, dir, stop }`; rejects (after stopping what it
 * started) with the log's tail when the server does not come up within `timeoutMs`.
 */
export async function startZooKeeper({ host = '127.0.0.1', port, servers, myid, timeoutMs = ZK_START_TIMEOUT_MS } = {}) {
  if (!zookeeperInstalled()) throw new Error(`ZooKeeper is not installed (${ZOOKEEPER_JAR} missing): apt-get install -y zookeeper`);
  const clientPort = port ?? (await freePort(host));
  const dir = mkdtempSync(path.join(tmpdir(), 'mini-amq-zk-'));
  const dataDir = path.join(dir, 'data');
  const config = [
    `tickTime=${TICK_TIME_MS}`,
    `dataDir=${dataDir}`,
    `clientPort=${clientPort}`,
    `clientPortAddress=${host}`,
    `minSessionTimeout=${MIN_SESSION_TIMEOUT_MS}`,
    `maxSessionTimeout=${MAX_SESSION_TIMEOUT_MS}`,
    // The tests need `ruok` (readiness) and `srvr` (mode: standalone/leader/follower); nothing else.
    '4lw.commands.whitelist=ruok,srvr',
    // The admin HTTP server would take port 8080, which another run or service may hold.
    'admin.enableServer=false',
    // Keep test runs from filling the disk with snapshots: purge every hour, keeping the minimum of 3.
    'autopurge.purgeInterval=1',
  ];
  if (servers !== undefined) {
    config.push('initLimit=10', 'syncLimit=5', ...servers);
  }
  mkdirSync(dataDir, { recursive: true });
  if (myid !== undefined) writeFileSync(path.join(dataDir, 'myid'), `${myid}\n`);
  const cfgFile = path.join(dir, 'zoo.cfg');
  writeFileSync(cfgFile, `${config.join('\n')}\n`);
  // log4j is configured by the package's /etc/zookeeper/conf on the classpath: only its console appender
  // is used (zookeeper.root.logger), which goes to our log file rather than /var/log/zookeeper.
  const classpath = [dir, '/etc/zookeeper/conf', ZOOKEEPER_JAR].join(':');
  const logFile = path.join(dir, 'zookeeper.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    JAVA,
    ['-cp', classpath, '-Dzookeeper.root.logger=INFO,CONSOLE', '-Dzookeeper.log.dir=' + dir, '-Xmx256m', MAIN_CLASS, cfgFile],
    // Not detached: staying in the caller's process group means a Ctrl-C, or run-tests.mjs killing vitest's
    // group, also ends a server that a test forgot to stop.
    { stdio: ['ignore', out, out] },
  );
  closeSync(out);
  let exited = null;
  const exitPromise = new Promise((resolve) => child.once('exit', (code, signal) => {
    exited = { code, signal };
    resolve();
  }));
  child.once('error', (error) => {
    exited = { code: null, signal: null, error };
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (exited === null && child.pid !== undefined) {
      // Only the JVM we started, by its PID.
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch (error) {
        if (error.code !== 'ESRCH') throw error;
      }
      const killed = await Promise.race([exitPromise.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
      if (!killed && exited === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch (error) {
          if (error.code !== 'ESRCH') throw error;
        }
        await Promise.race([exitPromise, sleep(STOP_GRACE_MS)]);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== null) break;
    if ((await fourLetterWord(host, clientPort, 'ruok')) === 'imok') {
      // `imok` only says the process serves; an ensemble member also needs a quorum before it takes
      // sessions, which `srvr` shows as its Mode.
      if (servers === undefined) return { connect: `${host}:${clientPort}`, host, port: clientPort, pid: child.pid, dir, stop };
      const srvr = await fourLetterWord(host, clientPort, 'srvr');
      if (srvr !== null && /Mode: (leader|follower)/.test(srvr)) {
        return { connect: `${host}:${clientPort}`, host, port: clientPort, pid: child.pid, dir, stop };
      }
    }
    await sleep(RUOK_POLL_MS);
  }
  const why = exited !== null
    ? `exited (${exited.error?.message ?? `code ${exited.code}, signal ${exited.signal}`})`
    : `did not answer ruok within ${timeoutMs} ms`;
  const log = tail(logFile);
  await stop();
  throw new Error(`ZooKeeper on ${host}:${clientPort} ${why}; its log ends:\n${log}`);
}
