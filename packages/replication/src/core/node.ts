/**
 * ReplicaNode: the pure state machine of one broker in a replication group, driven like etcd's RawNode:
 * ```ts
 * node.step(event); node.tick();
 * while (node.hasReady()) { const rd = node.ready(); act on rd in its documented order; node.advance(rd); }
 * ```
 * No IO, no clock, no randomness: the shell (ZooKeeper client, TCP links, LevelDB) or the simulation feeds
 * it events and carries out its Readies.
 *
 * Roles. A node is a candidate (not following a live master: it reports its position for the current
 * epoch), a slave (following the master the elected record names) or a master (of the epoch its CAS of the
 * elected record created). See election.ts for who wins, master.ts and slave.ts for log shipping.
 *
 * Why a completed write survives (the argument the simulation checks). Say write W sits at index i, created
 * by the master of epoch E, and completed in a quorum mode: a set S of at least replicas/2+1 nodes (the
 * master and replicas/2 slaves) acknowledged holding it.
 * 1. The promise. A node reports its position for epoch E only after it has stopped following, and from
 *    that moment (the promise is fsynced before the report is published) it rejects every entry, truncation
 *    and snapshot from a master of epoch E or older. So a master of E cannot gather acknowledgements from a
 *    node whose report may elect someone else: every node of S acknowledged W *before* it reported for E.
 * 2. The next election (epoch E+1) reads reports made for epoch E by a quorum P of members. P and S share a
 *    node x, whose reported position is therefore at least (E, i): it held W, its last entry is of epoch E
 *    (nothing newer exists yet), and a log's epochs never go down.
 * 3. The winner's position is the greatest in P, so at least (E, i); its last entry is of epoch E at an index
 *    ≥ i, which it can only have got from E's master after a matching prefix (Log Matching): it holds W.
 * 4. Induction over later epochs (Raft's Leader Completeness, §5.4.3): every later master holds W when
 *    elected, and masters never drop entries; slaves only drop entries their master does not hold, so the
 *    holders of W stay holders and the same intersection argument applies to every later election.
 * What makes "the greatest position of a quorum has every completed write" true is step 1: without the
 * promise, a master cut off from ZooKeeper could keep completing writes with acks from nodes that are
 * already electing a successor who lacks them (the `acceptAppendsAfterReport` flaw shows the checker
 * catching exactly that). A node that lost un-fsynced writes (power loss in a *_mem mode) is `recovering`:
 * it cannot be elected nor counted until it has caught up with a master past every write that may have
 * completed, so its shrunken log never stands in for what it once acknowledged.
 *
 * Fencing. A master stops completing writes the moment it learns its session expired, a newer epoch exists,
 * or the group fell below a quorum; in remote/quorum modes also when it has not heard from replicas/2 slaves
 * for `quorumTicks`. Its pending writes are failed with REPL_FENCED and it becomes a candidate again.
 */
import { NodeContext, type ResolvedConfig } from './context.js';
import { currentMembers, evaluateElection } from './election.js';
import type { LogImage } from './log.js';
import { Mastership } from './master.js';
import { Membership } from './membership.js';
import { Followership } from './slave.js';
import type {
  CoordinatorView,
  HardState,
  LogPosition,
  NodeEvent,
  NodeId,
  PeerMessage,
  Ready,
} from './types.js';
import { formatPosition } from './types.js';
import { resolveConfig, type ReplicaConfig } from './config.js';

/** What a node restarts from (the shell reads it from its store). */
export interface RestoredNode {
  readonly hard: HardState;
  readonly log: LogImage;
  /**
   * The store may have lost writes it had not fsynced (the machine lost power: e.g. its boot id changed
   * since the store was last used, and the sync mode leaves some writes unsynced). The node then recovers
   * before it may be elected. The shell must keep saying so on every restart until the node's hard state
   * reads `recovering` (the node writes and fsyncs it in its first Ready): a crash before that would
   * otherwise make the loss forgotten.
   */
  readonly lostWrites: boolean;
}

