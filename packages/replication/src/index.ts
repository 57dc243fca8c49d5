/** @mini-amq/replication: the pure replication core (election, log shipping, sync modes, fencing). */
export type * from './core/types.js';
export { ZERO_POSITION, comparePositions, formatPosition } from './core/types.js';
export { ReplicaNode, EMPTY_NODE, type RestoredNode, type NodeStatus } from './core/node.js';
export type { ReplicaConfig } from './core/config.js';
export type { NodeFlaws } from './core/context.js';
export { evaluateElection, currentMembers, masterIsLive, type ElectionDecision } from './core/election.js';
export { parseSync, syncRule, quorumOf, slaveQuorumOf, SYNC_MODES, type SyncRule } from './core/sync-mode.js';
export { commonPrefix, epochAt } from './core/history.js';
export type { LogImage } from './core/log.js';
export { ReplError, type ReplErrorCode } from './core/errors.js';
export * from './core/limits.js';
export { GroupMember, MasterStore, MEMBER_LOG_TAIL_ENTRIES_DEFAULT, type GroupMemberOptions, type GroupMemberEvents, type MemberLogger } from './shell/group-member.js';
export { ZK_SESSION_TIMEOUT_MS_DEFAULT } from './shell/zk-coordinator.js';
export { ReplShellError, type ReplShellErrorCode } from './shell/errors.js';
