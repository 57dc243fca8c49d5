// Acknowledged means durable, across SIGKILL: a child process (fixtures/crash-writer.mjs, on the built
// dist) appends calls of three enqueues plus sometimes a remove and prints each call when appended and
// again when `durable` resolved; the parent kills it at a random moment, reopens the same directory and
// checks the whole backlog against what was printed, several rounds in a row. Seeded: the seed is in the
// test name, and STORE_CRASH_SEED=<n> replays the same kill delays and the same calls.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LevelStore } from '../src/level-store.js';
import type { StoredRecord } from '../src/types.js';
import { body, messageId } from './fixtures/crash-plan.mjs';
import { expectStoreError } from './store-suite.js';
import { mulberry32 } from './random.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const ROUNDS = 6;
const KILL_AFTER_MS_MIN = 30;
const KILL_AFTER_MS_MAX = 400;
const seed = Number(process.env.STORE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));


let dir: string;
beforeAll(async () => {
  // The child runs plain Node on the compiled package: no TypeScript loader in a SIGKILLed process.
  execFileSync(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-b', 'packages/store'], { cwd: repo, stdio: 'inherit' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'mini-amq-crash-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Call {
  readonly first: number;
  readonly callNo: number;
  readonly removeSeq: number | null;
  acked: boolean;
}

/** Runs one child until killed; returns its calls in append order. */
async function runChild(round: number, killAfterMs: number): Promise<{ calls: Call[]; readyAt: number }> {
  const child = spawn(process.execPath, [path.join(here, 'fixtures/crash-writer.mjs'), dir, String(round), String(seed + round)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let readyAt = -1;
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const m = /^ready (\d+)$/m.exec(out);
      if (readyAt < 0 && m) {
        readyAt = Number(m[1]);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`crash writer exited (${code}) before it was ready`)));
  });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await ready;
  // While it runs, nobody else may open the directory.
  await expectStoreError(new LevelStore({ directory: dir }).open(), 'STORE_LOCKED');
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  child.kill('SIGKILL');
  await closed;

  const calls: Call[] = [];
  const byFirst = new Map<number, Call>();
  for (const line of out.split('\n')) {
    const [what, a, b, c] = line.split(' ');
    if (what === 'will') {
      const call = { first: Number(a), callNo: Number(b), removeSeq: c === '-' ? null : Number(c), acked: false };
      calls.push(call);
      byFirst.set(call.first, call);
    } else if (what === 'ack') {
      byFirst.get(Number(a))!.acked = true;
    }
  }
  return { calls, readyAt };
}

async function readAll(store: LevelStore): Promise<StoredRecord[]> {
  const all: StoredRecord[] = [];
  for (;;) {
    const page = await store.readQueue('crash', 4, all.at(-1)?.key.seq ?? 0, 1000);
    if (page.length === 0) return all;
    all.push(...page);
  }
}

it(`keeps every acknowledged call, whole and in order, across ${ROUNDS} SIGKILLs (seed ${seed})`, { timeout: 120_000 }, async () => {
  const random = mulberry32(seed);
  /** seq → message id expected live after the previous rounds. */
  let expected = new Map<number, string>();
  let lastIndex = 0;
  let acked = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const killAfter = KILL_AFTER_MS_MIN + Math.floor(random() * (KILL_AFTER_MS_MAX - KILL_AFTER_MS_MIN));
    const { calls, readyAt } = await runChild(round, killAfter);
    const context = `round ${round}, killed after ${killAfter} ms, ${calls.length} calls appended, seed ${seed}`;
    expect(readyAt, context).toBe(lastIndex);
    expect(calls.length, context).toBeGreaterThan(0);

    const store = new LevelStore({ directory: dir });
    const recovered = await store.open();
    const live = await readAll(store);
    const found = new Map(live.map((r) => [r.key.seq, r.message.messageId]));
    for (const r of live) expect(r.message.body.equals(body(r.message.messageId)), `${context}: body of ${r.message.messageId}`).toBe(true);
    await store.close();

    // A call landed if its j = 1 message (never removed) is there under this round's id.
    const landed = calls.map((c) => found.get(c.first + 1) === messageId(round, c.callNo, 1));
    const landedCount = landed.filter(Boolean).length;
    expect(landed, `${context}: calls land as a prefix of the append order`).toEqual(calls.map((_, i) => i < landedCount));
    calls.forEach((c, i) => expect(!c.acked || landed[i], `${context}: acked call ${c.first} lost`).toBe(true));
    const lastLanded = calls[landedCount - 1];
    const expectedLast = lastLanded === undefined ? lastIndex : lastLanded.first + (lastLanded.removeSeq === null ? 2 : 3);
    expect(recovered.lastIndex, `${context}: recovered lastIndex`).toBe(expectedLast);

    // The model: earlier rounds' messages, plus each landed call's three, minus j = 0 of landed removals.
    const model = new Map(expected);
    calls.slice(0, landedCount).forEach((c) => [0, 1, 2].forEach((j) => model.set(c.first + j, messageId(round, c.callNo, j))));
    calls.slice(0, landedCount).forEach((c) => c.removeSeq !== null && model.delete(c.removeSeq));
    expect([...found].sort((a, b) => a[0] - b[0]), `${context}: live messages, exactly once each, in order`).toEqual([...model].sort((a, b) => a[0] - b[0]));
    expect(new Set(found.values()).size, `${context}: no message twice`).toBe(found.size);
    expect(recovered.queues.get('crash') ?? 0, context).toBe(found.size);

    expected = model;
    lastIndex = recovered.lastIndex;
    acked += calls.filter((c) => c.acked).length;
  }
  // The kills must have landed mid-stream for this test to mean anything.
  expect(acked).toBeGreaterThan(ROUNDS);
});
