#!/usr/bin/env node
/**
 * `npm run sim` — runs the deterministic simulation over many seeds, or replays one.
 *   npm run sim                      10,000 seeds from 1 (the CI check)
 *   npm run sim -- --seeds 500000    more seeds; --from N to start elsewhere
 *   npm run sim -- --seed 8311       one seed, with a trace of what happened (--quiet for none,
 *                                    --verbose for every message and every action as well)
 *   npm run sim -- --sync quorum_disk --replicas 5   pin the mode or the group size
 *   npm run sim -- --flaw accept-appends-after-report | --flaw elect-by-index-only   run a broken protocol
 * Exit status 1 when any seed finds a violation; the first one is printed with the command that replays it.
 */
import { runSeed, type RunOptions, type RunResult } from './run.js';
import type { NodeFlaws } from '../core/context.js';

interface Args {
  seed: number | null;
  seeds: number;
  from: number;
  quiet: boolean;
  verbose: boolean;
  options: RunOptions;
}

const FLAWS: Record<string, NodeFlaws> = {
  'accept-appends-after-report': { acceptAppendsAfterReport: true },
  'elect-by-index-only': { electByIndexOnly: true },
};

function parseArgs(argv: string[]): Args {
  const args: Args = { seed: null, seeds: 10_000, from: 1, quiet: false, verbose: false, options: {} };
  const options: { -readonly [K in keyof RunOptions]: RunOptions[K] } = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0) throw new Error(`${flag} needs a whole number`);
      return v;
    };
    switch (flag) {
      case '--seed': args.seed = int(); break;
      case '--seeds': args.seeds = int(); break;
      case '--from': args.from = int(); break;
      case '--quiet': args.quiet = true; break;
      case '--verbose': args.verbose = true; break;
      case '--sync': options.sync = value(); break;
      case '--replicas': options.replicas = int(); break;
      case '--safety-ticks': options.safetyTicks = int(); break;
      case '--flaw': {
        const name = value();
        const flaw = FLAWS[name];
        if (flaw === undefined) throw new Error(`--flaw must be one of ${Object.keys(FLAWS).join(', ')}`);
        options.flaws = { ...options.flaws, ...flaw };
        break;
      }
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  args.options = options;
  return args;
}

function reproduce(r: RunResult, args: Args): string {
  const extra: string[] = [];
  if (args.options.sync !== undefined) extra.push(`--sync ${args.options.sync}`);
  if (args.options.replicas !== undefined) extra.push(`--replicas ${args.options.replicas}`);
  if (args.options.safetyTicks !== undefined) extra.push(`--safety-ticks ${args.options.safetyTicks}`);
  for (const [name, f] of Object.entries(FLAWS)) {
    if (Object.keys(f).every((k) => (args.options.flaws as Record<string, unknown> | undefined)?.[k] === true)) extra.push(`--flaw ${name}`);
  }
  return `reproduce with: npm run sim -- --seed ${r.seed}${extra.length > 0 ? ' ' + extra.join(' ') : ''}`;
}

function describe(r: RunResult): string {
  return `seed ${r.seed}: ${r.replicas} nodes, sync=${r.sync}, ${r.ticks} ticks, ${r.writes} writes, ` +
    `${r.completed} completed, ${r.elections} elections, ${r.crashes} crashes, ${r.messages} messages`;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  if (args.seed !== null) {
    const trace = args.quiet ? undefined : (line: string) => console.log(line);
    const r = runSeed(args.seed, { ...args.options, ...(trace === undefined ? {} : { trace, verbose: args.verbose }) });
    console.log(describe(r));
    if (r.violation !== null) {
      console.log(`VIOLATION ${r.violation}`);
      console.log(reproduce(r, args));
      return 1;
    }
    console.log('ok');
    return 0;
  }
  const started = performance.now();
  let failures = 0;
  let first: RunResult | null = null;
  let completed = 0;
  for (let seed = args.from; seed < args.from + args.seeds; seed++) {
    const r = runSeed(seed, args.options);
    completed += r.completed;
    if (r.violation !== null) {
      failures++;
      if (first === null) {
        first = r;
        console.log(`seed ${seed} FAILED: ${r.violation}`);
        console.log(reproduce(r, args));
      }
    }
  }
  const ms = Math.round(performance.now() - started);
  console.log(`${args.seeds} seeds from ${args.from}: ${failures} violations, ${completed} writes completed, ${ms} ms`);
  if (first !== null) console.log(reproduce(first, args));
  return failures > 0 ? 1 : 0;
}

process.exitCode = main();
