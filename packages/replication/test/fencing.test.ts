// Fencing, as a story (testdata/fencing.txt): a master stops completing writes at once when its
// ZooKeeper session expires, when a slave's REJECT shows it a newer epoch (the promise at work), and when
// it has not heard from replicas/2 slaves for quorumTicks; its pending writes fail with REPL_FENCED.
import { describe, expect, it } from 'vitest';
import { runScriptFile, scriptPath } from './script/script.js';

describe('fencing story', () => {
  it('fencing.txt', () => {
    const [expected, actual] = runScriptFile(scriptPath('fencing.txt'));
    expect(actual).toBe(expected);
  });
});
