/**
 * ServerPool: the pure core of the failover transport (STYLE.md §1–2). It decides which broker URI to
 * dial next and how long to wait first; it does no IO and owns no timer: the current time and a
 * random function are inputs, so every decision replays from a seed.
 *
 * The shell's loop:
 * ```ts
 * const step = pool.next(now());
 * // 'dial': wait step.delayMs (or call next again after a shorter sleep), dial step.uri, then report
 * //         pool.connected(uri, now()) or pool.failed(uri)
 * // 'idle': connected; nothing to do until pool.lost(uri, now()) reports the connection gone
 * // 'give-up': stop; step says how many attempts over which URIs
 * ```
 * `next` has no side effect a second call could repeat: calling it again before reporting an outcome
 * returns the same URI with the delay that is left.
 *
 * Semantics, after ActiveMQ's FailoverTransport:
 * - A round tries every URI once, without waiting between them: in the order written, or shuffled
 *   anew every round when `randomize`. The URI whose connection was just lost goes last, so the
 *   client first tries somewhere else.
 * - The first round after a loss starts at once; after each round in which every URI failed, the
 *   pool waits initialReconnectDelay, then (useExponentialBackOff) that times backOffMultiplier, and
 *   so on, capped at maxReconnectDelay.
 * - It gives up after `limit` failed rounds, where limit = startupMaxReconnectAttempts before the
 *   first connection (when not -1) and maxReconnectAttempts after; -1 = never; 0 and 1 both allow a
 *   single round, as in ActiveMQ where the check is `connectFailures >= limit` after each round.
 * - priorityBackup: the first URI is the primary. Each round tries it first (unless it is the one just
 *   lost), and while connected elsewhere the pool asks for a probe dial to it, backing off like
 *   reconnects; a successful probe means "switch back". Probes never count towards giving up.
 * - A connection lost sooner than stableConnectionMs after it was made does not reset the back-off,
 *   and the first round after it waits: a broker that accepts and then drops every connection would
 *   otherwise be redialled in a tight loop.
 */
import assert from 'node:assert/strict';
import type { FailoverOptions } from './failover-uri.js';

/** A connection that lasts at least this long counts as stable: losing it resets the back-off. */
export const STABLE_CONNECTION_MS = 1_000;

/** What ServerPool needs of FailoverOptions (`timeout` is the shell's), plus the flapping guard. */
export type ServerPoolOptions = Omit<FailoverOptions, 'timeout'> & {
  /** Default STABLE_CONNECTION_MS. */
  readonly stableConnectionMs?: number;
};

/** What the shell should do next. */
export type PoolStep =
  | {
    readonly action: 'dial';
    readonly uri: string;
    /** Wait this long (ms from `now`) before dialling. */
    readonly delayMs: number;
    /** 1 for the first dial since the last connection (or since the start; probes count their own). */
    readonly attempt: number;
    /** A dial to the primary while connected elsewhere (priorityBackup): on success, switch to it. */
    readonly probe: boolean;
  }
  | { readonly action: 'idle' }
  | {
    readonly action: 'give-up';
    /** Dials made since the last connection (or since the start). */
    readonly attempts: number;
    /** Rounds in which every URI failed. */
    readonly rounds: number;
    /** Every URI dialled, in the order first tried. */
    readonly tried: readonly string[];
  };

export type PoolPhase = 'startup' | 'connected' | 'reconnecting' | 'gave-up';

const IDLE: PoolStep = Object.freeze({ action: 'idle' });

/** Chooses the next broker to dial and the wait before it; see the file comment. */
export class ServerPool {
  /** The URIs in the order written; the first is the primary for priorityBackup. */
  readonly uris: readonly string[];
  private readonly options: ServerPoolOptions;
  private readonly random: () => number;
  private readonly stableMs: number;

  private phaseValue: PoolPhase = 'startup';
  private everConnected = false;
  private currentUri: string | null = null;
  private connectedAt = 0;
  /** The URI whose connection was lost last; tried last in every round until reconnected. */
  private lostUri: string | null = null;

  /** URIs left to try in this round, next first; empty = a new round starts at the next `next`. */
  private round: string[] = [];
  private roundsFailed = 0;
  private attempts = 0;
  private tried: string[] = [];
  /** Wait before the next dial, fixed into `notBefore` by the next call to `next`. */
  private waitMs = 0;
  private notBefore: number | null = null;
  /** Wait that follows the next failed round. */
  private backOffMs: number;

  private probeBackOffMs: number;
  private probeNotBefore: number | null = null;
  private probeAttempts = 0;

  constructor(uris: readonly string[], options: ServerPoolOptions, random: () => number) {
    assert(uris.length > 0, 'a ServerPool needs at least one URI');
    assert.equal(new Set(uris).size, uris.length, 'ServerPool URIs must be distinct');
    this.uris = Object.freeze([...uris]);
    this.options = options;
    this.random = random;
    this.stableMs = options.stableConnectionMs ?? STABLE_CONNECTION_MS;
    this.backOffMs = this.initialDelay();
    this.probeBackOffMs = this.initialDelay();
  }

  get phase(): PoolPhase { return this.phaseValue; }
  /** The URI connected to, or null. */
  get current(): string | null { return this.currentUri; }
  /** The URI priorityBackup returns to. */
  get primary(): string { return this.uris[0] as string; }

