// Goal: heart-beat negotiation follows [STOMP 1.2: Heart-beating]; method: a table of CONNECT/CONNECTED
// header pairs and the intervals each side must keep.
import { describe, expect, it } from 'vitest';
import { negotiateHeartBeat, parseHeartBeat } from '@mini-amq/stomp';

describe('heart-beat negotiation', () => {
  it('parses "cx,cy" and rejects anything else', () => {
    expect(parseHeartBeat('0,0')).toEqual([0, 0]);
    expect(parseHeartBeat('1000, 2000')).toEqual([1000, 2000]);
    for (const bad of [undefined, '', '10', '10,', 'a,b', '-1,5', '1.5,2', '1,2,3']) expect(parseHeartBeat(bad)).toBeUndefined();
  });

  const table: Array<[mine: [number, number], theirs: [number, number] | undefined, sendMs: number, expectMs: number]> = [
    [[0, 0], [1000, 1000], 0, 0],
    [[1000, 0], [0, 500], 1000, 0], // send at max(cx, sy)
    [[100, 0], [0, 500], 500, 0],
    [[1000, 0], [0, 0], 0, 0], // the broker does not want them
    [[0, 2000], [500, 0], 0, 2000], // expect at max(sx, cy)
    [[0, 100], [500, 0], 0, 500],
    [[0, 100], [0, 0], 0, 0], // the broker cannot send them
    [[300, 400], [1000, 200], 300, 1000],
    [[300, 400], undefined, 0, 0], // no (or a malformed) heart-beat header: none
  ];
  for (const [mine, theirs, sendMs, expectMs] of table) {
    it(`client ${mine.join(',')} / broker ${theirs?.join(',') ?? 'absent'} → send ${sendMs}, expect ${expectMs}`, () => {
      expect(negotiateHeartBeat(mine, theirs)).toEqual({ sendMs, expectMs });
    });
  }
});
