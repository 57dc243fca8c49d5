/**
 * Keeps the house in shape (after TigerBeetle's tidy.zig): reads every source file and fails on imports
 * that point back up the package graph of ARCHITECTURE.md, on clocks, timers and randomness inside pure
 * cores, and on source files that have grown past a size worth splitting.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Which packages each package may import (ARCHITECTURE.md: "nothing points back up"). */
const ALLOWED_IMPORTS: Record<string, readonly string[]> = {
  stomp: [],
  store: [],
  broker: ['stomp', 'store'],
  replication: ['store'],
  network: ['broker', 'stomp', 'store'],
  cli: ['stomp', 'store', 'broker', 'replication', 'network'],
};
/** Folders holding pure state machines: no clock, no timer, no chance (STYLE.md §2). */
const PURE_CORES = ['packages/replication/src/core', 'packages/stomp/src/server-pool.ts'];
const IMPURE = /\bDate\.now\(|\bnew Date\(|\bMath\.random\(|\bsetTimeout\(|\bsetInterval\(|\bsetImmediate\(|\bperformance\.now\(|\bprocess\.hrtime/;
/** A source file longer than this should be split by concern (STYLE.md §8). */
const SOURCE_LINES_MAX = 1200;

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const packages = readdirSync(join(ROOT, 'packages')).filter((p) => existsSync(join(ROOT, 'packages', p, 'src')));

describe('tidy', () => {
  it('knows every package', () => {
    expect(packages.filter((p) => !(p in ALLOWED_IMPORTS))).toEqual([]);
  });

  it('imports only down the package graph', () => {
    const violations: string[] = [];
    for (const pkg of packages) {
      for (const file of sourceFiles(join(ROOT, 'packages', pkg, 'src'))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/from\s+'@mini-amq\/([a-z-]+)'/g)) {
          const target = m[1]!;
          if (!(ALLOWED_IMPORTS[pkg] ?? []).includes(target)) violations.push(`${relative(ROOT, file)} imports @mini-amq/${target}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps clocks, timers and randomness out of pure cores', () => {
    const violations: string[] = [];
    for (const core of PURE_CORES) {
      const path = join(ROOT, core);
      const files = core.endsWith('.ts') ? (existsSync(path) ? [path] : []) : sourceFiles(path);
      for (const file of files) {
        readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
          const code = line.replace(/\/\/.*$/, '');
          if (IMPURE.test(code) && !/^\s*\*/.test(code)) violations.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    expect(violations).toEqual([]);
  });

  it(`keeps source files under ${SOURCE_LINES_MAX} lines`, () => {
    const long = packages.flatMap((pkg) => sourceFiles(join(ROOT, 'packages', pkg, 'src')))
      .map((f) => [relative(ROOT, f), readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([, n]) => n > SOURCE_LINES_MAX);
    expect(long).toEqual([]);
  });
});
