// Goal: ServerPool, the failover transport's pure core, picks URIs, waits and gives up exactly as its
// file comment says; method: drive it with explicit times and scripted or seeded random functions
// (no timers, no sockets), checking every step it returns.
import { describe, expect, it } from 'vitest';
import { FAILOVER_DEFAULTS, seededRandom, ServerPool, STABLE_CONNECTION_MS, type PoolStep, type ServerPoolOptions } from '@mini-amq/stomp';

const A = 'tcp://a:1';
const B = 'tcp://b:2';
const C = 'tcp://c:3';

const ordered: ServerPoolOptions = { ...FAILOVER_DEFAULTS, randomize: false };
const noRandom = (): number => { throw new Error('random() must not be called when randomize=false'); };

function pool(options: Partial<ServerPoolOptions> = {}, uris = [A, B, C], random: () => number = noRandom): ServerPool {
  return new ServerPool(uris, { ...ordered, ...options }, random);
}

/** The dial step `next` must return. */
function dial(p: ServerPool, now: number): Extract<PoolStep, { action: 'dial' }> {
  const step = p.next(now);
  if (step.action !== 'dial') throw new Error(`expected a dial step, got ${JSON.stringify(step)}`);
  return step;
}

/** Fails every URI of the current round at `now`; returns the URIs in the order dialled. */
function failRound(p: ServerPool, now: number): string[] {
  const order: string[] = [];
  for (;;) {
    const step = p.next(now);
    if (step.action !== 'dial' || (order.length > 0 && step.delayMs > 0)) return order;
    if (order.includes(step.uri)) return order; // a new round began without a wait
    order.push(step.uri);
    p.failed(step.uri);
  }
}

/** The waits between rounds while every dial fails, over `rounds` rounds. */
function waits(p: ServerPool, rounds: number): number[] {
  const result: number[] = [];
  let now = 0;
  for (let r = 0; r < rounds; r++) {
    const step = dial(p, now);
    result.push(step.delayMs);
    now += step.delayMs;
    failRound(p, now);
  }
  return result;
}

