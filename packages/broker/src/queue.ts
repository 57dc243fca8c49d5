/**
 * One queue: the messages waiting for consumers, the consumers, and the window of the backlog held in
 * memory. A queue is also what holds a topic subscription's copies (durable or not), so prefetch, acks,
 * redelivery and paging behave the same everywhere.
 *
 * Paging (as ActiveMQ's store cursor): stored messages stay on disk while the in-memory window is full;
 * `pagedOut` counts them and one cursor per priority remembers the greatest seq already brought into
 * memory, so a page-in is one range read per priority. Priority is therefore exact inside the window and
 * best effort across a backlog larger than it (ActiveMQ's default `prioritizedMessages=false` is weaker).
 */
import type { Store } from '@mini-amq/store';
import { PriorityBuckets, messageSize, nextOrder, type QueuedMessage } from './message.js';
import type { Selector } from './selector.js';

/** Messages of one queue held in memory before new stored ones stay on disk. */
export const PAGE_IN_MESSAGES_MAX = 2000;
/** Bytes of stored messages one queue holds in memory before new ones stay on disk. */
export const PAGE_IN_BYTES_MAX = 8 * 1024 * 1024;
/** Page in again once the window has drained below this many messages. */
export const PAGE_IN_LOW_WATER_MESSAGES = PAGE_IN_MESSAGES_MAX / 2;
/** How far a consumer with a selector looks down the queue for a match, per dispatch attempt. */
export const SELECTOR_SCAN_MESSAGES_MAX = 5000;
/** Producers blocked on a full queue resume when it falls below this fraction of its limit. */
export const MEMORY_RESUME_FRACTION = 0.7;

export interface QueueConsumer {
  readonly selector: Selector | null;
  /** [ActiveMQ: Consumer Priority] higher is served first; absent = 0. */
  readonly priority?: number;
  /** Whether it can take one more message now (prefetch credit left and its socket keeping up). */
  ready(): boolean;
  deliver(queue: Queue, m: QueuedMessage): void;
}

/** What a queue asks of the broker around it. */
export interface QueueHost {
  readonly store: Store | null;
  /** A message whose `expires` has passed was found while dispatching; the broker removes or dead-letters it. */
  expired(queue: Queue, m: QueuedMessage): void;
  /** A message was put back `redeliveryCount` times; the broker persists the count or dead-letters it. */
  redelivered(queue: Queue, m: QueuedMessage): void;
  selectorMatches(selector: Selector, m: QueuedMessage): boolean;
  onError(err: unknown, context: string): void;
}

export interface QueueStats {
  readonly destination: string;
  readonly pending: number;
  readonly inflight: number;
  readonly consumers: number;
  readonly enqueued: number;
  readonly dequeued: number;
  readonly memoryBytes: number;
}

export class Queue {
  private readonly pending = new PriorityBuckets();
  private readonly inflight = new Set<QueuedMessage>();
  private readonly consumers: QueueConsumer[] = [];
  private nextConsumer = 0;
  /** Stored messages on disk that are not in memory. */
  private pagedOut: number;
  private readonly cursors: number[] = new Array<number>(10).fill(0);
  /** Stored messages sent to disk since start, per priority: a page-in reads only priorities that have some. */
  private readonly divertedOnDisk: number[] = new Array<number>(10).fill(0);
  /**
   * The highest seq sent to disk per priority. A page-in takes nothing above it (or above what was there at
   * start): a message stored but not yet given to this queue (a broker that stores, then dispatches) is on
   * disk too, and would otherwise be read in and then accepted a second time.
   */
  private readonly divertedMaxSeq: number[] = new Array<number>(10).fill(0);
  /** Messages found in the store at start and not yet paged in; their priorities are unknown until read. */
  private recoveredLeft: number;
  private readonly recoveredExhausted: boolean[] = new Array<boolean>(10).fill(false);
  private pagingIn = false;
  private dispatchScheduled = false;
  private pendingStoredBytes = 0;
  private memory = 0;
  private enqueued = 0;
  private dequeued = 0;
  private spaceWaiters: Array<() => void> = [];
  private closedFlag = false;

  constructor(
    /** The STOMP destination it serves, e.g. `/queue/orders` (for subscription queues: the topic). */
    readonly destination: string,
    /** Its name in the store, or null when it never stores (temp queues, non-durable topic copies). */
    readonly storeQueue: string | null,
    private readonly host: QueueHost,
    private readonly memoryLimitBytes: number,
    recoveredCount = 0,
    /** Seqs up to this one were in the store at start (its last log index then). */
    private readonly recoveredUpToSeq = 0,
  ) {
    this.pagedOut = recoveredCount;
    this.recoveredLeft = recoveredCount;
  }

