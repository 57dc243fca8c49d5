/**
 * Goal: consume's loss and duplicate counts are exactly what the `seq`/`producer-run` headers prove, per
 * producer run, and headers that cannot be trusted are counted apart instead of skewing them. Method: the
 * pure SequenceAudit fed header values, compared with counts worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { RUNS_TRACKED_MAX, SEQ_TRACKED_MAX, SequenceAudit } from '../src/sequence-audit.js';

/** An audit of one run "r" after receiving `seqs` in that order. */
function audit(seqs: number[]) {
  const a = new SequenceAudit();
  for (const seq of seqs) a.record('r', String(seq));
  return a.summary();
}

describe('one producer run', () => {
  it('0..n-1 in order: nothing lost, nothing duplicated', () => {
    expect(audit([0, 1, 2, 3, 4])).toEqual({
      received: 5, lost: 0, duplicates: 0, untracked: 0,
      runs: [{ producerRun: 'r', received: 5, distinct: 5, minSeq: 0, maxSeq: 4, lost: 0, duplicates: 0 }],
    });
  });

  it('order does not matter', () => {
    expect(audit([3, 0, 4, 2, 1])).toMatchObject({ lost: 0, duplicates: 0 });
  });

  it('a gap below the highest seq is lost; the missing tail cannot be seen', () => {
    expect(audit([0, 1, 3, 6])).toMatchObject({ lost: 3, duplicates: 0 }); // 2, 4, 5
    expect(audit([0, 1])).toMatchObject({ lost: 0 }); // 2.. may never have been sent
    expect(audit([5])).toMatchObject({ lost: 5 }); // 0..4
    expect(audit([7, 5]).runs[0]).toMatchObject({ minSeq: 5, maxSeq: 7, lost: 6 }); // minSeq shows where this consumer came in
  });

  it('every repeat of a seq is one duplicate', () => {
    expect(audit([0, 1, 1, 2, 1, 0])).toMatchObject({ received: 6, lost: 0, duplicates: 3 });
  });

  it('loss and duplication together', () => {
    expect(audit([0, 2, 2, 4])).toMatchObject({ lost: 2, duplicates: 1 });
  });

  it('seqs far apart grow the bitset', () => {
    expect(audit([0, 100_000, 100_000])).toMatchObject({ lost: 99_999, duplicates: 1 });
  });
});

describe('several runs and untrusted headers', () => {
  it('runs are audited apart and summed', () => {
    const a = new SequenceAudit();
    for (const [run, seq] of [['a', 0], ['b', 0], ['a', 2], ['b', 0], ['b', 1]] as const) a.record(run, String(seq));
    expect(a.summary()).toEqual({
      received: 5, lost: 1, duplicates: 1, untracked: 0,
      runs: [
        { producerRun: 'a', received: 2, distinct: 2, minSeq: 0, maxSeq: 2, lost: 1, duplicates: 0 },
        { producerRun: 'b', received: 3, distinct: 2, minSeq: 0, maxSeq: 1, lost: 0, duplicates: 1 },
      ],
    });
  });

  it.each([
    [undefined, '1'], ['', '1'], ['r', undefined], ['r', ''], ['r', '-1'], ['r', '1.5'], ['r', '1e3'], ['r', ' 1'], ['r', 'x'],
    ['r', String(SEQ_TRACKED_MAX + 1)], ['r', '9'.repeat(20)],
  ])('producer-run %j, seq %j: untracked', (run, seq) => {
    const a = new SequenceAudit();
    a.record(run, seq);
    expect(a.summary()).toEqual({ received: 1, lost: 0, duplicates: 0, untracked: 1, runs: [] });
  });

  it('runs beyond RUNS_TRACKED_MAX are untracked, so a flood of run ids cannot grow memory without bound', () => {
    const a = new SequenceAudit();
    for (let i = 0; i <= RUNS_TRACKED_MAX; i++) a.record(`run-${i}`, '0');
    const s = a.summary();
    expect(s.runs).toHaveLength(RUNS_TRACKED_MAX);
    expect(s.untracked).toBe(1);
    expect(s.received).toBe(RUNS_TRACKED_MAX + 1);
  });
});
