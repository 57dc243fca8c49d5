// Keeps the package in shape (after tigerbeetle's src/tidy.zig): the core stays pure (no clock, timer,
// randomness, process or IO, and imports only its own files and node:assert), the simulation stays
// deterministic (no clock or Math.random outside its CLI), and the package imports nothing above it in
// the package graph.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(path.join(src, dir)).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
}

const code = (file: string): string =>
  readFileSync(path.join(src, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');

const IMPURE = /\b(Date\.now|new Date|Math\.random|setTimeout|setInterval|setImmediate|queueMicrotask|performance\.now|process\.)/;

describe('tidy', () => {
  it('the core has no clock, timer, randomness or process access', () => {
    const offenders = files('core').filter((f) => IMPURE.test(code(f)));
    expect(offenders).toEqual([]);
  });

  it('the core imports only its own files and node:assert', () => {
    const bad: string[] = [];
    for (const f of files('core')) {
      for (const m of code(f).matchAll(/from\s+'([^']+)'/g)) {
        const spec = m[1]!;
        if (!spec.startsWith('./') && spec !== 'node:assert/strict') bad.push(`${f}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the simulation is deterministic: no clock or Math.random (its CLI may time itself)', () => {
    const offenders = files('sim').filter((f) => !f.endsWith('cli.ts') && IMPURE.test(code(f)));
    expect(offenders).toEqual([]);
  });

  it('nothing imports a package above replication (broker, network, cli, stomp)', () => {
    const bad: string[] = [];
    for (const f of [...files('core'), ...files('sim'), 'index.ts']) {
      if (/from\s+'@mini-amq\/(broker|network|cli|stomp)'/.test(code(f))) bad.push(f);
    }
    expect(bad).toEqual([]);
  });

  it('files stay small', () => {
    const big = [...files('core'), ...files('sim')].filter((f) => readFileSync(path.join(src, f), 'utf8').split('\n').length > 400);
    expect(big).toEqual([]);
  });
});
