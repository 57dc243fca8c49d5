// Log shipping, told as stories (testdata/*.txt): a deposed master's diverged suffix truncated by the
// master that wins on epoch; a slave behind the retained tail caught up by snapshot; a slave that lost
// un-fsynced writes kept out of elections until it has caught up. Then the epoch-history arithmetic that
// finds where two logs diverge, case by case.
import { describe, expect, it } from 'vitest';
import { commonPrefix, epochAt } from '../src/core/history.js';
import { ReplicaLog } from '../src/core/log.js';
import { runScriptFile, scriptPath } from './script/script.js';

describe('replication stories', () => {
  for (const name of ['truncation.txt', 'snapshot.txt', 'recovering.txt']) {
    it(name, () => {
      const [expected, actual] = runScriptFile(scriptPath(name));
      expect(actual).toBe(expected);
    });
  }
});

const h = (...runs: Array<[epoch: number, start: number]>) => runs.map(([epoch, start]) => ({ epoch, start }));

describe('epoch histories', () => {
  it('finds the epoch of any index, compacted or not', () => {
    const history = h([1, 1], [3, 5], [4, 9]);
    expect([0, 1, 4, 5, 8, 9, 10, 11].map((i) => epochAt(history, 10, i))).toEqual([0, 1, 1, 3, 3, 4, 4, undefined]);
  });

  it('finds the longest common prefix of two logs', () => {
    // Same history, one longer: the shorter one.
    expect(commonPrefix(h([1, 1], [2, 4]), 6, h([1, 1], [2, 4]), 9)).toBe(6);
    // Diverged at epoch 2 vs 3 starting at the same index: agree on epoch 1's run.
    expect(commonPrefix(h([1, 1], [2, 4]), 6, h([1, 1], [3, 4]), 5)).toBe(3);
    // An old master wrote on in epoch 1 past where the new master's epoch 2 begins.
    expect(commonPrefix(h([1, 1]), 9, h([1, 1], [2, 5]), 7)).toBe(4);
    // Nothing in common.
    expect(commonPrefix(h([2, 1]), 3, h([1, 1]), 3)).toBe(0);
    expect(commonPrefix([], 0, h([1, 1]), 3)).toBe(0);
    // A master's own epoch is open-ended: all of a slave's entries of it match.
    expect(commonPrefix(h([1, 1], [2, 4]), 12, h([1, 1], [2, 4]), Infinity)).toBe(12);
  });

  it('keeps the history of a compacted prefix', () => {
    const log = new ReplicaLog();
    for (let i = 1; i <= 6; i++) log.append({ epoch: i <= 3 ? 1 : 2, index: i, payload: i });
    log.compact(4);
    expect(log.base).toEqual({ epoch: 2, index: 4 });
    expect(log.firstIndex).toBe(5);
    expect(log.epochAt(2)).toBe(1);
    expect(log.historyThrough(4)).toEqual(h([1, 1], [2, 4]));
    log.truncateAfter(4);
    expect(log.last).toEqual({ epoch: 2, index: 4 });
    expect(() => log.truncateAfter(3)).toThrow(/base/);
  });
});