/** A fresh node: empty log, epoch 0. */
export const EMPTY_NODE: RestoredNode = Object.freeze({
  hard: { epoch: 0, promised: 0, recovering: false },
  log: { base: { epoch: 0, index: 0 }, baseHistory: [], entries: [] },
  lostWrites: false,
});

/** A node's state for status lines and tests. */
export interface NodeStatus {
  readonly id: NodeId;
  readonly role: 'candidate' | 'slave' | 'master';
  readonly epoch: number;
  readonly serving: boolean;
  readonly masterId: NodeId | null;
  readonly position: LogPosition;
  readonly commitIndex: number;
  readonly recovering: boolean;
  readonly detail: string;
}

/** The replication state machine of one broker; see the file comment. */
export class ReplicaNode {
  private readonly ctx: NodeContext;
  private readonly config: ResolvedConfig;
  private view: CoordinatorView | null = null;
  private role: Mastership | Followership | null = null;
  private casPending = false;
  /** The epoch our outstanding CAS of the elected record would create. */
  private casEpoch = 0;
  private readonly member: Membership;
  private detail = 'starting: waiting for ZooKeeper';

  constructor(config: ReplicaConfig, restored: RestoredNode = EMPTY_NODE) {
    this.config = resolveConfig(config);
    this.ctx = new NodeContext(this.config, restored.hard, restored.log);
    this.member = new Membership(this.ctx);
    if (restored.lostWrites && !restored.hard.recovering) this.ctx.setHard({ recovering: true });
    // Register as "not reported": the first view tells us whether to follow or to report.
    this.member.register();
  }

  // ------------------------------------------------------------------ the driving API

  step(event: NodeEvent): void {
    switch (event.kind) {
      case 'coordinator':
        this.view = event.view;
        this.reconcile();
        break;
      case 'cas-result':
        this.onCasResult(event.ok);
        break;
      case 'peer':
        this.onPeer(event.from, event.message);
        break;
      case 'write':
        if (!(this.role instanceof Mastership) || !this.role.write(event.id, event.payload)) {
          this.ctx.out.failed({ id: event.id, code: 'REPL_NOT_MASTER' });
        }
        break;
      case 'snapshot-read':
        if (this.role instanceof Mastership) this.role.onSnapshotRead(event.id, event.through, event.chunks);
        break;
      case 'peer-link':
        if (this.role instanceof Mastership) this.role.forget(event.peer);
        break;
    }
    this.update();
  }

  tick(): void {
    this.ctx.now++;
    if (this.role instanceof Mastership) {
      const reason = this.role.tick();
      if (reason !== null) this.fenceAndReconcile(reason);
    } else if (this.role instanceof Followership) {
      this.role.tick();
    }
    this.update();
  }

  hasReady(): boolean {
    return !this.ctx.out.isEmpty;
  }

  ready(): Ready {
    return this.ctx.out.drain();
  }

  /** The shell has acted on `ready`: its entries are written (fsynced if it said so). */
  advance(ready: Ready): void {
    this.ctx.advance(ready);
    this.update();
  }

  // ------------------------------------------------------------------ observation

  get id(): NodeId {
    return this.config.id;
  }

  /** Highest epoch known (never decreases, survives restarts). */
  get epoch(): number {
    return this.ctx.hard.epoch;
  }

  get hardState(): HardState {
    return this.ctx.hard;
  }

  get lastPosition(): LogPosition {
    return this.ctx.last;
  }

  get commitIndex(): number {
    return this.ctx.commit;
  }

  /** The epoch this node is master of, serving or not yet; null otherwise. */
  get masterEpoch(): number | null {
    return this.role instanceof Mastership ? this.role.epoch : null;
  }

  /** Master with its client ports open: writes sent here may complete. */
  get isServing(): boolean {
    return this.role instanceof Mastership && this.role.serving;
  }

