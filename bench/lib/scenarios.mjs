// The benchmark scenarios of issue 2, run against any STOMP broker through bench/lib/stomp-wire.mjs.
//
// Every scenario measures end to end: messages/s is messages delivered divided by the time from the first
// SEND to the last MESSAGE received (for c0, which has no consumer, to the last RECEIPT), and latency is
// receive time minus the send time the producer put in the `x-ts` header (producers and consumers live
// in this one process, so both read the same monotonic clock). Each scenario uses its own fresh
// destination, waits until everything it sent has arrived, and is bounded twice: a total time limit and
// a stall limit (no progress for stallMs). A broker that hangs is reported as `timeout`, not waited for.

import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { connect } from './stomp-wire.mjs';

const now = () => performance.now();

/**
 * Defaults for a full run. `count` is per scenario (for e: the total over its 4 producers). b is sized to
 * take several seconds on a disk that does a few thousand fsyncs/s; c and c0 half of a, since the anchors
 * only do a few thousand durable messages/s there.
 */
export const SCENARIOS = {
  a: { title: 'queue 1P/1C, 1 KiB, non-persistent', count: 100_000, size: 1024, limitMs: 180_000 },
  b: { title: 'queue 1P/1C, 1 KiB, persistent, receipt per message', count: 15_000, size: 1024, limitMs: 180_000 },
  c: { title: 'queue 1P/1C, 1 KiB, persistent, 100 receipts in flight', count: 50_000, size: 1024, limitMs: 180_000 },
  c0: { title: 'as c with no consumer while sending (durable write rate)', count: 50_000, size: 1024, limitMs: 180_000 },
  d: { title: 'topic 1P -> 10 subscribers, 256 B, non-persistent', count: 100_000, size: 256, subscribers: 10, limitMs: 240_000 },
  e: { title: 'queue 4P/4C, 1 KiB, non-persistent, client-individual acks', count: 100_000, size: 1024, producers: 4, consumers: 4, limitMs: 180_000 },
  lat: { title: 'latency at a fixed 1,000 msg/s, 1 KiB, non-persistent', count: 10_000, rate: 1000, warmup: 500, size: 1024, limitMs: 60_000 },
};

export const SCENARIO_ORDER = ['a', 'b', 'c', 'c0', 'd', 'e', 'lat'];

/** Subscriptions limit unacknowledged messages to this on every broker (see subscribe()). */
const PREFETCH = 1000;

/** Producers without receipts yield to the event loop this often so consumers in this process keep up. */
const YIELD_EVERY = 64;

/** Fixed-capacity latency recorder; percentiles by nearest rank. */
export class LatencyRecorder {
  constructor(capacity) {
    this.v = new Float64Array(Math.max(1, capacity));
    this.n = 0;
  }

  add(ms) {
    if (this.n < this.v.length) this.v[this.n++] = ms;
  }

  summary() {
    if (this.n === 0) return null;
    const a = this.v.slice(0, this.n).sort();
    const at = (p) => a[Math.min(a.length - 1, Math.max(0, Math.ceil(p * a.length) - 1))];
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += a[i];
    return { n: a.length, p50: round3(at(0.5)), p99: round3(at(0.99)), max: round3(a[a.length - 1]), mean: round3(sum / a.length) };
  }
}

const round3 = (x) => Math.round(x * 1000) / 1000;

/**
 * Where consumers deliver: counts messages, finds duplicates by key (a bitmap over all expected keys),
 * records latency, and resolves `done` when every expected key has arrived.
 */
class Sink {
  constructor(expected, latCapacity, onProgress) {
    this.expected = expected;
    this.seen = new Uint8Array(expected);
    this.distinct = 0;
    this.received = 0;
    this.dups = 0;
    this.unknown = 0;
    this.lastAt = 0;
    this.lat = new LatencyRecorder(latCapacity);
    this.latFromSeq = 0;
    this.onProgress = onProgress;
    this.done = new Promise((r) => { this._resolve = r; });
    if (expected === 0) this._resolve();
  }

  /** offset: where this consumer's key range starts (topic subscribers each get a range). */
  take(frame, offset = 0) {
    const t = now();
    this.received++;
    this.lastAt = t;
    this.onProgress();
    const seq = Number(frame.header('x-seq'));
    const ts = Number(frame.header('x-ts'));
    const key = offset + seq;
    if (!Number.isInteger(seq) || key < 0 || key >= this.expected) { this.unknown++; return; }
    if (this.seen[key]) { this.dups++; return; }
    this.seen[key] = 1;
    if (seq >= this.latFromSeq && Number.isFinite(ts)) this.lat.add(t - ts);
    if (++this.distinct === this.expected) this._resolve();
  }
}

