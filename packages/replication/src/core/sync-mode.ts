/**
 * The sync modes as rules the core can count with. ActiveMQ turns the `sync` list into a bitmask
 * (MasterLevelDBStore.syncTo_=): SYNC_TO_DISK for the master's fsync, SYNC_TO_REMOTE_MEMORY / _DISK for
 * `replicas/2` slave acks, in memory or fsynced. We keep those meanings:
 *
 * | mode                     | master       | slaves (replicas/2 of them) |
 * |--------------------------|--------------|-----------------------------|
 * | local_mem                | written      | none                        |
 * | local_disk               | fsynced      | none                        |
 * | remote_mem, quorum_mem   | written      | written                     |
 * | remote_disk              | written      | fsynced                     |
 * | quorum_disk              | fsynced      | fsynced                     |
 *
 * quorum_mem equals remote_mem in ActiveMQ's code (the quorum is the master plus replicas/2 slaves); only
 * quorum_disk is "durable on a majority" ([ActiveMQ replicatedLevelDB: sync=quorum_disk]).
 */
import type { SyncMode } from './types.js';

/** What one sync mode asks for before a write completes. */
export interface SyncRule {
  /** The mode's name, or for a list that matches no single mode (e.g. `local_disk,remote_mem`) the list. */
  readonly name: string;
  /** The master fsyncs its own entries (and waits for that). */
  readonly masterDisk: boolean;
  /** The write waits for replicas/2 slaves (remote_* and quorum_* modes). */
  readonly remote: boolean;
  /** Slaves fsync before they acknowledge, and only durable acks count. */
  readonly slaveDisk: boolean;
}

/** All six modes, weakest first. */
export const SYNC_MODES: readonly SyncMode[] = [
  'local_mem',
  'local_disk',
  'remote_mem',
  'quorum_mem',
  'remote_disk',
  'quorum_disk',
];

const RULES: Readonly<Record<SyncMode, Omit<SyncRule, 'name'>>> = {
  local_mem: { masterDisk: false, remote: false, slaveDisk: false },
  local_disk: { masterDisk: true, remote: false, slaveDisk: false },
  remote_mem: { masterDisk: false, remote: true, slaveDisk: false },
  quorum_mem: { masterDisk: false, remote: true, slaveDisk: false },
  remote_disk: { masterDisk: false, remote: true, slaveDisk: true },
  quorum_disk: { masterDisk: true, remote: true, slaveDisk: true },
};

/** The rule of one mode. */
export function syncRule(mode: SyncMode): SyncRule {
  return { name: mode, ...RULES[mode] };
}

/** True for a name ActiveMQ accepts in `sync`. */
export function isSyncMode(value: string): value is SyncMode {
  return Object.hasOwn(RULES, value);
}

/**
 * Parses ActiveMQ's comma list ("the stronger setting wins"): the union of what each item asks for, e.g.
 * `local_disk,remote_mem` waits for the master's fsync and replicas/2 slaves in memory. The result is named
 * after the single mode that asks for exactly as much, when there is one.
 */
export function parseSync(list: string): SyncRule {
  const items = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new Error(`sync must name at least one of ${SYNC_MODES.join(', ')}, got '${list}'`);
  let masterDisk = false;
  let remote = false;
  let slaveDisk = false;
  for (const item of items) {
    if (!isSyncMode(item)) throw new Error(`sync: unknown mode '${item}'; expected one of ${SYNC_MODES.join(', ')}`);
    const r = RULES[item];
    masterDisk ||= r.masterDisk;
    remote ||= r.remote;
    slaveDisk ||= r.slaveDisk;
  }
  // A single mode keeps its own name (quorum_mem and remote_mem ask for the same, but a user chose one).
  const single = items.length === 1 ? items[0] : SYNC_MODES.find((m) => {
    const r = RULES[m];
    return r.masterDisk === masterDisk && r.remote === remote && r.slaveDisk === slaveDisk;
  });
  return { name: single ?? items.join(','), masterDisk, remote, slaveDisk };
}

/** replicas/2+1: ActiveMQ's clusterSizeQuorum. */
export function quorumOf(replicas: number): number {
  return Math.floor(replicas / 2) + 1;
}

/** replicas/2: the slaves a quorum needs besides the master (ActiveMQ's minSlaveAcks). */
export function slaveQuorumOf(replicas: number): number {
  return Math.floor(replicas / 2);
}
