/**
 * Starts a broker's network connectors once it listens (for a group member: while it is master) and stops
 * them before it closes. The bridges reach the local broker through its own STOMP listener on loopback,
 * as any client would: the network package needs nothing from the broker but its advisories.
 */
import type { Logger } from 'pino';
import type { RunningBroker } from '@mini-amq/broker';
import { NetworkConnector, type BridgeStatus } from '@mini-amq/network';
import { WILDCARD_HOSTS, type CliConfig } from './config.js';

/** The connectors of one running broker. */
export interface RunningNetwork {
  status(): BridgeStatus[];
  close(): Promise<void>;
}

const NO_NETWORK: RunningNetwork = Object.freeze({ status: () => [], close: () => Promise.resolve() });

export function startNetwork(config: CliConfig, broker: RunningBroker, logger: Logger): RunningNetwork {
  if (config.network.length === 0) return NO_NETWORK;
  if (broker.stompPort === null) {
    logger.error({}, 'network connectors need the STOMP listener, which is off: no bridge is started');
    return NO_NETWORK;
  }
  // A listener bound to every interface is reached on loopback from this machine.
  const host = WILDCARD_HOSTS.includes(config.broker.host) ? '127.0.0.1' : config.broker.host;
  const localUrl = `tcp://${host.includes(':') ? `[${host}]` : host}:${broker.stompPort}`;
  // With authentication on, the bridges log in locally as the first configured user.
  const user = config.broker.users[0];
  const connectors = config.network.map((connector) => {
    logger.info({ connector: connector.name, uri: connector.uri, duplex: connector.duplex }, `network connector ${connector.name}: bridging to ${connector.uri}`);
    return NetworkConnector.start({
      config: connector,
      localBrokerName: config.broker.brokerName,
      localUrl,
      ...(user === undefined ? {} : { localLogin: user.username, localPasscode: user.password }),
      logger,
    });
  });
  return {
    status: () => connectors.flatMap((c) => c.status()),
    close: async () => {
      await Promise.all(connectors.map((c) => c.close()));
    },
  };
}