/**
 * Bounds one scenario: rejects `failed` on the total limit, on stallMs without progress, or when a
 * connection reports an ERROR frame or drops. Tracks the scenario's connections so they can be closed.
 */
class Watchdog {
  constructor(name, limitMs, stallMs) {
    this.name = name;
    this.conns = [];
    this.aborted = false;
    this.lastProgress = now();
    this.started = now();
    this.phase = 'setup';
    this.failed = new Promise((_, reject) => { this._reject = reject; });
    this.failed.catch(() => {});
    this.timer = setInterval(() => {
      const t = now();
      if (t - this.started > limitMs) this.fail(Object.assign(new Error(`${name}: time limit ${limitMs / 1000} s reached during ${this.phase}`), { timeout: true }));
      else if (t - this.lastProgress > stallMs) this.fail(Object.assign(new Error(`${name}: no progress for ${stallMs / 1000} s during ${this.phase}`), { timeout: true }));
    }, 250);
  }

  progress() { this.lastProgress = now(); }

  fail(err) {
    if (this.aborted) return;
    this.aborted = true;
    this.error = err;
    this._reject(err);
  }

  /** Races a step against the watchdog, so no await in a scenario can outlive its limits. */
  guard(p) { return Promise.race([p, this.failed]); }

  async open(ctx, label) {
    const c = await this.guard(connect(ctx.target, { timeoutMs: 10_000 }));
    c.label = label;
    c.onError = (e) => this.fail(new Error(`${label}: ${e.message}`));
    this.conns.push(c);
    if (this.aborted) c.destroy();
    return c;
  }

  async closeAll() {
    clearInterval(this.timer);
    if (this.aborted) { for (const c of this.conns) c.destroy(); return; }
    await Promise.all(this.conns.map((c) => c.close(3000)));
  }
}

function makeBody(size) {
  // Printable bytes, so that a broker that treats a body as text has no reason to re-encode it.
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + (i % 26);
  return b;
}

function destName(ctx, id, kind = 'queue') {
  return `/${kind}/bench.${ctx.runId}.${id}`;
}

/**
 * Non-persistent is every broker's default, so it is sent as no header at all: RabbitMQ's STOMP adapter
 * reads `persistent:false` on a SEND as "declare this queue non-durable", which then clashes with the
 * durable queue its SUBSCRIBE declared (RESOURCE_LOCKED / connection reset). `persistent:true` agrees.
 */
function persistentHeader(persistent) {
  return persistent ? 'true' : undefined;
}

/** Sends count messages as fast as the socket takes them (write() false -> wait for 'drain'). */
async function produceFast(conn, wd, dest, { count, body, persistent, seqBase = 0 }) {
  const p = persistentHeader(persistent);
  for (let i = 0; i < count; i++) {
    if (wd.aborted) throw wd.error;
    const ok = conn.send(dest, body, { persistent: p, 'x-seq': seqBase + i, 'x-ts': now() });
    if (!ok) await wd.guard(conn.drain());
    else if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
  }
}

/**
 * Sends count messages, each with a receipt, keeping at most `window` receipts outstanding
 * (window 1 = wait for each receipt before the next SEND). Resolves when the last receipt is in.
 */
async function produceWithReceipts(conn, wd, dest, { count, body, persistent, window, receiptLat, seqBase = 0 }) {
  const p = persistentHeader(persistent);
  let inflight = 0;
  let wake = null;
  let lastReceiptAt = 0;
  let failure = null;
  const settle = () => { if (wake) { const w = wake; wake = null; w(); } };
  for (let i = 0; i < count; i++) {
    while (inflight >= window && failure === null && !wd.aborted) await wd.guard(new Promise((r) => { wake = r; }));
    if (failure) throw failure;
    if (wd.aborted) throw wd.error;
    inflight++;
    const t0 = now();
    conn.sendWithReceipt(dest, body, { persistent: p, 'x-seq': seqBase + i, 'x-ts': t0 }).then(() => {
      const t = now();
      inflight--;
      lastReceiptAt = t;
      receiptLat?.add(t - t0);
      wd.progress();
      settle();
    }, (e) => { failure = e; inflight--; settle(); });
  }
  while (inflight > 0 && failure === null && !wd.aborted) await wd.guard(new Promise((r) => { wake = r; }));
  if (failure) throw failure;
  return lastReceiptAt;
}

