/**
 * SimNetwork: the replication links between nodes.
 *
 * Faults it injects, all drawn from the seed:
 * - delay: every message takes a random number of ticks, so messages overtake each other (reordering);
 * - loss: a message vanishes;
 * - duplication: a message arrives twice, at independent times;
 * - partitions between pairs of nodes, both ways or one way only: a message across one is dropped when it
 *   would arrive.
 * Messages to a crashed node are dropped; to a paused one they wait (the kernel buffers TCP for a stopped
 * process) and arrive when it resumes.
 *
 * Why the core survives these: it never relies on a link for safety. Every message carries its epoch and
 * enough context to be checked on its own (APPEND's previous entry, TRUNCATE's full epoch history, snapshot
 * ids), the actions it triggers are idempotent, and everything lost is resent on the next heartbeat or
 * SYNC retry. Real TCP is gentler (ordered, no duplicates), so a core that passes here passes there.
 */
import type { NodeId, PeerMessage } from '../core/types.js';
import type { Random } from './random.js';

/** One message on the wire. */
export interface Packet {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: PeerMessage;
}

/** How unreliable the network is; changed between phases (the liveness phase heals it). */
export interface NetworkFaults {
  /** Ticks a message takes, at least 1. */
  delayMin: number;
  delayMax: number;
  /** Probability that a message is lost. */
  loss: number;
  /** Probability that a message is also delivered a second time. */
  duplicate: number;
}

/** The links between simulated nodes; see the file comment. */
export class SimNetwork {
  faults: NetworkFaults;
  private readonly rng: Random;
  private readonly inFlight = new Map<number, Packet[]>();
  private readonly cut = new Set<string>();
  private readonly oneWay = new Set<string>();
  /** Messages sent and dropped, for run statistics. */
  sent = 0;
  dropped = 0;

  constructor(rng: Random, faults: NetworkFaults) {
    this.rng = rng;
    this.faults = faults;
  }

  send(now: number, packet: Packet): void {
    this.sent++;
    if (this.rng.chance(this.faults.loss)) {
      this.dropped++;
      return;
    }
    this.enqueue(now + this.delay(), packet);
    if (this.rng.chance(this.faults.duplicate)) this.enqueue(now + this.delay(), packet);
  }

  /** Everything due at `now`, in a random order (messages due the same tick may arrive either way round). */
  due(now: number): Packet[] {
    const packets = this.inFlight.get(now);
    if (packets === undefined) return [];
    this.inFlight.delete(now);
    return this.rng.shuffle(packets);
  }

  /** Puts a packet back for the next tick (its receiver is paused). */
  defer(now: number, packet: Packet): void {
    this.enqueue(now + 1, packet);
  }

  /** Whether a message from `from` currently reaches `to`. */
  connected(from: NodeId, to: NodeId): boolean {
    return !this.cut.has(key(from, to)) && !this.oneWay.has(`${from}>${to}`);
  }

  /** Drops messages from `from` to `to` only (a half-broken link: one side's sends are lost). */
  block(from: NodeId, to: NodeId): void {
    this.oneWay.add(`${from}>${to}`);
  }

  unblock(from: NodeId, to: NodeId): void {
    this.oneWay.delete(`${from}>${to}`);
  }

  partition(a: NodeId, b: NodeId): void {
    this.cut.add(key(a, b));
  }

  heal(a: NodeId, b: NodeId): void {
    this.cut.delete(key(a, b));
  }

  healAll(): void {
    this.cut.clear();
    this.oneWay.clear();
  }

  /** Pairs currently cut, for traces. */
  partitions(): string[] {
    return [...this.cut, ...this.oneWay].sort();
  }

  private delay(): number {
    return this.rng.int(this.faults.delayMin, this.faults.delayMax);
  }

  private enqueue(at: number, packet: Packet): void {
    const list = this.inFlight.get(at);
    if (list === undefined) this.inFlight.set(at, [packet]);
    else list.push(packet);
  }
}

function key(a: NodeId, b: NodeId): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