  /** What a master knows of each slave (empty on a non-master), for status pages. */
  slaves(): ReadonlyArray<{ readonly peer: NodeId; readonly state: string; readonly match: number; readonly durable: number }> {
    return this.role instanceof Mastership
      ? this.role.slaves().map((p) => ({ peer: p.peer, state: p.state, match: p.match, durable: p.durable }))
      : [];
  }

  status(): NodeStatus {
    const r = this.role;
    let detail = this.detail;
    if (r instanceof Mastership) {
      detail = r.serving
        ? `master of epoch ${r.epoch}, serving`
        : `master of epoch ${r.epoch}: waiting for ${this.config.slaveQuorum} slave(s) to hold index ${r.floor}`;
    } else if (r instanceof Followership && r.rejection !== null) {
      detail = `master ${r.master} rejects us: ${r.rejection}`;
    }
    return {
      id: this.config.id,
      role: r instanceof Mastership ? 'master' : r instanceof Followership ? 'slave' : 'candidate',
      epoch: this.ctx.hard.epoch,
      serving: this.isServing,
      masterId: r instanceof Mastership ? this.config.id : r instanceof Followership ? r.master : null,
      position: this.ctx.last,
      commitIndex: this.ctx.commit,
      recovering: this.ctx.hard.recovering,
      detail,
    };
  }

  // ------------------------------------------------------------------ coordinator

  /** Decides from the latest view what this node should be, and tells ZooKeeper. */
  private reconcile(): void {
    const view = this.view;
    if (view === null) return;
    const { ctx, config } = this;
    if (view.session === 'expired') {
      // Our ephemeral znode is gone: others may be electing right now. A master stops at once.
      if (this.role instanceof Mastership) this.fence('ZooKeeper session expired');
      this.casPending = false;
      // Each expiry notice is about the session we last registered: open a new one.
      this.member.register();
      this.detail = 'ZooKeeper session expired: registering again';
      return;
    }
    const { epoch: E, masterId } = view.elected;
    ctx.learnEpoch(E);

    if (this.role instanceof Mastership) {
      const m = this.role;
      const members = currentMembers(view.members).length;
      if (E > m.epoch || (E === m.epoch && masterId !== config.id)) {
        this.fence(`the elected record moved to ${masterId ?? 'nobody'} at epoch ${E}`);
      } else if (members < config.quorum) {
        this.fence(
          `Not enough cluster members connected to keep a master (${members} of ${config.replicas} connected, ${config.quorum} needed)`,
        );
      } else {
        this.member.publish(null, m.epoch);
        return;
      }
    }

    const decision = evaluateElection(view, config.replicas, config.flaws);
    this.detail = decision.status;
    const hard = ctx.hard;
    if (decision.kind === 'master-live' && decision.masterId !== config.id && E >= hard.epoch && E > hard.promised) {
      this.follow(decision.masterId, E);
      return;
    }
    const keepFollowing = config.flaws.acceptAppendsAfterReport === true && this.role instanceof Followership;
    if (this.role instanceof Followership && !keepFollowing) this.role = null;
    if (hard.recovering) {
      // Not eligible: wait for a master elected by others, then catch up.
      this.member.publish(null, E);
      this.detail = `recovering lost writes; ${decision.status}`;
      return;
    }
    // The promise (see the class comment) is fsynced before the report is published: persist precedes
    // coordinator requests in a Ready.
    ctx.setHard({ promised: Math.max(hard.promised, E) });
    // Yielding rests on every completed write being on a quorum, which only the remote/quorum modes promise:
    // a local_* master may hold completed writes no one else has, so it must compete on its position.
    this.member.publish(ctx.last, E, masterId === config.id && config.sync.remote);
    if (decision.kind === 'master-live') {
      // The view still shows a master we cannot follow (ourselves, or an epoch we reported for).
      this.detail = `reported ${formatPosition(ctx.last)} for epoch ${E}; waiting for ZooKeeper to show ${decision.masterId}'s epoch over`;
    }
    if (decision.kind === 'elect' && decision.winner === config.id && !this.casPending && E >= ctx.hard.epoch) {
      this.casPending = true;
      this.casEpoch = decision.epoch;
      ctx.out.request({ kind: 'cas-elected', epoch: decision.epoch, masterId: config.id, expectedVersion: decision.expectedVersion });
    }
  }

