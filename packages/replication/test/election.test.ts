// The election: first as a story (testdata/election.txt, a group coming up node by node), then the pure
// decision function case by case: quorum and its status line, reports that count, the order of
// candidates ((epoch, index), then weight, then id), and when a master counts as live.
import { describe, expect, it } from 'vitest';
import { evaluateElection, masterIsLive } from '../src/core/election.js';
import type { CoordinatorView, MemberRecord } from '../src/core/types.js';
import { runScriptFile, scriptPath } from './script/script.js';

describe('election story', () => {
  it('election.txt', () => {
    const [expected, actual] = runScriptFile(scriptPath('election.txt'));
    expect(actual).toBe(expected);
  });
});

let seq = 0;
function member(id: string, position: [number, number] | null, forEpoch: number, extra: Partial<MemberRecord> = {}): MemberRecord {
  return {
    id,
    seq: ++seq,
    address: id,
    weight: 1,
    position: position === null ? null : { epoch: position[0], index: position[1] },
    forEpoch,
    recovering: false,
    ...extra,
  };
}

function view(members: MemberRecord[], epoch = 1, masterId: string | null = null): CoordinatorView {
  return { session: 'connected', members, elected: { epoch, masterId, version: 7 } };
}

describe('evaluateElection', () => {
  it('needs a quorum of members, and says how many are missing', () => {
    const d = evaluateElection(view([member('a', [1, 5], 1)]), 3);
    expect(d).toEqual({
      kind: 'wait',
      status: 'Not enough cluster members connected to elect a master (1 of 3 connected, 2 needed)',
    });
    expect(evaluateElection(view([member('a', [1, 5], 1), member('b', [1, 5], 1)]), 5).status).toBe(
      'Not enough cluster members connected to elect a master (2 of 5 connected, 3 needed)',
    );
  });

  it('waits until every connected member has reported for the current epoch', () => {
    const members = [member('a', [1, 5], 1), member('b', null, 0), member('c', [1, 2], 0)];
    expect(evaluateElection(view(members), 3).status).toBe(
      'Not enough cluster members have reported their positions yet (1 of 3 reported for epoch 1)',
    );
  });

  it('elects the greatest (epoch, index): a newer epoch beats a longer log', () => {
    const d = evaluateElection(view([member('a', [1, 9], 1), member('b', [2, 4], 1), member('c', [2, 3], 1)]), 3);
    expect(d).toMatchObject({ kind: 'elect', winner: 'b', epoch: 2, expectedVersion: 7 });
  });

  it('breaks ties by weight, then by the smaller id', () => {
    const tie = [member('c', [1, 4], 1), member('b', [1, 4], 1), member('a', [1, 3], 1, { weight: 5 })];
    expect(evaluateElection(view(tie), 3)).toMatchObject({ winner: 'b' });
    tie.push(member('d', [1, 4], 1, { weight: 2 }));
    expect(evaluateElection(view(tie), 5)).toMatchObject({ winner: 'd' });
  });

  it('compares by index alone only under the test-only flaw', () => {
    const members = [member('a', [1, 9], 1), member('b', [2, 4], 1)];
    expect(evaluateElection(view(members), 3, { electByIndexOnly: true })).toMatchObject({ winner: 'a' });
  });

  it('neither elects nor counts a recovering member', () => {
    const members = [member('a', [1, 9], 1), member('b', null, 1, { recovering: true })];
    expect(evaluateElection(view(members), 3).status).toBe(
      'Not enough cluster members connected to elect a master (1 of 3 connected, 2 needed; 1 recovering lost writes)',
    );
    members.push(member('c', [1, 2], 1));
    expect(evaluateElection(view(members), 3)).toMatchObject({ kind: 'elect', winner: 'a' });
  });

  it("takes a restarted node's newest registration, not the znode its old session left behind", () => {
    const old = member('a', null, 0);
    const fresh = member('a', [1, 3], 1);
    const members = [fresh, old, member('b', [1, 2], 1)];
    expect(evaluateElection(view(members), 3)).toMatchObject({ kind: 'elect', winner: 'a' });
  });

  it('leaves a live master alone; a master that reported for its own epoch, vanished or recovers is not live', () => {
    const serving = [member('a', null, 2), member('b', null, 2)];
    expect(evaluateElection(view(serving, 2, 'a'), 3)).toMatchObject({ kind: 'master-live', masterId: 'a' });
    // Just elected: its report was for the previous epoch.
    expect(masterIsLive(view([member('a', [1, 4], 1), member('b', null, 2)], 2, 'a'))).toBe(true);
    expect(masterIsLive(view([member('a', [2, 4], 2), member('b', null, 2)], 2, 'a'))).toBe(false);
    expect(masterIsLive(view([member('b', null, 2)], 2, 'a'))).toBe(false);
    expect(masterIsLive(view([member('a', null, 2, { recovering: true })], 2, 'a'))).toBe(false);
  });
});