describe('ServerPool: order within a round', () => {
  it('randomize=false dials in the order written, without waiting between URIs', () => {
    const p = pool();
    expect(p.phase).toBe('startup');
    expect(p.next(0)).toEqual({ action: 'dial', uri: A, delayMs: 0, attempt: 1, probe: false });
    p.failed(A);
    expect(p.next(0)).toEqual({ action: 'dial', uri: B, delayMs: 0, attempt: 2, probe: false });
    p.failed(B);
    expect(p.next(0)).toEqual({ action: 'dial', uri: C, delayMs: 0, attempt: 3, probe: false });
    p.failed(C);
    expect(p.next(0)).toEqual({ action: 'dial', uri: A, delayMs: 10, attempt: 4, probe: false });
  });

  it('randomize shuffles every round with the injected random function (Fisher–Yates)', () => {
    // random() = 0 swaps each position with the first: [A,B,C] -> [C,B,A] -> [B,C,A].
    const p = pool({ randomize: true }, [A, B, C], () => 0);
    expect(failRound(p, 0)).toEqual([B, C, A]);
    // 0.999… keeps every item in place.
    const q = pool({ randomize: true }, [A, B, C], () => 0.9999);
    expect(failRound(q, 0)).toEqual([A, B, C]);
  });

  it('the same seed gives the same orders; different rounds get fresh shuffles', () => {
    const orders = (seed: number): string[][] => {
      const p = pool({ randomize: true, initialReconnectDelay: 0 }, [A, B, C], seededRandom(seed));
      return Array.from({ length: 20 }, () => failRound(p, 0));
    };
    const first = orders(42);
    expect(orders(42)).toEqual(first);
    expect(new Set(first.map((o) => o.join())).size).toBeGreaterThan(1);
    for (const order of first) expect([...order].sort()).toEqual([A, B, C]);
  });

  it('each order is about equally likely', () => {
    const p = pool({ randomize: true, initialReconnectDelay: 0 }, [A, B, C], seededRandom(7));
    const counts = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const key = failRound(p, 0).join();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });

  it('after a loss the lost URI is tried last', () => {
    const p = pool();
    dial(p, 0);
    p.connected(A, 0);
    p.lost(A, STABLE_CONNECTION_MS);
    expect(failRound(p, STABLE_CONNECTION_MS)).toEqual([B, C, A]);
    // ...in every round until a connection is made again.
    const next = dial(p, STABLE_CONNECTION_MS);
    expect(failRound(p, STABLE_CONNECTION_MS + next.delayMs)).toEqual([B, C, A]);
  });

  it('a pool of one redials its only URI', () => {
    const p = pool({}, [A]);
    dial(p, 0);
    p.connected(A, 0);
    p.lost(A, 5_000);
    expect(p.next(5_000)).toEqual({ action: 'dial', uri: A, delayMs: 0, attempt: 1, probe: false });
  });

  it('randomize=false never calls random()', () => {
    const p = pool({ maxReconnectAttempts: 5, initialReconnectDelay: 0 });
    expect(waits(p, 5)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('ServerPool: back-off', () => {
  it('no wait before the first round, then initialReconnectDelay multiplied each round, capped at maxReconnectDelay', () => {
    expect(waits(pool({ maxReconnectDelay: 1000 }), 10)).toEqual([0, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
  });

  it('backOffMultiplier may be fractional; delays stay whole milliseconds', () => {
    expect(waits(pool({ initialReconnectDelay: 100, backOffMultiplier: 1.5, maxReconnectDelay: 1000 }), 8))
      .toEqual([0, 100, 150, 225, 338, 507, 761, 1000]);
  });

  it('useExponentialBackOff=false keeps initialReconnectDelay', () => {
    expect(waits(pool({ useExponentialBackOff: false, initialReconnectDelay: 250 }), 5)).toEqual([0, 250, 250, 250, 250]);
  });

  it('an initialReconnectDelay above maxReconnectDelay is capped too', () => {
    expect(waits(pool({ initialReconnectDelay: 500, maxReconnectDelay: 100 }), 3)).toEqual([0, 100, 100]);
  });

  it('next() is repeatable: it reports the wait that is left, counted from the first call', () => {
    const p = pool({}, [A]);
    dial(p, 0);
    p.failed(A);
    expect(dial(p, 100).delayMs).toBe(10); // the wait starts when the shell first asks
    expect(dial(p, 104).delayMs).toBe(6);
    expect(dial(p, 110).delayMs).toBe(0);
    expect(dial(p, 500).delayMs).toBe(0);
    expect(dial(p, 500).uri).toBe(A);
  });

  it('a stable connection resets the back-off; its loss is redialled at once', () => {
    const p = pool({ maxReconnectDelay: 1000 });
    expect(waits(p, 4)).toEqual([0, 10, 20, 40]);
    const t = 1_000;
    dial(p, t);
    p.connected(A, t);
    expect(p.next(t)).toEqual({ action: 'idle' });
    p.lost(A, t + STABLE_CONNECTION_MS);
    expect(dial(p, t + STABLE_CONNECTION_MS).delayMs).toBe(0);
    failRound(p, t + STABLE_CONNECTION_MS);
    expect(dial(p, t + STABLE_CONNECTION_MS).delayMs).toBe(10);
  });

  it('a connection lost sooner than stableConnectionMs keeps backing off (no tight reconnect loop)', () => {
    const p = pool({ maxReconnectDelay: 1000, stableConnectionMs: 500 }, [A]);
    let now = 0;
    const seen: number[] = [];
    for (let i = 0; i < 9; i++) {
      const step = dial(p, now);
      seen.push(step.delayMs);
      now += step.delayMs;
      p.connected(A, now);
      now += 100; // accepted, then dropped
      p.lost(A, now);
    }
    expect(seen).toEqual([0, 10, 20, 40, 80, 160, 320, 640, 1000]);
    // Staying up for stableConnectionMs ends it.
    dial(p, now);
    p.connected(A, now);
    p.lost(A, now + 500);
    expect(dial(p, now + 500).delayMs).toBe(0);
  });
});

describe('ServerPool: giving up', () => {
  const giveUpAfter = (options: Partial<ServerPoolOptions>, uris = [A, B]): number => {
    const p = pool({ ...options, initialReconnectDelay: 0 }, uris);
    for (let round = 1; round <= 1000; round++) {
      failRound(p, 0);
      if (p.next(0).action === 'give-up') return round;
    }
    return Infinity;
  };

  it('maxReconnectAttempts counts rounds; 0 and 1 both allow one ("0 = try once"); -1 never gives up', () => {
    expect(giveUpAfter({ maxReconnectAttempts: 0 })).toBe(1);
    expect(giveUpAfter({ maxReconnectAttempts: 1 })).toBe(1);
    expect(giveUpAfter({ maxReconnectAttempts: 2 })).toBe(2);
    expect(giveUpAfter({ maxReconnectAttempts: 5 })).toBe(5);
    expect(giveUpAfter({ maxReconnectAttempts: -1 })).toBe(Infinity);
  });

  it('startupMaxReconnectAttempts rules before the first connection; -1 defers to maxReconnectAttempts', () => {
    expect(giveUpAfter({ startupMaxReconnectAttempts: 3, maxReconnectAttempts: -1 })).toBe(3);
    expect(giveUpAfter({ startupMaxReconnectAttempts: 0, maxReconnectAttempts: 9 })).toBe(1);
    expect(giveUpAfter({ startupMaxReconnectAttempts: -1, maxReconnectAttempts: 4 })).toBe(4);
  });

  it('after a connection, maxReconnectAttempts rules and counting starts again', () => {
    const p = pool({ startupMaxReconnectAttempts: 5, maxReconnectAttempts: 2, initialReconnectDelay: 0 }, [A, B]);
    failRound(p, 0);
    failRound(p, 0);
    p.connected(A, 0);
    p.lost(A, 10_000);
    expect(failRound(p, 10_000)).toEqual([B, A]);
    expect(p.next(10_000).action).toBe('dial');
    failRound(p, 10_000);
    expect(p.next(10_000)).toEqual({ action: 'give-up', attempts: 4, rounds: 2, tried: [B, A] });
    expect(p.phase).toBe('gave-up');
  });

  it('the give-up step lists every URI tried, in the order first tried, and stays', () => {
    const p = pool({ randomize: true, maxReconnectAttempts: 2, initialReconnectDelay: 0 }, [A, B, C], () => 0);
    failRound(p, 0);
    failRound(p, 0);
    const step = p.next(0);
    expect(step).toEqual({ action: 'give-up', attempts: 6, rounds: 2, tried: [B, C, A] });
    expect(p.next(99)).toEqual(step);
    p.failed(A); // late outcomes change nothing
    expect(p.next(100)).toEqual(step);
  });

  it('attempt numbers count dials since the last connection', () => {
    const p = pool({ initialReconnectDelay: 0 });
    expect([dial(p, 0).attempt]).toEqual([1]);
    failRound(p, 0);
    expect(dial(p, 0).attempt).toBe(4);
    p.failed(A);
    p.connected(B, 0);
    p.lost(B, 10_000);
    expect(dial(p, 10_000).attempt).toBe(1);
  });
});

describe('ServerPool: priorityBackup', () => {
  it('while connected elsewhere, probes the primary with back-off; probes never give up', () => {
    const p = pool({ priorityBackup: true, maxReconnectAttempts: 0, maxReconnectDelay: 50 });
    dial(p, 0);
    p.failed(A);
    dial(p, 0);
    p.connected(B, 0);
    expect(p.current).toBe(B);
    let now = 0;
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const step = dial(p, now);
      expect(step).toMatchObject({ uri: A, probe: true, attempt: i + 1 });
      delays.push(step.delayMs);
      now += step.delayMs;
      p.failed(A);
    }
    expect(delays).toEqual([10, 20, 40, 50, 50, 50]);
    expect(p.phase).toBe('connected');
    // The probe succeeds: the shell switched; nothing more to do.
    p.connected(A, now);
    expect(p.next(now)).toEqual({ action: 'idle' });
  });

  it('the probe wait starts again from initialReconnectDelay after each new connection', () => {
    const p = pool({ priorityBackup: true });
    p.next(0);
    p.failed(A);
    p.next(0);
    p.connected(B, 0);
    dial(p, 0);
    p.failed(A);
    expect(dial(p, 100).delayMs).toBe(20);
    p.lost(B, 5_000);
    expect(dial(p, 5_000)).toMatchObject({ uri: A, delayMs: 0, probe: false });
    p.failed(A);
    expect(dial(p, 5_000)).toMatchObject({ uri: C, probe: false });
    p.connected(C, 5_000);
    expect(dial(p, 5_000)).toMatchObject({ uri: A, delayMs: 10, probe: true, attempt: 1 });
  });

  it('rounds try the primary first, even when randomized, unless it is the URI just lost', () => {
    const p = pool({ priorityBackup: true, randomize: true, initialReconnectDelay: 0 }, [A, B, C], () => 0);
    expect(failRound(p, 0)).toEqual([A, B, C]); // shuffled to [B,C,A], then A moved first
    dial(p, 0);
    p.connected(A, 0);
    p.lost(A, 10_000);
    expect(failRound(p, 10_000)).toEqual([B, C, A]);
  });

  it('no probes while connected to the primary, or without priorityBackup', () => {
    const p = pool({ priorityBackup: true });
    dial(p, 0);
    p.connected(A, 0);
    expect(p.next(0)).toEqual({ action: 'idle' });
    const q = pool();
    q.next(0);
    q.failed(A);
    q.next(0);
    q.connected(B, 0);
    expect(q.next(0)).toEqual({ action: 'idle' });
  });

  it('a probe that fails after the connection was lost counts for the reconnect round', () => {
    const p = pool({ priorityBackup: true });
    p.next(0);
    p.failed(A);
    p.next(0);
    p.connected(B, 0);
    expect(dial(p, 0)).toMatchObject({ uri: A, probe: true });
    p.lost(B, 5_000); // while the probe is in flight
    expect(dial(p, 5_000)).toMatchObject({ uri: A, probe: false, delayMs: 0 });
    p.failed(A);
    expect(dial(p, 5_000)).toMatchObject({ uri: C, attempt: 2 });
  });
});

describe('ServerPool: stale reports and broken invariants', () => {
  it('ignores outcomes it no longer waits for', () => {
    const p = pool();
    p.next(0);
    p.failed(C); // not the URI asked for: C is still in the round, so it is taken out
    expect(dial(p, 0).uri).toBe(A);
    p.failed(A);
    expect(dial(p, 0).uri).toBe(B);
    p.connected(B, 0);
    p.failed(A); // without priorityBackup, a failed dial while connected means nothing
    p.lost(A, 10); // not the current connection
    expect(p.current).toBe(B);
    expect(p.next(10)).toEqual({ action: 'idle' });
  });

  it('asserts on unknown URIs, empty or duplicate lists, and random values outside [0, 1)', () => {
    expect(() => new ServerPool([], ordered, noRandom)).toThrow('a ServerPool needs at least one URI');
    expect(() => new ServerPool([A, A], ordered, noRandom)).toThrow('ServerPool URIs must be distinct');
    expect(() => pool().failed('tcp://x:9')).toThrow('ServerPool: tcp://x:9 is not one of tcp://a:1, tcp://b:2, tcp://c:3');
    expect(() => pool({ randomize: true }, [A, B], () => 1).next(0)).toThrow('random() must return a number in [0, 1), got 1');
  });

  it('connected after giving up is a shell bug', () => {
    const p = pool({ maxReconnectAttempts: 0 }, [A]);
    p.next(0);
    p.failed(A);
    expect(() => p.connected(A, 0)).toThrow('ServerPool: connected after giving up');
  });
});

describe('seededRandom', () => {
  it('is deterministic per seed, in [0, 1), and handles seed 0', () => {
    const a = seededRandom(1);
    const b = seededRandom(1);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
    expect(new Set(xs).size).toBe(1000);
    const zero = seededRandom(0);
    expect(zero()).not.toBe(zero());
    expect(seededRandom(2)()).not.toBe(seededRandom(1)());
  });
});