async function subscribeInto(conn, dest, sink, { ack = 'auto', offset = 0, receipt = true } = {}) {
  const individual = ack !== 'auto';
  return conn.subscribe(dest, (f) => {
    sink.take(f, offset);
    if (individual) conn.ack(f);
  }, { ack, prefetch: PREFETCH, receipt });
}

function result(id, fields) {
  return { id, title: SCENARIOS[id].title, status: 'ok', ...fields };
}

function rateOf(n, ms) {
  return ms > 0 ? Math.round((n / ms) * 1000) : null;
}

// ---------------------------------------------------------------------------------------------------------

async function runQueue1to1(ctx, wd, id, { persistent, window }) {
  const s = ctx.spec;
  const dest = destName(ctx, id);
  const body = makeBody(s.size);
  const sink = ctx.sink = new Sink(s.count, s.count, () => wd.progress());
  const cons = await wd.open(ctx, 'consumer');
  const prod = await wd.open(ctx, 'producer');
  // Subscribing first (with a receipt) means no message waits in the queue for a consumer.
  await wd.guard(subscribeInto(cons, dest, sink, { ack: ctx.consumerAck }));
  const receiptLat = window ? new LatencyRecorder(s.count) : null;
  wd.phase = 'sending';
  const t0 = now();
  if (window) await produceWithReceipts(prod, wd, dest, { count: s.count, body, persistent, window, receiptLat });
  else await produceFast(prod, wd, dest, { count: s.count, body, persistent });
  wd.phase = 'receiving';
  await wd.guard(sink.done);
  const ms = sink.lastAt - t0;
  return result(id, {
    messages: s.count, received: sink.distinct, dups: sink.dups, seconds: round3(ms / 1000), rate: rateOf(s.count, ms),
    latency: sink.lat.summary(), receiptLatency: receiptLat?.summary() ?? undefined,
  });
}

async function runC0(ctx, wd) {
  const s = ctx.spec;
  const dest = destName(ctx, 'c0');
  const body = makeBody(s.size);
  const prod = await wd.open(ctx, 'producer');
  const receiptLat = new LatencyRecorder(s.count);
  wd.phase = 'sending (no consumer)';
  const t0 = now();
  const tLast = await produceWithReceipts(prod, wd, dest, { count: s.count, body, persistent: true, window: 100, receiptLat });
  const ms = tLast - t0;
  // Not timed: empty the queue so the broker is left as it was found, and check nothing was lost.
  wd.phase = 'draining';
  const sink = ctx.sink = new Sink(s.count, 0, () => wd.progress());
  const cons = await wd.open(ctx, 'drainer');
  await wd.guard(subscribeInto(cons, dest, sink));
  await wd.guard(sink.done);
  return result('c0', {
    messages: s.count, received: sink.distinct, dups: sink.dups, seconds: round3(ms / 1000), rate: rateOf(s.count, ms),
    latency: null, receiptLatency: receiptLat.summary(),
    note: 'rate = durable SEND+RECEIPT rate with no consumer; latency is the receipt round trip; queue drained afterwards (untimed)',
  });
}

async function runD(ctx, wd) {
  const s = ctx.spec;
  const dest = destName(ctx, 'd', 'topic');
  const body = makeBody(s.size);
  const subs = s.subscribers;
  const sink = ctx.sink = new Sink(s.count * subs, s.count * subs, () => wd.progress());
  const conns = [];
  for (let i = 0; i < subs; i++) conns.push(await wd.open(ctx, `subscriber ${i + 1}`));
  // A topic keeps nothing for subscribers that are not there yet: wait for every subscription's receipt.
  await wd.guard(Promise.all(conns.map((c, i) => subscribeInto(c, dest, sink, { offset: i * s.count, ack: ctx.consumerAck }))));
  const prod = await wd.open(ctx, 'producer');
  wd.phase = 'sending';
  const t0 = now();
  await produceFast(prod, wd, dest, { count: s.count, body, persistent: false });
  wd.phase = 'receiving';
  await wd.guard(sink.done);
  const ms = sink.lastAt - t0;
  return result('d', {
    messages: s.count, received: sink.distinct, dups: sink.dups, seconds: round3(ms / 1000), rate: rateOf(s.count, ms),
    deliveriesPerSec: rateOf(s.count * subs, ms), latency: sink.lat.summary(),
    note: `rate = messages published and delivered to all ${subs} subscribers per second`,
  });
}