  /** What to do at time `now` (ms, any monotonic origin). */
  next(now: number): PoolStep {
    switch (this.phaseValue) {
      case 'gave-up':
        return { action: 'give-up', attempts: this.attempts, rounds: this.roundsFailed, tried: [...this.tried] };
      case 'connected': {
        if (!this.options.priorityBackup || this.currentUri === this.primary) return IDLE;
        if (this.probeNotBefore === null) this.probeNotBefore = now + this.probeBackOffMs;
        return { action: 'dial', uri: this.primary, delayMs: Math.max(0, this.probeNotBefore - now), attempt: this.probeAttempts + 1, probe: true };
      }
      default: {
        if (this.round.length === 0) this.round = this.newRound();
        if (this.notBefore === null) this.notBefore = now + this.waitMs;
        return { action: 'dial', uri: this.round[0] as string, delayMs: Math.max(0, this.notBefore - now), attempt: this.attempts + 1, probe: false };
      }
    }
  }

  /** A dial to `uri` failed. An outcome the pool no longer waits for (not in this round) is ignored. */
  failed(uri: string): void {
    this.assertKnown(uri);
    if (this.phaseValue === 'connected') {
      if (!this.options.priorityBackup || uri !== this.primary || this.currentUri === this.primary) return;
      this.probeAttempts++;
      this.probeNotBefore = null;
      this.probeBackOffMs = this.grow(this.probeBackOffMs);
      return;
    }
    if (this.phaseValue === 'gave-up') return;
    const i = this.round.indexOf(uri);
    if (i === -1) return;
    this.round.splice(i, 1);
    this.attempts++;
    if (!this.tried.includes(uri)) this.tried.push(uri);
    this.notBefore = null;
    this.waitMs = 0;
    if (this.round.length > 0) return;
    this.roundsFailed++;
    const limit = this.limit();
    if (limit !== -1 && this.roundsFailed >= Math.max(1, limit)) {
      this.phaseValue = 'gave-up';
      return;
    }
    this.waitMs = this.backOffMs;
    this.backOffMs = this.grow(this.backOffMs);
  }

  /** A dial to `uri` succeeded at `now` (also a successful probe: the shell has switched to it). */
  connected(uri: string, now: number): void {
    this.assertKnown(uri);
    assert.notEqual(this.phaseValue, 'gave-up', 'ServerPool: connected after giving up');
    this.phaseValue = 'connected';
    this.everConnected = true;
    this.currentUri = uri;
    this.connectedAt = now;
    this.lostUri = null;
    this.round = [];
    this.roundsFailed = 0;
    this.attempts = 0;
    this.tried = [];
    this.notBefore = null;
    this.waitMs = 0;
    this.probeAttempts = 0;
    this.probeNotBefore = null;
    this.probeBackOffMs = this.initialDelay();
    // backOffMs is reset by `lost`, once we know whether this connection was stable.
  }

  /** The connection to `uri` is gone at `now`. A loss of a connection the pool has moved on from is ignored. */
  lost(uri: string, now: number): void {
    this.assertKnown(uri);
    if (this.phaseValue !== 'connected' || uri !== this.currentUri) return;
    this.phaseValue = 'reconnecting';
    this.currentUri = null;
    this.lostUri = uri;
    this.round = [];
    this.notBefore = null;
    if (now - this.connectedAt >= this.stableMs) {
      this.backOffMs = this.initialDelay();
      this.waitMs = 0;
    } else {
      this.waitMs = this.backOffMs;
      this.backOffMs = this.grow(this.backOffMs);
    }
  }

  /** The round limit in force: see the file comment. */
  private limit(): number {
    const { maxReconnectAttempts, startupMaxReconnectAttempts } = this.options;
    return !this.everConnected && startupMaxReconnectAttempts !== -1 ? startupMaxReconnectAttempts : maxReconnectAttempts;
  }

  private newRound(): string[] {
    const order = [...this.uris];
    if (this.options.randomize) shuffle(order, this.random);
    if (this.lostUri !== null && order.length > 1) moveTo(order, this.lostUri, order.length - 1);
    if (this.options.priorityBackup && this.lostUri !== this.primary) moveTo(order, this.primary, 0);
    return order;
  }

  private initialDelay(): number {
    return Math.min(this.options.initialReconnectDelay, this.options.maxReconnectDelay);
  }

  private grow(delayMs: number): number {
    if (!this.options.useExponentialBackOff) return delayMs;
    // Rounded so delays stay whole milliseconds whatever the multiplier.
    return Math.min(Math.round(delayMs * this.options.backOffMultiplier), this.options.maxReconnectDelay);
  }

  private assertKnown(uri: string): void {
    assert(this.uris.includes(uri), `ServerPool: ${uri} is not one of ${this.uris.join(', ')}`);
  }
}

/** Fisher–Yates with the injected random function (uniform in [0, 1)). */
function shuffle(items: string[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const r = random();
    assert(r >= 0 && r < 1, `random() must return a number in [0, 1), got ${r}`);
    const j = Math.floor(r * (i + 1));
    const t = items[i] as string;
    items[i] = items[j] as string;
    items[j] = t;
  }
}

function moveTo(items: string[], item: string, index: number): void {
  const i = items.indexOf(item);
  if (i === -1 || i === index) return;
  items.splice(i, 1);
  items.splice(index, 0, item);
}

/**
 * A small seeded generator (xorshift32) for the `random` input of ServerPool: the same seed gives the
 * same URI orders, so a failure found with one seed can be replayed.
 */
export function seededRandom(seed: number): () => number {
  // xorshift32 has one fixed point, 0; any other 32-bit state cycles through all 2^32-1 others.
  let state = (seed | 0) === 0 ? 0x9e3779b9 : seed | 0;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}