  get closed(): boolean { return this.closedFlag; }
  get consumerCount(): number { return this.consumers.length; }
  get memoryBytes(): number { return this.memory; }
  /** True while producers to this queue must wait (ActiveMQ's producer flow control). */
  get full(): boolean { return this.memory > this.memoryLimitBytes; }

  stats(): QueueStats {
    return {
      destination: this.destination, pending: this.pending.size + this.pagedOut, inflight: this.inflight.size,
      consumers: this.consumers.length, enqueued: this.enqueued, dequeued: this.dequeued, memoryBytes: this.memory,
    };
  }

  /** Calls `resume` once the queue has room again (at once if it has). */
  whenSpace(resume: () => void): void {
    if (!this.full || this.closedFlag) resume();
    else this.spaceWaiters.push(resume);
  }

  /**
   * Takes a newly routed message. A stored message stays on disk when the window is full or older
   * stored messages are still on disk (so order is kept); `written` tells when it can be read back.
   */
  accept(m: QueuedMessage, written?: Promise<void>): void {
    if (this.closedFlag) return;
    this.enqueued++;
    if (m.key !== null) {
      const windowFull = this.pending.size >= PAGE_IN_MESSAGES_MAX || this.pendingStoredBytes >= PAGE_IN_BYTES_MAX;
      if (this.pagedOut > 0 || windowFull) {
        this.pagedOut++;
        this.divertedOnDisk[m.key.priority]!++;
        this.divertedMaxSeq[m.key.priority] = Math.max(this.divertedMaxSeq[m.key.priority]!, m.key.seq);
        written?.then(() => this.schedulePageIn(), () => {});
        return;
      }
      this.cursors[m.key.priority] = Math.max(this.cursors[m.key.priority]!, m.key.seq);
      this.pendingStoredBytes += m.size;
    }
    this.memory += m.size;
    this.pending.push(m);
    this.scheduleDispatch();
  }

  addConsumer(c: QueueConsumer): void {
    // Kept highest priority first, in arrival order within a priority (see dispatch).
    const p = c.priority ?? 0;
    let at = this.consumers.length;
    while (at > 0 && (this.consumers[at - 1]!.priority ?? 0) < p) at--;
    this.consumers.splice(at, 0, c);
    this.schedulePageIn();
    this.scheduleDispatch();
  }

  /** Detaches a consumer; what it held unacked comes back, marked redelivered, in its old place. */
  removeConsumer(c: QueueConsumer, unacked: readonly QueuedMessage[]): void {
    const i = this.consumers.indexOf(c);
    if (i >= 0) this.consumers.splice(i, 1);
    for (const m of unacked) this.requeue(m);
  }

  /** An ack (or a move elsewhere): the message leaves this queue for good. */
  release(m: QueuedMessage): void {
    if (!this.inflight.delete(m)) return;
    this.memory -= m.size;
    this.dequeued++;
    this.checkSpace();
    this.scheduleDispatch();
  }

  /** NACK or consumer gone: count a redelivery; the host persists it or moves the message to the DLQ. */
  requeue(m: QueuedMessage): void {
    if (!this.inflight.has(m)) return;
    m.redeliveryCount++;
    this.host.redelivered(this, m);
  }

  /** Puts a redelivered message back in its old place (called by the host once it decided to keep it). */
  putBack(m: QueuedMessage): void {
    if (!this.inflight.delete(m) || this.closedFlag) return;
    if (m.key !== null) this.pendingStoredBytes += m.size;
    this.pending.insert(m);
    this.scheduleDispatch();
  }

  /** Drops everything (a temp queue whose connection closed, a removed durable subscription). */
  close(): void {
    this.closedFlag = true;
    this.pending.clear();
    this.inflight.clear();
    this.memory = 0;
    this.pagedOut = 0;
    this.recoveredLeft = 0;
    this.divertedOnDisk.fill(0);
    this.pendingStoredBytes = 0;
    this.consumers.length = 0;
    this.checkSpace();
  }