async function runE(ctx, wd) {
  const s = ctx.spec;
  const dest = destName(ctx, 'e');
  const body = makeBody(s.size);
  const per = Math.ceil(s.count / s.producers);
  const total = per * s.producers;
  const sink = ctx.sink = new Sink(total, total, () => wd.progress());
  const cons = [];
  for (let i = 0; i < s.consumers; i++) cons.push(await wd.open(ctx, `consumer ${i + 1}`));
  await wd.guard(Promise.all(cons.map((c) => subscribeInto(c, dest, sink, { ack: 'client-individual' }))));
  const prods = [];
  for (let i = 0; i < s.producers; i++) prods.push(await wd.open(ctx, `producer ${i + 1}`));
  wd.phase = 'sending';
  const t0 = now();
  await wd.guard(Promise.all(prods.map((p, i) => produceFast(p, wd, dest, { count: per, body, persistent: false, seqBase: i * per }))));
  wd.phase = 'receiving';
  await wd.guard(sink.done);
  const ms = sink.lastAt - t0;
  return result('e', {
    messages: total, received: sink.distinct, dups: sink.dups, seconds: round3(ms / 1000), rate: rateOf(total, ms), latency: sink.lat.summary(),
  });
}

async function runLat(ctx, wd) {
  const s = ctx.spec;
  const dest = destName(ctx, 'lat');
  const body = makeBody(s.size);
  const total = s.warmup + s.count;
  const sink = ctx.sink = new Sink(total, s.count, () => wd.progress());
  // The first `warmup` messages (half a second) are not counted: connection and JIT warm-up.
  sink.latFromSeq = s.warmup;
  const cons = await wd.open(ctx, 'consumer');
  const prod = await wd.open(ctx, 'producer');
  await wd.guard(subscribeInto(cons, dest, sink, { ack: ctx.consumerAck }));
  wd.phase = 'sending at a fixed rate';
  const interval = 1000 / s.rate;
  const t0 = now();
  for (let i = 0; i < total; i++) {
    if (wd.aborted) throw wd.error;
    const due = t0 + i * interval;
    const wait = due - now();
    // Timers are ~1 ms coarse; sleeping only when ahead keeps the average rate exact (small catch-up bursts).
    if (wait >= 1) await wd.guard(sleep(Math.floor(wait)));
    const ok = prod.send(dest, body, { 'x-seq': i, 'x-ts': now() });
    if (!ok) await wd.guard(prod.drain());
    wd.progress();
  }
  wd.phase = 'receiving';
  await wd.guard(sink.done);
  const ms = sink.lastAt - t0;
  return result('lat', {
    messages: total, received: sink.distinct, dups: sink.dups, seconds: round3(ms / 1000), rate: rateOf(total, ms), latency: sink.lat.summary(),
    note: `${s.rate} msg/s for ${s.count / s.rate} s after ${s.warmup} warm-up messages; latency is SEND to MESSAGE`,
  });
}

const RUNNERS = {
  a: (ctx, wd) => runQueue1to1(ctx, wd, 'a', { persistent: false, window: 0 }),
  b: (ctx, wd) => runQueue1to1(ctx, wd, 'b', { persistent: true, window: 1 }),
  c: (ctx, wd) => runQueue1to1(ctx, wd, 'c', { persistent: true, window: 100 }),
  c0: runC0,
  d: runD,
  e: runE,
  lat: runLat,
};

/**
 * Runs one scenario against target; never throws: a failure comes back as status 'failed' or 'timeout'
 * with what was measured so far. `scale` shrinks message counts (0.1 for --quick).
 */
export async function runScenario(id, { target, runId, scale = 1, stallMs = 20_000, consumerAck = 'auto' }) {
  const base = SCENARIOS[id];
  if (!base) throw new Error(`unknown scenario ${id}`);
  const spec = { ...base, count: Math.max(10, Math.round(base.count * scale)) };
  if (base.warmup) spec.warmup = Math.max(10, Math.round(base.warmup * Math.min(1, scale * 2)));
  const ctx = { target, runId, spec, consumerAck };
  const wd = new Watchdog(id, spec.limitMs, stallMs);
  // The client's own CPU share: near 100% would mean this process, not the broker, set the pace.
  const cpu0 = process.cpuUsage();
  const t0 = now();
  try {
    const r = await wd.guard(RUNNERS[id](ctx, wd));
    const cpu = process.cpuUsage(cpu0);
    r.clientCpuPct = Math.round(((cpu.user + cpu.system) / 1000 / (now() - t0)) * 100);
    return r;
  } catch (e) {
    const err = wd.error ?? e;
    // What had arrived when it stopped tells a stall (some) from a refusal (none).
    return {
      id, title: base.title, status: err.timeout ? 'timeout' : 'failed', error: err.message,
      messages: ctx.sink?.expected ?? spec.count, received: ctx.sink?.distinct, rate: null,
    };
  } finally {
    await wd.closeAll();
  }
}
