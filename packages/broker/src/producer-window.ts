/**
 * Producer de-duplication, the broker's side of the failover client's exactly-once (ActiveMQ's producer
 * audit). A FailoverClient stamps every SEND with `amq-producer-id` and `amq-producer-seq` (1, 2, 3… in
 * send order) and, after a reconnect, sends again every SEND whose RECEIPT it had not seen. Per producer
 * we keep the highest seq accepted: a SEND at or below it is one we already have, so it is not routed
 * again, but its RECEIPT still goes out (once the original is on disk).
 *
 * The window is part of the store's log: a `producer` entry rides in the same append as the enqueues it
 * covers, so after a restart (or on a replica) the messages and the window agree. Non-persistent sends
 * move only the window in memory: their messages do not survive a restart, so neither need their seqs.
 *
 * Bounded, least recently used first out: a Map keeps insertion order, and every use moves an id to its
 * end. A producer pushed out of a window the store holds gets a `producer-forget` entry (see Broker.commit),
 * so the store never holds more than we track. Forgetting a producer is safe for every producer except
 * one that comes back later with sends it already made; the bound is sized so that does not happen.
 *
 * This is a pure structure (no IO, no clock): Broker.commit decides what is written.
 */
import assert from 'node:assert/strict';
import { PRODUCER_ID_HEADER, PRODUCER_SEQ_HEADER } from '@mini-amq/stomp';
import { PRODUCER_ID_BYTES_MAX, PRODUCER_WINDOWS_MAX, type HeaderList } from '@mini-amq/store';

/**
 * Producers tracked by default (the setting is ActiveMQ's `maxFailoverProducersToTrack`, whose default is
 * 2048). We take twice that: a broker runs two connectors (STOMP and WebSocket) of 1000 connections each,
 * so up to ~2000 producers may be live at once and keep touching their windows; a producer that lost its
 * connection must still find its own after every live one has sent, and short-lived producers (each
 * `mini-amq produce` run is one) keep arriving meanwhile. 4096 windows cost ~0.5 MiB of memory and
 * ~250 KiB on disk, read once at start.
 */
export const PRODUCERS_TRACKED_MAX = 4096;
assert(PRODUCERS_TRACKED_MAX <= PRODUCER_WINDOWS_MAX);

/** Who sent a SEND and its place in that producer's order, from its amq-producer-* headers. */
export interface ProducerRef {
  readonly id: string;
  readonly seq: number;
}

/** One producer's window. */
export interface TrackedProducer {
  /** The highest seq accepted. */
  seq: number;
  /** Whether the store holds a window for it (it then needs a `producer-forget` when dropped). */
  stored: boolean;
  /** Resolves when the last stored send of this producer is on disk: what a duplicate's RECEIPT waits for. */
  durable: Promise<void>;
}

const DECIMAL = /^[1-9][0-9]{0,15}$/;

/**
 * The producer of a SEND, or null when it has no usable amq-producer-* headers (a plain client, or
 * values we cannot trust to order sends): such a SEND is never treated as a duplicate.
 */
export function producerOf(headers: HeaderList): ProducerRef | null {
  let id: string | undefined;
  let seqText: string | undefined;
  // [STOMP 1.2: Repeated Header Entries] the first occurrence counts.
  for (const [k, v] of headers) {
    if (k === PRODUCER_ID_HEADER) id ??= v;
    else if (k === PRODUCER_SEQ_HEADER) seqText ??= v;
  }
  if (id === undefined || seqText === undefined || id === '' || !DECIMAL.test(seqText)) return null;
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq) || Buffer.byteLength(id, 'utf8') > PRODUCER_ID_BYTES_MAX) return null;
  return { id, seq };
}

const SETTLED: Promise<void> = Promise.resolve();

/** The windows of the producers tracked, least recently used first. */
export class ProducerWindow {
  private readonly tracked = new Map<string, TrackedProducer>();

  constructor(readonly max: number = PRODUCERS_TRACKED_MAX) {
    assert(Number.isSafeInteger(max) && max >= 1 && max <= PRODUCER_WINDOWS_MAX, `maxFailoverProducersToTrack must be an integer from 1 to ${PRODUCER_WINDOWS_MAX}, got ${max}`);
  }

  get size(): number { return this.tracked.size; }

  /** Producer ids, least recently used first (for tests and status). */
  ids(): string[] { return [...this.tracked.keys()]; }

  /** The window of `id`, without counting as a use. */
  peek(id: string): TrackedProducer | undefined {
    return this.tracked.get(id);
  }

  /**
   * Records `ref.seq` as the highest accepted from its producer, which counts as its use. The caller has
   * checked that it is past the window (peek). Returns the producers dropped to stay within the bound,
   * oldest first, with their windows.
   */
  accept(ref: ProducerRef): Array<[string, TrackedProducer]> {
    const t = this.touch(ref.id);
    if (t !== undefined) {
      assert(ref.seq > t.seq, `seq ${ref.seq} of producer ${ref.id} is not past ${t.seq}: a duplicate must not be accepted`);
      t.seq = ref.seq;
      return [];
    }
    this.tracked.set(ref.id, { seq: ref.seq, stored: false, durable: SETTLED });
    return this.evict();
  }

  /**
   * Rebuilds the windows the store recovered (least recently written first, as the store lists them).
   * Returns the ones past the bound, which the caller must forget in the store: the bound may have been
   * lowered since they were written.
   */
  load(recovered: ReadonlyMap<string, number>): Array<[string, TrackedProducer]> {
    for (const [id, seq] of recovered) {
      this.tracked.delete(id);
      this.tracked.set(id, { seq, stored: true, durable: SETTLED });
    }
    return this.evict();
  }

  /** Counts a use of `id` (a duplicate from it, say): it moves to the most recently used end. */
  touch(id: string): TrackedProducer | undefined {
    const t = this.tracked.get(id);
    if (t === undefined) return undefined;
    this.tracked.delete(id);
    this.tracked.set(id, t);
    return t;
  }

  private evict(): Array<[string, TrackedProducer]> {
    const dropped: Array<[string, TrackedProducer]> = [];
    for (const entry of this.tracked) {
      if (this.tracked.size - dropped.length <= this.max) break;
      dropped.push(entry);
    }
    for (const [id] of dropped) this.tracked.delete(id);
    return dropped;
  }
}
