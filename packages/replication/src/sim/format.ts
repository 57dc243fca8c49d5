/**
 * Renders what a node does (its Ready) and the messages it sends as one short line each: the lines of the
 * scenario scripts, and of `npm run sim -- --seed N --verbose`, that a reviewer reads to follow an
 * election, a truncation or a catch-up.
 */
import type { CoordinatorView, EpochStart, PeerMessage, PersistOp, Ready, ReplicatedEntry } from '../core/types.js';
import { formatPosition } from '../core/types.js';

function entry(e: ReplicatedEntry): string {
  return `${String(e.payload)}@(${e.epoch},${e.index})`;
}

/** Entries in full when few, else the first and the last. */
export function entries(list: readonly ReplicatedEntry[]): string {
  if (list.length <= 4) return `[${list.map(entry).join(' ')}]`;
  return `[${entry(list[0]!)} … ${entry(list[list.length - 1]!)}] (${list.length})`;
}

function history(h: readonly EpochStart[]): string {
  return h.length === 0 ? '-' : h.map((r) => `${r.epoch}:${r.start}`).join(',');
}

/** One peer message. */
export function message(m: PeerMessage): string {
  switch (m.type) {
    case 'LOGIN':
      return `LOGIN e${m.epoch} token=${m.securityToken}`;
    case 'SYNC':
      return `SYNC e${m.epoch} last=${formatPosition(m.last)} history=${history(m.history)} durable=${m.durableIndex}`;
    case 'APPEND':
      return `APPEND e${m.epoch} prev=(${m.prevEpoch},${m.prevIndex}) ${entries(m.entries)} commit=${m.commitIndex} floor=${m.floor}`;
    case 'ACK':
      return `ACK e${m.epoch} index=${m.index}${m.durable ? ' durable' : ''}`;
    case 'TRUNCATE':
      return `TRUNCATE e${m.epoch} history=${history(m.history)} last=${m.last}`;
    case 'SNAPSHOT_START':
      return `SNAPSHOT_START e${m.epoch} #${m.id} through=${formatPosition(m.through)} chunks=${m.chunks}`;
    case 'SNAPSHOT_CHUNK':
      return `SNAPSHOT_CHUNK e${m.epoch} #${m.id} ${m.seq + 1}/${m.chunks}`;
    case 'SNAPSHOT_END':
      return `SNAPSHOT_END e${m.epoch} #${m.id}`;
    case 'REJECT':
      return `REJECT e${m.epoch} "${m.reason}"`;
  }
}

function op(o: PersistOp): string {
  switch (o.kind) {
    case 'hard-state':
      return `hard-state epoch=${o.state.epoch} promised=${o.state.promised}${o.state.recovering ? ' recovering' : ''}`;
    case 'append':
      return `append ${entries(o.entries)}`;
    case 'truncate':
      return `truncate after ${o.after}`;
    case 'install':
      return `install snapshot through ${formatPosition(o.snapshot.through)} (${o.snapshot.chunks.length} chunks)`;
    case 'reset':
      return 'reset';
    case 'compact':
      return `compact through ${formatPosition(o.through)}`;
  }
}

/** Every action of one Ready, in the order the shell performs them. */
export function ready(id: string, rd: Ready): string[] {
  const lines: string[] = [];
  const ops = rd.persist.ops.map(op);
  if (ops.length > 0 || rd.persist.sync) {
    lines.push(`${id} persist ${ops.join('; ')}${rd.persist.sync ? (ops.length > 0 ? ' +fsync' : 'fsync') : ''}`);
  }
  for (const s of rd.send) lines.push(`${id} -> ${s.to} ${message(s.message)}`);
  for (const c of rd.coordinator) {
    if (c.kind === 'cas-elected') {
      lines.push(`${id} zk cas elected epoch=${c.epoch} master=${c.masterId} if version=${c.expectedVersion}`);
    } else {
      const d = c.data;
      const pos = d.position === null ? 'none' : `${formatPosition(d.position)} for epoch ${d.forEpoch}`;
      lines.push(`${id} zk ${c.kind} position=${pos}${d.recovering ? ' recovering' : ''}`);
    }
  }
  for (const r of rd.snapshotReads) lines.push(`${id} read snapshot #${r.id} for ${r.peer}`);
  if (rd.complete.length > 0) lines.push(`${id} complete ${rd.complete.join(' ')}`);
  for (const f of rd.fail) lines.push(`${id} fail ${f.id} ${f.code}`);
  if (rd.role !== null) lines.push(`${id} role ${rd.role.role} epoch=${rd.role.epoch}: ${rd.role.reason}`);
  return lines;
}

/** A coordinator view: session, elected record and members with what they reported. */
export function view(v: CoordinatorView): string {
  const members = v.members
    .map((m) => `${m.id}#${m.seq}=${m.position === null ? (m.recovering ? 'recovering' : 'none') : `${formatPosition(m.position)}@e${m.forEpoch}`}`)
    .join(' ');
  return `${v.session}, elected epoch=${v.elected.epoch} master=${v.elected.masterId ?? '-'} v${v.elected.version}; ${members}`;
}
