/**
 * A node's settings, with ActiveMQ's names where a user sets them (`replicas`, `weight`, `securityToken`,
 * `sync`), validated once: a bad combination is rejected with a sentence that names the setting.
 */
import type { NodeFlaws, ResolvedConfig } from './context.js';
import { ReplError } from './errors.js';
import { DEFAULT_TICKS, LOG_TAIL_ENTRIES_DEFAULT, type TickLimits } from './limits.js';
import { parseSync, quorumOf, slaveQuorumOf } from './sync-mode.js';
import type { NodeId } from './types.js';

/** What a shell passes to create a node. */
export interface ReplicaConfig {
  readonly id: NodeId;
  /** Where slaves reach this node's replication port; defaults to the id. */
  readonly address?: string;
  /** Default 1 (ActiveMQ's). */
  readonly weight?: number;
  /** Nodes in the group, 2N+1; default 3. */
  readonly replicas?: number;
  /** A mode or ActiveMQ's comma list; default quorum_mem. */
  readonly sync?: string;
  /** Default "" (ActiveMQ's). */
  readonly securityToken?: string;
  /** Log entries kept for slaves to catch up from; default LOG_TAIL_ENTRIES_DEFAULT. */
  readonly logTailEntries?: number;
  readonly ticks?: Partial<TickLimits>;
  /** Test-only protocol weakenings; never set outside tests. */
  readonly flaws?: NodeFlaws;
}

function fail(message: string): never {
  throw new ReplError('REPL_CONFIG', message);
}

/** Validates and fills in defaults. */
export function resolveConfig(c: ReplicaConfig): ResolvedConfig {
  const replicas = c.replicas ?? 3;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas % 2 === 0) {
    fail(`replicas must be odd (2N+1), got ${replicas}`);
  }
  const weight = c.weight ?? 1;
  if (!Number.isFinite(weight)) fail(`weight must be a number, got ${weight}`);
  const logTailEntries = c.logTailEntries ?? LOG_TAIL_ENTRIES_DEFAULT;
  if (!Number.isInteger(logTailEntries) || logTailEntries < 1) fail(`logTailEntries must be at least 1, got ${logTailEntries}`);
  let sync;
  try {
    sync = parseSync(c.sync ?? 'quorum_mem');
  } catch (error) {
    fail((error as Error).message);
  }
  const ticks = { ...DEFAULT_TICKS, ...c.ticks };
  if (ticks.syncRetryTicks <= ticks.heartbeatTicks) {
    fail(`syncRetryTicks (${ticks.syncRetryTicks}) must be greater than heartbeatTicks (${ticks.heartbeatTicks})`);
  }
  return {
    id: c.id,
    address: c.address ?? c.id,
    weight,
    replicas,
    quorum: quorumOf(replicas),
    slaveQuorum: slaveQuorumOf(replicas),
    sync,
    securityToken: c.securityToken ?? '',
    logTailEntries,
    ticks,
    flaws: c.flaws ?? {},
  };
}
