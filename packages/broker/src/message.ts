/** A message as the broker holds it in memory while it is pending or in flight. */
import type { MessageKey, StoredMessage } from '@mini-amq/store';

export interface QueuedMessage {
  readonly message: StoredMessage;
  readonly persistent: boolean;
  /** Where it lives in the store; null when it lives only in memory (non-persistent, temp, topic copies). */
  key: MessageKey | null;
  /** Dispatch order within one priority; requeued messages keep theirs, so they go out first again. */
  order: number;
  redeliveryCount: number;
  /** Bytes it holds in memory, for the destination memory limit. */
  readonly size: number;
  /** Called once when a consumer acks it (see Broker.commit: a receipt may then go out before the disk write). */
  onAcked?: (() => void) | undefined;
}

/** Fixed overhead we count per message on top of body and headers (object, maps, key). */
export const MESSAGE_OVERHEAD_BYTES = 256;

let lastOrder = 0;
/** Process-wide, monotonic: any order comparison between two messages is meaningful. */
export function nextOrder(): number {
  return ++lastOrder;
}

export function messageSize(m: StoredMessage): number {
  let size = MESSAGE_OVERHEAD_BYTES + m.body.length;
  for (const [k, v] of m.headers) size += k.length + v.length;
  return size;
}

export function queued(message: StoredMessage, persistent: boolean, redeliveryCount = 0): QueuedMessage {
  return { message, persistent, key: null, order: nextOrder(), redeliveryCount, size: messageSize(message) };
}

/** Ordered by priority (9 first), then by order: ten buckets, each sorted by `order`. */
export class PriorityBuckets {
  private readonly buckets: QueuedMessage[][] = Array.from({ length: 10 }, () => []);
  private readonly heads: number[] = new Array<number>(10).fill(0);
  private count = 0;

  get size(): number { return this.count; }

  /** Appends a newly routed message (its order is the greatest so far). */
  push(m: QueuedMessage): void {
    this.buckets[m.message.priority]!.push(m);
    this.count++;
  }

  /** Puts back a message that already had an order (redelivery): it goes where its order says. */
  insert(m: QueuedMessage): void {
    const p = m.message.priority;
    const bucket = this.buckets[p]!;
    let lo = this.heads[p]!;
    let hi = bucket.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bucket[mid]!.order < m.order) lo = mid + 1; else hi = mid;
    }
    bucket.splice(lo, 0, m);
    this.count++;
  }

  peek(): QueuedMessage | undefined {
    for (let p = 9; p >= 0; p--) {
      const h = this.heads[p]!;
      if (h < this.buckets[p]!.length) return this.buckets[p]![h];
    }
    return undefined;
  }

  shift(): QueuedMessage | undefined {
    for (let p = 9; p >= 0; p--) {
      const bucket = this.buckets[p]!;
      const h = this.heads[p]!;
      if (h < bucket.length) {
        const m = bucket[h]!;
        bucket[h] = undefined as unknown as QueuedMessage;
        this.advance(p);
        this.count--;
        return m;
      }
    }
    return undefined;
  }

  /** Removes and returns the first message (in dispatch order, at most `scanMax` looked at) that `accept` takes. */
  takeFirst(accept: (m: QueuedMessage) => boolean, scanMax: number): QueuedMessage | undefined {
    let scanned = 0;
    for (let p = 9; p >= 0 && scanned < scanMax; p--) {
      const bucket = this.buckets[p]!;
      for (let i = this.heads[p]!; i < bucket.length && scanned < scanMax; i++, scanned++) {
        const m = bucket[i]!;
        if (!accept(m)) continue;
        if (i === this.heads[p]) { bucket[i] = undefined as unknown as QueuedMessage; this.advance(p); }
        else bucket.splice(i, 1);
        this.count--;
        return m;
      }
    }
    return undefined;
  }

  /** Dispatch order, for browsing; a copy. */
  toArray(): QueuedMessage[] {
    const out: QueuedMessage[] = [];
    for (let p = 9; p >= 0; p--) out.push(...this.buckets[p]!.slice(this.heads[p]));
    return out;
  }

  clear(): QueuedMessage[] {
    const all = this.toArray();
    for (let p = 0; p < 10; p++) { this.buckets[p] = []; this.heads[p] = 0; }
    this.count = 0;
    return all;
  }

  /** Drops the consumed prefix once it is large, so a long-lived bucket does not grow without bound. */
  private advance(p: number): void {
    const bucket = this.buckets[p]!;
    const h = this.heads[p]! + 1;
    if (h === bucket.length) { this.buckets[p] = []; this.heads[p] = 0; return; }
    if (h > 1024 && h * 2 > bucket.length) { this.buckets[p] = bucket.slice(h); this.heads[p] = 0; return; }
    this.heads[p] = h;
  }
}
