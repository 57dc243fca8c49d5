// The checker can fail. First on made-up histories, one per invariant, so each check is seen to bite;
// then on the real core with a safety rule deliberately removed (test-only flaws): accepting entries from
// the old master after reporting a position, and electing by index without epochs. Each must be caught
// within a bounded number of seeds, with the command that replays it.
import { describe, expect, it } from 'vitest';
import { Checker } from '../src/sim/checker.js';
import { parseSync } from '../src/core/sync-mode.js';
import { runSeed } from '../src/sim/run.js';
import type { NodeFlaws } from '../src/core/context.js';
import type { ReplicatedEntry } from '../src/core/types.js';

const e = (epoch: number, index: number, payload: string): ReplicatedEntry => ({ epoch, index, payload });

describe('Checker on made-up histories', () => {
  it('(a) a completed write missing from a later master', () => {
    const c = new Checker(parseSync('quorum_mem'));
    c.onWrite('n1', 'w1', 1, 1);
    c.onComplete('n1', 'w1');
    c.onPromotion('n2', 2, [e(2, 1, 'w9')]);
    expect(c.violation).toMatch(/\(a\) completed write w1@\(1,1\) is lost: n2, master of epoch 2, holds w9@\(2,1\)/);
  });

  it('(a) also when the later master was elected before the old one completed', () => {
    const c = new Checker(parseSync('remote_disk'));
    c.onPromotion('n2', 2, []);
    c.onWrite('n1', 'w1', 1, 1);
    c.onComplete('n1', 'w1');
    expect(c.violation).toMatch(/w1@\(1,1\) is lost: n2, master of epoch 2, holds nothing/);
  });

  it('(a) is not promised in local modes', () => {
    const c = new Checker(parseSync('local_disk'));
    c.onWrite('n1', 'w1', 1, 1);
    c.onComplete('n1', 'w1');
    c.onPromotion('n2', 2, []);
    expect(c.violation).toBeNull();
  });

  it('(b) two nodes committing different entries at one index', () => {
    const c = new Checker(parseSync('quorum_mem'));
    c.afterStep([{ id: 'n1', epoch: 1, commitIndex: 1, entries: [e(1, 1, 'w1')], rewrittenFrom: Infinity }]);
    c.afterStep([{ id: 'n2', epoch: 2, commitIndex: 1, entries: [e(2, 1, 'w2')], rewrittenFrom: Infinity }]);
    expect(c.violation).toMatch(/\(b\) n2 commits w2@\(2,1\) at index 1 where w1@\(1,1\) was committed/);
  });

  it('(c) two masters of one epoch', () => {
    const c = new Checker(parseSync('quorum_mem'));
    c.onPromotion('n1', 3, []);
    c.onPromotion('n2', 3, []);
    expect(c.violation).toMatch(/\(c\) n2 and n1 were both elected master of epoch 3/);
  });

  it('(d) an epoch going down', () => {
    const c = new Checker(parseSync('quorum_mem'));
    c.afterStep([{ id: 'n1', epoch: 4, commitIndex: 0, entries: [], rewrittenFrom: Infinity }]);
    c.afterStep([{ id: 'n1', epoch: 3, commitIndex: 0, entries: [], rewrittenFrom: Infinity }]);
    expect(c.violation).toMatch(/\(d\) n1's epoch went from 4 down to 3/);
  });
});

/** The first seed in [1, limit] whose run finds a violation under `flaws`. */
function firstCaught(flaws: NodeFlaws, limit: number): { seed: number; violation: string } | null {
  for (let seed = 1; seed <= limit; seed++) {
    const r = runSeed(seed, { flaws });
    if (r.violation !== null) return { seed, violation: r.violation };
  }
  return null;
}

describe('a broken protocol is caught by the simulation', () => {
  it('accepting appends after reporting a position loses completed writes', () => {
    const caught = firstCaught({ acceptAppendsAfterReport: true }, 2_000);
    expect(caught, 'no seed caught the flaw').not.toBeNull();
    console.log(`acceptAppendsAfterReport caught at seed ${caught!.seed}: ${caught!.violation}`);
    expect(caught!.violation).toMatch(/\((a|b)\)/);
  });

  it('electing by index alone (ActiveMQ without epochs) loses completed writes', () => {
    const caught = firstCaught({ electByIndexOnly: true }, 2_000);
    expect(caught, 'no seed caught the flaw').not.toBeNull();
    console.log(`electByIndexOnly caught at seed ${caught!.seed}: ${caught!.violation}`);
    expect(caught!.violation).toMatch(/\((a|b)\)/);
  });
});
