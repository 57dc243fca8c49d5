/**
 * NetworkConnector: the bridges of one `<networkConnector>`. `static:(a,b)` makes one bridge per listed
 * broker; `masterslave:(a,b,c)` makes one bridge through `failover:(a,b,c)`, which reaches whichever
 * member of the group is master (only the master opens its client ports) and follows a new one.
 */
import { Bridge, type BridgeStatus } from './bridge.js';
import type { NetworkConnectorConfig } from './config.js';
import { NetworkError } from './errors.js';
import { SILENT_LOGGER, type NetworkLogger } from './logger.js';

export interface NetworkConnectorOptions {
  readonly config: NetworkConnectorConfig;
  /** This broker's name: it goes into forwarded messages' paths, so brokers of one network need distinct names. */
  readonly localBrokerName: string;
  /** tcp://127.0.0.1:<port> of the local broker's STOMP listener. */
  readonly localUrl: string;
  readonly localLogin?: string;
  readonly localPasscode?: string;
  readonly logger?: NetworkLogger;
}

export class NetworkConnector {
  private closing: Promise<void> | null = null;

  private constructor(private readonly bridges: readonly Bridge[]) {}

  /** Returns at once; the bridges connect (and reconnect, with backoff) in the background. */
  static start(options: NetworkConnectorOptions): NetworkConnector {
    const { config, localBrokerName } = options;
    if (localBrokerName === '' || localBrokerName.includes(',')) {
      throw new NetworkError('NETWORK_CONFIG', `a broker in a network needs a name without commas (network paths are comma-separated), got ${JSON.stringify(localBrokerName)}`);
    }
    const log = options.logger ?? SILENT_LOGGER;
    if (!config.conduitSubscriptions) {
      log.warn({ connector: config.name }, 'conduitSubscriptions=false is not supported: the bridge holds one subscription per destination, as with true');
    }
    const base = {
      config, localBrokerName, localUrl: options.localUrl, log,
      ...(options.localLogin === undefined ? {} : { localLogin: options.localLogin }),
      ...(options.localPasscode === undefined ? {} : { localPasscode: options.localPasscode }),
    };
    const bridges = config.kind === 'static'
      ? config.remotes.map((remote) => new Bridge({ ...base, remoteUri: remote }, remote))
      : [(() => {
        const uri = `failover:(${config.remotes.join(',')})`;
        return new Bridge({ ...base, remoteUri: uri }, uri);
      })()];
    for (const b of bridges) b.start();
    return new NetworkConnector(bridges);
  }

  /** One entry per bridge. */
  status(): BridgeStatus[] {
    return this.bridges.map((b) => b.status());
  }

  /** Stops every bridge; local messages not yet receipted by a remote go back to their queues. */
  close(): Promise<void> {
    this.closing ??= Promise.all(this.bridges.map((b) => b.stop())).then(() => undefined);
    return this.closing;
  }
}
