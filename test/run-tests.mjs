#!/usr/bin/env node
/**
 * What `npm test` runs (after `pretest` has built every package): vitest over the whole repository, its
 * output streamed as it comes, then ONE plain last line, `tests: N passed, N failed`, that CI and people
 * can read without parsing vitest's format. Exit status is non-zero iff something failed or no test ran.
 *
 * Every process started here is ended here, pass or fail: vitest runs in its own process group, and once
 * it exits the whole group is killed, so a broker a test forgot (spawned without `detached`) cannot
 * outlive the run and hold a port or a data directory for the next one.
 *
 * Extra arguments go to vitest: `npm test -- packages/cli` runs only those files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureZookeeperInstalled, startZooKeeper } from './helpers/zookeeper.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITEST = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
/** After asking vitest to stop (we were interrupted), how long it gets before its group is killed. */
const INTERRUPT_GRACE_MS = 5_000;

/**
 * Services the tests need that are not Node processes, started before vitest and handed to it through the
 * environment; the returned `stop` shuts them down after vitest, whatever the outcome.
 *
 * ZooKeeper (issue 4): Debian's `zookeeper` package, installed with apt-get when missing (as root, as in CI),
 * runs as ONE standalone server on a free loopback port with its own config and temporary data directory
 * (test/helpers/zookeeper.mjs); tests find it in MINI_AMQ_ZK. If it cannot be installed or started, the
 * run goes on without it and MINI_AMQ_ZK_ERROR says why: the tests that need ZooKeeper then fail with that
 * sentence (they never skip), and every other test still runs.
 * @returns {Promise<{ env: Record<string, string>, stop: () => Promise<void> }>}
 */
async function startServicesIfNeeded() {
  // A developer may point the tests at a ZooKeeper of their own.
  if (process.env.MINI_AMQ_ZK) return { env: {}, stop: async () => {} };
  try {
    ensureZookeeperInstalled();
    const zk = await startZooKeeper();
    console.log(`run-tests: ZooKeeper on ${zk.connect} (pid ${zk.pid})`);
    return { env: { MINI_AMQ_ZK: zk.connect }, stop: zk.stop };
  } catch (error) {
    const reason = `ZooKeeper could not be started: ${error.message}`;
    console.error(`run-tests: ${reason}`);
    return { env: { MINI_AMQ_ZK_ERROR: reason }, stop: async () => {} };
  }
}

/** Kills every process left in the group led by `pid`; a group already gone is fine. */
function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
}

/** Runs vitest to completion in its own process group; resolves to its exit code (signals count as failure). */
function runVitest(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VITEST, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      // No stdin: CI has none, and a test must never wait for a keypress (vitest's watch prompts).
      stdio: ['ignore', 'inherit', 'inherit'],
      // Its own process group (as group leader), so the group can be killed as a whole afterwards.
      detached: true,
    });
    // Ctrl-C reaches only our foreground group, not vitest's: pass interruptions on, then insist.
    const interrupt = (signal) => {
      killGroup(child.pid, signal);
      setTimeout(() => killGroup(child.pid, 'SIGKILL'), INTERRUPT_GRACE_MS).unref();
    };
    process.on('SIGINT', interrupt);
    process.on('SIGTERM', interrupt);
    child.on('error', (error) => {
      console.error(`run-tests: cannot start vitest: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      killGroup(child.pid, 'SIGKILL');
      resolve(signal === null ? code ?? 1 : 1);
    });
  });
}

/**
 * Counts from vitest's JSON report. A test file that failed outside any test (it did not load, a hook
 * threw) counts as one failure, since its tests never got to fail on their own; skipped and todo tests
 * count as neither.
 */
function countResults(report) {
  let failed = report.numFailedTests;
  for (const file of report.testResults) {
    const testFailed = file.assertionResults.some((test) => test.status === 'failed');
    if (file.status === 'failed' && !testFailed) failed += 1;
  }
  return { passed: report.numPassedTests, failed, skipped: report.numPendingTests + report.numTodoTests };
}

function readReport(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

async function main() {
  if (!existsSync(VITEST)) {
    console.error(`run-tests: ${VITEST} is missing; run npm install first`);
    return { passed: 0, failed: 1 };
  }
  const reportDir = mkdtempSync(path.join(tmpdir(), 'mini-amq-tests-'));
  const reportFile = path.join(reportDir, 'vitest.json');
  const services = await startServicesIfNeeded();
  try {
    const args = ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...process.argv.slice(2)];
    const code = await runVitest(args, services.env);
    const report = readReport(reportFile);
    if (report === null) {
      console.error(`run-tests: vitest exited with code ${code} and wrote no report`);
      return { passed: 0, failed: 1 };
    }
    const counts = countResults(report);
    if (code !== 0 && counts.failed === 0) {
      // Vitest failed for a reason outside the counted tests (an unhandled error after a test, say).
      console.error(`run-tests: vitest exited with code ${code}; counting that as a failure`);
      counts.failed = 1;
    }
    if (counts.skipped > 0) console.log(`(${counts.skipped} skipped or todo, counted as neither)`);
    return counts;
  } finally {
    await services.stop();
    rmSync(reportDir, { recursive: true, force: true });
  }
}

const { passed, failed } = await main().catch((error) => {
  console.error(`run-tests: ${error.stack ?? error}`);
  return { passed: 0, failed: 1 };
});
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
