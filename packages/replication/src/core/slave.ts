/**
 * Followership: a slave following the master ZooKeeper names for one epoch. It logs in and sends its
 * position and epoch history (SYNC), drops whatever the master does not share (TRUNCATE, or a conflicting
 * APPEND), installs a snapshot when it is behind the master's retained tail, then appends and acknowledges
 * live entries. Every message is checked against the epoch it follows, so that a deposed master, a
 * duplicate or a reordered message can never make it drop an entry the master holds.
 */
import { commonPrefix } from './history.js';
import type { NodeContext } from './context.js';
import type {
  AppendMessage,
  EpochStart,
  LogPosition,
  NodeId,
  PeerMessage,
  TruncateMessage,
} from './types.js';

/** A snapshot being received; its parts may arrive in any order. */
interface IncomingSnapshot {
  readonly id: number;
  /** From SNAPSHOT_START, once it has arrived. */
  start: { readonly through: LogPosition; readonly history: readonly EpochStart[] } | null;
  readonly chunks: unknown[];
  received: number;
  ended: boolean;
}

/** The slave side of the protocol for one master; see the file comment. */
export class Followership {
  readonly master: NodeId;
  readonly epoch: number;
  /** The master's last refusal (e.g. "Invalid security_token"), until it accepts us. */
  rejection: string | null = null;
  private readonly ctx: NodeContext;
  private lastHeard: number;
  private snapshot: IncomingSnapshot | null = null;

  constructor(ctx: NodeContext, master: NodeId, epoch: number) {
    this.ctx = ctx;
    this.master = master;
    this.epoch = epoch;
    this.lastHeard = ctx.now;
    this.sendLoginSync();
  }

  /** Handles a message from the master followed (the node routes nothing else here). */
  onPeer(message: PeerMessage): void {
    this.lastHeard = this.ctx.now;
    if (message.type !== 'REJECT') this.rejection = null;
    switch (message.type) {
      case 'APPEND':
        this.onAppend(message);
        return;
      case 'TRUNCATE':
        this.onTruncate(message);
        return;
      case 'SNAPSHOT_START': {
        const s = this.incoming(message.id, message.chunks);
        if (s !== null) s.start = { through: message.through, history: message.history };
        this.installIfComplete();
        return;
      }
      case 'SNAPSHOT_CHUNK': {
        const s = this.incoming(message.id, message.chunks);
        if (s === null || message.seq >= s.chunks.length) return;
        if (s.chunks[message.seq] === undefined) s.received++;
        s.chunks[message.seq] = message.data;
        this.installIfComplete();
        return;
      }
      case 'SNAPSHOT_END':
        if (this.snapshot?.id === message.id) {
          this.snapshot.ended = true;
          this.installIfComplete();
        }
        return;
      case 'REJECT':
      case 'LOGIN':
      case 'SYNC':
      case 'ACK':
        return;
    }
  }

  /** Retries LOGIN and SYNC when the master has been silent too long (they or its answers were lost). */
  tick(): void {
    if (this.ctx.now - this.lastHeard >= this.ctx.config.ticks.syncRetryTicks) this.sendLoginSync();
  }

  private sendLoginSync(): void {
    const { ctx } = this;
    this.lastHeard = ctx.now;
    this.snapshot = null; // a transfer cut short is started again from the master's answer
    ctx.out.message(this.master, { type: 'LOGIN', epoch: this.epoch, securityToken: ctx.config.securityToken });
    this.sendSync();
  }

  private sendSync(): void {
    const { ctx } = this;
    ctx.out.message(this.master, {
      type: 'SYNC',
      epoch: this.epoch,
      last: ctx.last,
      history: [...ctx.log.history],
      durableIndex: ctx.durableIndex,
    });
  }

  private onAppend(m: AppendMessage): void {
    const { ctx } = this;
    const { log } = ctx;
    const sync = ctx.config.sync.slaveDisk;
    // Raft's consistency check: we must hold the entry just before the new ones. If not, our log is not
    // what the master thinks: tell it where we are.
    if (m.prevIndex > log.lastIndex || log.epochAt(m.prevIndex) !== m.prevEpoch) {
      this.sendSync();
      return;
    }
    for (const entry of m.entries) {
      if (entry.index <= log.lastIndex) {
        if (log.epochAt(entry.index) === entry.epoch) continue; // held already (a resend)
        if (entry.index - 1 < log.base.index) {
          // Our compacted base disagrees with the master (it came from a snapshot of a deposed master's
          // log): start from nothing and take a snapshot.
          ctx.reset(sync);
          this.sendSync();
          return;
        }
        ctx.truncateAfter(entry.index - 1, sync);
      }
      ctx.appendEntry(entry, sync);
    }
    const matched = m.prevIndex + m.entries.length;
    this.ack(matched);
    // Raft: commit what the master committed, as far as we are known to match it.
    ctx.commit = Math.max(ctx.commit, Math.min(m.commitIndex, matched));
    if (ctx.hard.recovering && matched >= m.floor) ctx.setHard({ recovering: false });
  }

  private onTruncate(m: TruncateMessage): void {
    const { ctx } = this;
    const { log } = ctx;
    // The master's own epoch only grows while it is master: every entry of that epoch we hold, it holds,
    // also when this TRUNCATE was sent before the master wrote any (then its run would start right after
    // `last`, the master's log when elected). So the master's own run is open-ended.
    const own = m.history[m.history.length - 1]?.epoch === m.epoch;
    const masterHistory = own ? m.history : [...m.history, { epoch: m.epoch, start: m.last + 1 }];
    const k = commonPrefix(log.history, log.lastIndex, masterHistory, Infinity);
    if (k >= log.lastIndex) return;
    if (k < log.base.index) {
      ctx.reset(ctx.config.sync.slaveDisk);
      this.sendSync();
      return;
    }
    ctx.truncateAfter(k, ctx.config.sync.slaveDisk);
  }

  /**
   * The transfer with this id, begun by whichever of its messages arrives first. A master numbers its
   * snapshots upwards, so an older transfer's stragglers are ignored (null) and a newer one replaces it.
   */
  private incoming(id: number, chunks: number): IncomingSnapshot | null {
    const s = this.snapshot;
    if (s !== null && s.id === id) return s;
    if (s !== null && s.id > id) return null;
    this.snapshot = { id, start: null, chunks: new Array<unknown>(chunks), received: 0, ended: false };
    return this.snapshot;
  }

  private installIfComplete(): void {
    const s = this.snapshot;
    if (s === null || s.start === null || !s.ended || s.received < s.chunks.length) return;
    this.snapshot = null;
    const { ctx } = this;
    const { log } = ctx;
    // Holding the snapshot's last entry means (Log Matching) holding all it covers: installing it would only
    // drop entries after it that match the master, which an earlier ACK may already have counted.
    const { through, history } = s.start;
    const held = through.index <= log.lastIndex && log.epochAt(through.index) === through.epoch;
    if (!held) ctx.install({ through, history, chunks: s.chunks }, ctx.config.sync.slaveDisk);
    this.ack(through.index);
  }

  private ack(index: number): void {
    const { ctx } = this;
    const durable = ctx.config.sync.slaveDisk;
    // In a disk mode the ACK must not claim what is not fsynced: entries held from before (as master, in
    // remote_disk, unsynced) are fsynced with this Ready.
    if (durable && ctx.durableIndex < index) ctx.out.sync();
    ctx.out.message(this.master, { type: 'ACK', epoch: this.epoch, index, durable });
  }
}
