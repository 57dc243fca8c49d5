/**
 * SequenceAudit: what `mini-amq consume` concludes from the `seq` and `producer-run` headers `mini-amq produce`
 * puts on every message. Per producer run, a message is lost when its seq is missing below the highest seq
 * seen (messages after the last one received cannot be told apart from ones never sent), and duplicated
 * each time a seq arrives again (a redelivery after a failover, or a broker that stored a SEND twice).
 * This assumes one consumer sees the whole run from seq 0: messages another consumer took count as lost.
 * Pure: headers in, counts out; no clock and no IO.
 */
import assert from 'node:assert/strict';

/** The 0-based position of a message in its producer run. */
export const SEQ_HEADER = 'seq';
/** The id of one `mini-amq produce` run, so several runs into one destination are audited apart. */
export const RUN_HEADER = 'producer-run';
/**
 * Highest seq tracked. Seen seqs are kept as bits (12.5 MB at this bound), so a header with a huge number
 * must not make the consumer allocate without limit; such a message counts as untracked.
 */
export const SEQ_TRACKED_MAX = 100_000_000;
/** Most producer runs tracked at once; messages of further runs count as untracked. */
export const RUNS_TRACKED_MAX = 1_000;

/** What one producer run's messages showed. */
export interface RunAudit {
  readonly producerRun: string;
  /** Messages of this run received, repeats included. */
  readonly received: number;
  /** Distinct seqs received. */
  readonly distinct: number;
  /** Lowest seq seen: above 0 when the run's first messages went to another consumer (or were lost). */
  readonly minSeq: number;
  readonly maxSeq: number;
  /** seqs missing below maxSeq. */
  readonly lost: number;
  /** Receptions beyond the first of a seq. */
  readonly duplicates: number;
}

/** The audit of everything received. */
export interface AuditSummary {
  readonly received: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Messages without usable `seq` and `producer-run` headers (not sent by `mini-amq produce`). */
  readonly untracked: number;
  readonly runs: readonly RunAudit[];
}

/** A growable set of small non-negative integers, as bits. */
class SeqSet {
  private bits = new Uint8Array(128);
  size = 0;
  min = Infinity;
  max = -1;

  /** Adds `seq`; false when it was already there. */
  add(seq: number): boolean {
    const byte = seq >>> 3;
    if (byte >= this.bits.length) {
      let length = this.bits.length;
      while (length <= byte) length *= 2;
      const grown = new Uint8Array(length);
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (seq & 7);
    if ((this.bits[byte]! & mask) !== 0) return false;
    this.bits[byte]! |= mask;
    this.size++;
    if (seq > this.max) this.max = seq;
    if (seq < this.min) this.min = seq;
    return true;
  }
}

interface RunState { readonly seen: SeqSet; received: number }

const SEQ_TEXT = /^\d{1,15}$/;

export class SequenceAudit {
  private readonly runs = new Map<string, RunState>();
  private untracked = 0;
  private received = 0;

  /** Counts one received message from its `producer-run` and `seq` header values. */
  record(producerRun: string | undefined, seqText: string | undefined): void {
    this.received++;
    const seq = seqText !== undefined && SEQ_TEXT.test(seqText) ? Number(seqText) : NaN;
    if (producerRun === undefined || producerRun === '' || !(seq <= SEQ_TRACKED_MAX)) {
      this.untracked++;
      return;
    }
    let run = this.runs.get(producerRun);
    if (run === undefined) {
      if (this.runs.size >= RUNS_TRACKED_MAX) {
        this.untracked++;
        return;
      }
      run = { seen: new SeqSet(), received: 0 };
      this.runs.set(producerRun, run);
    }
    run.received++;
    run.seen.add(seq);
  }

  summary(): AuditSummary {
    const runs: RunAudit[] = [...this.runs].map(([producerRun, { seen, received }]) => {
      const lost = seen.max + 1 - seen.size;
      const duplicates = received - seen.size;
      assert(lost >= 0 && duplicates >= 0, 'SequenceAudit: counts went negative');
      return { producerRun, received, distinct: seen.size, minSeq: seen.min, maxSeq: seen.max, lost, duplicates };
    });
    const sum = (pick: (r: RunAudit) => number) => runs.reduce((n, r) => n + pick(r), 0);
    const summary = { received: this.received, lost: sum((r) => r.lost), duplicates: sum((r) => r.duplicates), untracked: this.untracked, runs };
    assert.equal(sum((r) => r.received) + this.untracked, this.received, 'SequenceAudit: every message is in one run or untracked');
    return summary;
  }
}