  scheduleDispatch(): void {
    if (this.dispatchScheduled || this.closedFlag) return;
    this.dispatchScheduled = true;
    queueMicrotask(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  /**
   * [ActiveMQ: Consumer Priority] consumers are held highest priority first; each run of one priority is
   * served round robin, and a lower run gets only what every higher one could not take (full, or its
   * selector refused). With one priority (the usual case) this is plain round robin.
   */
  private dispatch(): void {
    if (this.consumers.length > 0) {
      const now = Date.now();
      let start = 0;
      while (start < this.consumers.length && this.pending.size > 0 && !this.closedFlag) {
        const priority = this.consumers[start]!.priority ?? 0;
        let end = start + 1;
        while (end < this.consumers.length && (this.consumers[end]!.priority ?? 0) === priority) end++;
        this.dispatchTo(start, end, now);
        start = end;
      }
      if (this.nextConsumer > 1e9) this.nextConsumer = 0;
    }
    if (this.pagedOut > 0 && this.pending.size < PAGE_IN_LOW_WATER_MESSAGES) this.schedulePageIn();
  }

  /** Round robin over consumers[start, end) until each is full or finds nothing it takes. */
  private dispatchTo(start: number, end: number, now: number): void {
    const size = end - start;
    let idle = 0;
    while (this.pending.size > 0 && idle < size && !this.closedFlag) {
      const c = this.consumers[start + (this.nextConsumer++ % size)];
      if (c === undefined) return; // a consumer left while we delivered
      if (!c.ready()) { idle++; continue; }
      const m = c.selector === null
        ? this.pending.shift()
        : this.pending.takeFirst((x) => this.host.selectorMatches(c.selector!, x), SELECTOR_SCAN_MESSAGES_MAX);
      if (m === undefined) { idle++; continue; }
      if (m.key !== null) this.pendingStoredBytes -= m.size;
      this.inflight.add(m);
      if (m.message.expires !== 0 && m.message.expires <= now) {
        this.host.expired(this, m);
        continue;
      }
      idle = 0;
      c.deliver(this, m);
    }
  }

  private schedulePageIn(): void {
    if (this.pagingIn || this.pagedOut === 0 || this.storeQueue === null || this.host.store === null) return;
    if (this.consumers.length === 0 || this.closedFlag) return;
    if (this.pending.size >= PAGE_IN_LOW_WATER_MESSAGES) return;
    this.pagingIn = true;
    this.pageIn().then(
      (read) => {
        this.pagingIn = false;
        this.scheduleDispatch();
        if (read > 0) this.schedulePageIn();
      },
      (err) => {
        this.pagingIn = false;
        this.host.onError(err, `paging in ${this.destination}`);
      },
    );
  }

  /** Reads the next part of the backlog, highest priority first; returns how many came in. */
  private async pageIn(): Promise<number> {
    const store = this.host.store!;
    let room = PAGE_IN_MESSAGES_MAX - this.pending.size;
    let read = 0;
    for (let p = 9; p >= 0 && room > 0 && this.pagedOut > 0; p--) {
      const recoveredHere = this.recoveredLeft > 0 && !this.recoveredExhausted[p];
      if (this.divertedOnDisk[p] === 0 && !recoveredHere) continue;
      const asked = room;
      const records = await store.readQueue(this.storeQueue!, p, this.cursors[p]!, asked);
      if (this.closedFlag) return 0;
      // Recovered messages were all on disk before we started, so a short read means none is left here.
      if (records.length < asked) this.recoveredExhausted[p] = true;
      const known = Math.max(this.recoveredUpToSeq, this.divertedMaxSeq[p]!);
      for (const r of records) {
        if (r.key.seq <= this.cursors[p]!) continue;
        if (r.key.seq > known) break;
        this.cursors[p] = r.key.seq;
        this.pagedOut--;
        if (r.key.seq > this.recoveredUpToSeq) this.divertedOnDisk[p]!--;
        else this.recoveredLeft--;
        const m: QueuedMessage = {
          message: r.message, persistent: true, key: r.key, order: nextOrder(),
          redeliveryCount: r.redeliveryCount, size: messageSize(r.message),
        };
        this.memory += m.size;
        this.pendingStoredBytes += m.size;
        this.pending.insert(m);
        room--;
        read++;
      }
    }
    return read;
  }

  /**
   * Every message of the queue in dispatch order without consuming: memory first, then the part of the
   * backlog on disk, read page by page so a large backlog is never held at once.
   */
  async *browse(pageMessages = 500): AsyncGenerator<QueuedMessage> {
    const inMemory = [...this.inflight, ...this.pending.toArray()]
      .sort((a, b) => b.message.priority - a.message.priority || a.order - b.order);
    const cursors = this.cursors.slice();
    const onDisk = this.pagedOut > 0 && this.storeQueue !== null && this.host.store !== null;
    yield* inMemory;
    if (!onDisk) return;
    for (let p = 9; p >= 0; p--) {
      let after = cursors[p]!;
      for (;;) {
        const records = await this.host.store!.readQueue(this.storeQueue!, p, after, pageMessages);
        for (const r of records) {
          after = r.key.seq;
          yield { message: r.message, persistent: true, key: r.key, order: 0, redeliveryCount: r.redeliveryCount, size: 0 };
        }
        if (records.length < pageMessages) break;
      }
    }
  }

  private checkSpace(): void {
    if (this.spaceWaiters.length === 0) return;
    if (!this.closedFlag && this.memory > this.memoryLimitBytes * MEMORY_RESUME_FRACTION) return;
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }
}