  private onCasResult(ok: boolean): void {
    if (!this.casPending) return;
    this.casPending = false;
    const epoch = this.casEpoch;
    // Won, unless something newer happened meanwhile (then the record has moved on and we will see it).
    if (ok && !(this.role instanceof Mastership) && epoch > this.ctx.hard.epoch) {
      this.role = new Mastership(this.ctx, epoch);
      this.ctx.setHard({ epoch });
      this.member.publish(null, epoch);
    } else {
      this.reconcile();
    }
  }

  private follow(master: NodeId, epoch: number): void {
    this.member.publish(null, epoch);
    if (this.role instanceof Followership && this.role.master === master && this.role.epoch === epoch) return;
    this.role = new Followership(this.ctx, master, epoch);
    this.ctx.out.setRole({ role: 'slave', epoch, masterId: master, reason: `slave of ${master} at epoch ${epoch}` });
  }

  private fence(reason: string): void {
    const m = this.role;
    if (!(m instanceof Mastership)) return;
    for (const id of m.abandon()) this.ctx.out.failed({ id, code: 'REPL_FENCED' });
    this.role = null;
    this.ctx.out.setRole({ role: 'fenced', epoch: m.epoch, masterId: null, reason });
    this.detail = `fenced: ${reason}`;
  }

  private fenceAndReconcile(reason: string): void {
    this.fence(reason);
    this.reconcile();
  }

  // ------------------------------------------------------------------ peers

  private onPeer(from: NodeId, message: PeerMessage): void {
    const { ctx, config } = this;
    const r = this.role;
    if (r instanceof Mastership) {
      const reason = r.onPeer(from, message);
      if (reason !== null) {
        ctx.learnEpoch(message.epoch);
        this.fenceAndReconcile(reason);
      }
      return;
    }
    switch (message.type) {
      case 'LOGIN':
      case 'SYNC':
      case 'ACK':
        // A slave still thinks we are master (its view lags, or we restarted): it will see the view.
        ctx.out.message(from, { type: 'REJECT', epoch: ctx.hard.epoch, reason: `${config.id} is not master` });
        return;
      case 'REJECT':
        ctx.learnEpoch(message.epoch);
        if (r instanceof Followership && from === r.master) r.rejection = message.reason;
        return;
      default:
        break;
    }
    // From a master: APPEND, TRUNCATE, SNAPSHOT_*.
    const hard = ctx.hard;
    const promiseHolds = config.flaws.acceptAppendsAfterReport !== true;
    if (message.epoch < hard.epoch || (promiseHolds && message.epoch <= hard.promised)) {
      ctx.out.message(from, {
        type: 'REJECT',
        epoch: hard.epoch,
        reason: `epoch ${message.epoch} is over: ${config.id} knows epoch ${hard.epoch} and reported for ${hard.promised}`,
      });
      return;
    }
    // A newer master we do not follow yet (our view lags): it will be followed once ZooKeeper says so.
    if (!(r instanceof Followership) || r.master !== from || r.epoch !== message.epoch) return;
    r.onPeer(message);
    if (!ctx.hard.recovering && this.member.published?.recovering === true) this.reconcile();
  }

  // ------------------------------------------------------------------ bookkeeping after every input

  private update(): void {
    const r = this.role;
    if (r instanceof Mastership && r.update()) {
      this.ctx.out.setRole({ role: 'master', epoch: r.epoch, masterId: this.config.id, reason: `serving epoch ${r.epoch}` });
    }
    this.ctx.compactIfDue();
  }
}
