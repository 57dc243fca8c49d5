// The deterministic simulation as a test: at least 10,000 seeds (SIM_SEEDS to change it), each a run with
// faults followed by a healed liveness phase, checked after every step; zero violations allowed. A failure
// lists the seeds with the command that replays each one. The run also asserts that the seeds exercised
// what they are meant to (every sync mode, elections, crashes, completed writes), so that a simulation
// that quietly stopped doing anything would fail too.
import { describe, expect, it } from 'vitest';
import { SYNC_MODES } from '../src/core/sync-mode.js';
import { runSeed, type RunResult } from '../src/sim/run.js';

const SEEDS = Number(process.env.SIM_SEEDS ?? 10_000);

describe('deterministic simulation', () => {
  it(`${SEEDS} seeds without a violation`, () => {
    const started = performance.now();
    const failures: string[] = [];
    const modes = new Set<string>();
    let completed = 0;
    let elections = 0;
    let crashes = 0;
    let fiveNodeRuns = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = runSeed(seed);
      if (r.violation !== null) failures.push(`seed ${seed}: ${r.violation}\nreproduce with: npm run sim -- --seed ${seed}`);
      modes.add(r.sync);
      completed += r.completed;
      elections += r.elections;
      crashes += r.crashes;
      if (r.replicas === 5) fiveNodeRuns++;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `simulation: ${SEEDS} seeds in ${seconds.toFixed(1)} s; ${completed} writes completed, ` +
        `${elections} elections, ${crashes} crashes, ${fiveNodeRuns} five-node groups`,
    );
    expect(failures).toEqual([]);
    expect([...modes].sort()).toEqual([...SYNC_MODES].sort());
    expect(completed).toBeGreaterThan(SEEDS * 20);
    expect(elections).toBeGreaterThan(SEEDS * 2);
    expect(crashes).toBeGreaterThan(SEEDS / 2);
    expect(fiveNodeRuns).toBeGreaterThan(SEEDS / 10);
  }, 240_000);

  it('replays a seed exactly', () => {
    const runs: RunResult[] = [runSeed(4242), runSeed(4242)];
    const lines: string[][] = [[], []];
    runSeed(77, { trace: (l) => lines[0]!.push(l) });
    runSeed(77, { trace: (l) => lines[1]!.push(l) });
    expect(runs[0]).toEqual(runs[1]);
    expect(lines[0]).toEqual(lines[1]);
    expect(lines[0]!.length).toBeGreaterThan(10);
  });
});
