/**
 * `mini-amq start --group G`: a member of a replicated LevelDB group. The member (packages/replication)
 * joins ZooKeeper and replicates; this file is the wiring ARCHITECTURE.md keeps in `cli`: when the member
 * becomes the serving master a broker is started on the member's replicated store, and when it stops being
 * master that broker is closed at once (its client connections with it). A slave runs no broker, so its
 * client ports stay closed and failover clients move on to the master.
 */
import type { Logger } from 'pino';
import { startBroker, type ReplicationDescription, type RunningBroker } from '@mini-amq/broker';
import { GroupMember } from '@mini-amq/replication';
import type { CliConfig, ReplicationConfig } from './config.js';
import { listenersText } from './logger.js';
import { startNetwork, type RunningNetwork } from './network-start.js';

/** A running group member and the broker it runs while master. */
export interface RunningMember {
  readonly member: GroupMember;
  /** Stops the broker (if master) and leaves the group. */
  close(): Promise<void>;
}

/** Joins the group; brokers come and go with mastership from then on. */
export async function startMember(config: CliConfig, replication: ReplicationConfig, logger: Logger): Promise<RunningMember> {
  const member = await GroupMember.start({
    nodeId: config.broker.brokerName,
    directory: config.broker.dataDir,
    replicas: replication.replicas,
    zkAddress: replication.zkAddress,
    zkPassword: replication.zkPassword,
    zkPath: replication.zkPath,
    zkSessionTimeoutMs: replication.zkSessionTimeoutMs,
    bind: replication.bind,
    hostname: replication.hostname,
    weight: replication.weight,
    securityToken: replication.securityToken,
    sync: replication.sync,
    logger,
  });
  let running: RunningBroker | null = null;
  let network: RunningNetwork | null = null;
  let closing = false;
  // Starts and stops happen one at a time, in the order the member asked for them.
  let transitions: Promise<void> = Promise.resolve();
  const then = (step: () => Promise<void>): void => {
    transitions = transitions.then(step).catch((error: unknown) => {
      logger.error({ err: error }, 'broker start/stop failed; leaving the group so another member can serve');
      void member.close();
    });
  };

  member.on('master', (store, epoch) => then(async () => {
    if (closing) return;
    // Store, then dispatch: see BrokerOptions.concurrentStoreAndDispatchQueues.
    const broker = await startBroker({ ...config.broker, group: replication.group, logger, store, concurrentStoreAndDispatchQueues: false });
    const bridges = startNetwork(config, broker, logger);
    broker.broker.describe = () => ({
      role: 'master', group: replication.group, connections: broker.server.connectionCount,
      stompPort: broker.server.stompPort, wsPort: broker.server.wsPort, replication: replicationStatus(member),
      network: bridges.status(),
    });
    running = broker;
    network = bridges;
    logger.info({
      stompPort: broker.stompPort, wsPort: broker.wsPort, host: config.broker.host, dataDir: config.broker.dataDir, epoch,
      configFile: config.configFile,
    }, `listening: ${listenersText(config.broker.host, broker.stompPort, broker.wsPort)} (master of ${replication.group}, epoch ${epoch})`);
  }));
  member.on('demoted', (reason) => then(async () => {
    const broker = running;
    const bridges = network;
    running = null;
    network = null;
    if (broker === null) return;
    logger.warn({ reason }, `closing client connections: ${reason}`);
    // The broker first: it must stop acknowledging at once; its bridges' unacked messages are in the
    // replicated store anyway.
    await broker.close();
    await bridges?.close();
  }));

  return {
    member,
    close: async () => {
      closing = true;
      then(async () => {
        const broker = running;
        const bridges = network;
        running = null;
        network = null;
        await bridges?.close();
        if (broker !== null) await broker.close();
      });
      await transitions;
      await member.close();
    },
  };
}

/** The member's view for `mini-amq status`: its own position and, on a master, each slave's. */
function replicationStatus(member: GroupMember): ReplicationDescription {
  const s = member.status();
  return {
    node: s.id, role: s.role, epoch: s.epoch, position: s.position, commitIndex: s.commitIndex, applied: s.applied,
    members: s.members, detail: s.detail,
    slaves: s.slaves.map((p) => ({ node: p.peer, state: p.state, match: p.match, durable: p.durable })),
  };
}
