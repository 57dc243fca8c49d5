/**
 * Goal: the two pacing rules of produce and consume hold: --rate spaces messages evenly from the start of
 * the run, and consume's held-back ACK never lets the broker push more than --count messages in all.
 * Method: the pure functions, plus a small simulation of a broker honouring prefetch against ackNow.
 */
import { describe, expect, it } from 'vitest';
import { ackNow } from '../src/commands/consume.js';
import { pacingDelayMs } from '../src/commands/produce.js';

describe('pacingDelayMs', () => {
  it('no rate: never waits', () => {
    expect(pacingDelayMs(1_000_000, null, 0)).toBe(0);
  });

  it('message i is due at i/rate seconds from the start', () => {
    expect(pacingDelayMs(0, 10, 0)).toBe(0);
    expect(pacingDelayMs(5, 10, 200)).toBe(300);
    expect(pacingDelayMs(5, 10, 500)).toBe(0);
    expect(pacingDelayMs(5, 10, 900)).toBe(0); // late: catch up without waiting
  });
});

/**
 * A broker that pushes while fewer than `prefetch` messages are unacknowledged and the queue has some;
 * the consumer acks cumulatively when ackNow says so and stops at `count` or when nothing more comes.
 * Its last ACK travels with the UNSUBSCRIBE, so the broker pushes nothing after it. Returns how many
 * messages the broker pushed and how many were acknowledged in the end.
 */
function simulate(queued: number, count: number, prefetch: number): { pushed: number; acked: number } {
  let pushed = 0;
  let acked = 0;
  let received = 0;
  const fill = () => { while (pushed < queued && pushed - acked < prefetch) pushed++; };
  fill();
  while (received < pushed && (count === 0 || received < count)) {
    received++;
    if (ackNow(received, count, prefetch)) {
      acked = received;
      fill();
    }
  }
  acked = received; // the held-back ACK, with the UNSUBSCRIBE
  return { pushed, acked };
}

describe('ackNow', () => {
  it.each([
    [10_000, 500, 500],
    [10_000, 1000, 1000],
    [10_000, 5000, 1000],
    [10_000, 1001, 1000],
    [10_000, 1, 1],
    [300, 500, 500],
  ])('queue of %d, --count %d, prefetch %d: the broker pushes at most --count, all acked at the end', (queued, count, prefetch) => {
    const { pushed, acked } = simulate(queued, count, prefetch);
    expect(pushed).toBeLessThanOrEqual(count);
    expect(pushed).toBe(Math.min(queued, count));
    expect(acked).toBe(pushed);
  });

  it('no limit (--count 0): every message is acked at once', () => {
    expect(ackNow(1, 0, 1000)).toBe(true);
    expect(simulate(5000, 0, 1000)).toEqual({ pushed: 5000, acked: 5000 });
  });
});
