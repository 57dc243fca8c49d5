/** The deterministic simulation of the replication core: world modules, the checker and one-seed runs. */
export { runSeed, SAFETY_TICKS, LIVENESS_TICKS, type RunOptions, type RunResult } from './run.js';
export { SimCluster, type ClusterOptions, type SimMachine } from './cluster.js';
export { Checker, type NodeSnapshot } from './checker.js';
export { SimDisk, type CrashKind } from './disk.js';
export { SimNetwork, type NetworkFaults, type Packet } from './network.js';
export { SimZooKeeper, type ZooKeeperTiming } from './zookeeper.js';
export { Random } from './random.js';
export * as format from './format.js';
