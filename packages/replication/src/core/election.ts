/**
 * The election, as a pure function of what ZooKeeper shows (after ActiveMQ's MasterElector, with epochs):
 * - Members are the newest registration of each id (a restarted node's old znode lingers until its session
 *   expires, and says nothing about the new process).
 * - The elected master is live while its member znode exists, is not recovering, and has not reported a
 *   position for the current epoch (reporting is how a node says "I am not serving this epoch").
 * - With the master not live, at least a quorum of eligible (not recovering) members, and every one of them
 *   having reported its position for the current epoch, the greatest (epoch, index) wins, then the greater
 *   weight, then the smaller id. A yielding member (a deposed master reporting while the record still names
 *   it) is passed over when the others that reported are a quorum by themselves: any quorum holds every
 *   completed write (the argument in node.ts), so the greatest of them does too, and the deposed master
 *   rejoins as a slave, as ActiveMQ users expect. With fewer others it competes like anyone: safety first.
 *   Every node computes the same winner from the same view; only the winner
 *   writes the elected record, with a CAS against the version it saw.
 */
import { quorumOf } from './sync-mode.js';
import type { CoordinatorView, LogPosition, MemberRecord, NodeId } from './types.js';
import { comparePositions, formatPosition } from './types.js';

/** What a view says to do. */
export type ElectionDecision =
  | { readonly kind: 'master-live'; readonly masterId: NodeId; readonly epoch: number; readonly status: string }
  | { readonly kind: 'wait'; readonly status: string }
  | {
    readonly kind: 'elect';
    readonly winner: NodeId;
    readonly position: LogPosition;
    /** The epoch the winner will hold: the current one plus one. */
    readonly epoch: number;
    readonly expectedVersion: number;
    readonly status: string;
  };

/** Test-only weakenings, to prove that the checker notices when a safety rule is dropped. */
export interface ElectionFlaws {
  /** Compare positions by index alone, as ActiveMQ's byte offsets did. */
  readonly electByIndexOnly?: boolean;
}

/** The newest registration of each member id, in id order. */
export function currentMembers(members: readonly MemberRecord[]): MemberRecord[] {
  const byId = new Map<NodeId, MemberRecord>();
  for (const m of members) {
    const seen = byId.get(m.id);
    if (seen === undefined || m.seq > seen.seq) byId.set(m.id, m);
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** True when the view's elected master is serving the current epoch, as far as ZooKeeper shows. */
export function masterIsLive(view: CoordinatorView, members: readonly MemberRecord[] = currentMembers(view.members)): boolean {
  const { masterId, epoch } = view.elected;
  if (masterId === null) return false;
  const m = members.find((r) => r.id === masterId);
  if (m === undefined || m.recovering) return false;
  return m.position === null || m.forEpoch < epoch;
}

/** Orders candidates best first: position, then weight (higher wins), then id (smaller wins). */
function better(a: MemberRecord, b: MemberRecord, flaws: ElectionFlaws): number {
  const pa = a.position!;
  const pb = b.position!;
  const byPosition = flaws.electByIndexOnly ? pb.index - pa.index : comparePositions(pb, pa);
  if (byPosition !== 0) return byPosition;
  if (a.weight !== b.weight) return b.weight - a.weight;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Decides what a view calls for; see the file comment. */
export function evaluateElection(view: CoordinatorView, replicas: number, flaws: ElectionFlaws = {}): ElectionDecision {
  const members = currentMembers(view.members);
  const { epoch, masterId, version } = view.elected;
  if (masterId !== null && masterIsLive(view, members)) {
    return { kind: 'master-live', masterId, epoch, status: `master is ${masterId} at epoch ${epoch}` };
  }
  const eligible = members.filter((m) => !m.recovering);
  const recovering = members.length - eligible.length;
  const needed = quorumOf(replicas);
  if (eligible.length < needed) {
    const extra = recovering > 0 ? `; ${recovering} recovering lost writes` : '';
    return {
      kind: 'wait',
      status:
        `Not enough cluster members connected to elect a master ` +
        `(${eligible.length} of ${replicas} connected, ${needed} needed${extra})`,
    };
  }
  const reported = eligible.filter((m) => m.position !== null && m.forEpoch === epoch);
  if (reported.length < eligible.length) {
    return {
      kind: 'wait',
      status:
        `Not enough cluster members have reported their positions yet ` +
        `(${reported.length} of ${eligible.length} reported for epoch ${epoch})`,
    };
  }
  const others = reported.filter((m) => m.yielding !== true);
  const candidates = others.length >= needed ? others : reported;
  const winner = [...candidates].sort((a, b) => better(a, b, flaws))[0]!;
  return {
    kind: 'elect',
    winner: winner.id,
    position: winner.position!,
    epoch: epoch + 1,
    expectedVersion: version,
    status: `electing ${winner.id} at ${formatPosition(winner.position!)} for epoch ${epoch + 1}`,
  };
}
