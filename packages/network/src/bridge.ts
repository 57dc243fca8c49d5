/**
 * One bridge: a FailoverClient to the local broker and one to the remote (a single broker of a static
 * connector, or `failover:(…)` over a master/slave group), the advisory feeds of both, and one forwarding
 * direction (local → remote) or two (duplex: also remote → local over the same two connections, so the
 * remote needs no connector of its own).
 *
 * Lifecycle: `Bridge` dials both brokers (each dial is one round over its URIs; between failed rounds it
 * waits, doubling from BRIDGE_RECONNECT_DELAY_INITIAL_MS to BRIDGE_RECONNECT_DELAY_MAX_MS), then runs a
 * `BridgeSession` until stopped or until a client gives up for good (e.g. refused credentials), and
 * dials again. Within a session the FailoverClients reconnect by themselves (forever, same backoff) and
 * follow a group's new master; the session only forgets what the lost connection told it (its
 * advisories) and learns it again from the new one's replay.
 */
import { FailoverClient, isAuthenticationFailure, type FailoverConnectOptions } from '@mini-amq/stomp';
import { AdvisoryFeed } from './advisory-feed.js';
import type { NetworkConnectorConfig } from './config.js';
import { planForwarding, type ForwardWant } from './demand.js';
import { DestinationFilter } from './filter.js';
import { Forwarder } from './forwarder.js';
import { RemoteIdentity } from './identity.js';
import {
  BRIDGE_CLOSE_GRACE_MS, BRIDGE_CONNECT_TIMEOUT_MS, BRIDGE_HEARTBEAT_MS, BRIDGE_RECONNECT_DELAY_INITIAL_MS,
  BRIDGE_RECONNECT_DELAY_MAX_MS,
} from './limits.js';
import type { NetworkLogger } from './logger.js';

/** One bridge's state, as `mini-amq status` shows it. */
export interface BridgeStatus {
  readonly connector: string;
  /** The inner URI (static) or the failover URI (masterslave). */
  readonly remote: string;
  readonly state: 'connecting' | 'connected' | 'stopped';
  /** The remote broker's name once known. */
  readonly remoteBroker: string | null;
  readonly duplex: boolean;
  /** Messages sent to the remote and receipted. */
  readonly forwarded: number;
  /** Duplex: messages taken from the remote and delivered locally (receipted by the local broker). */
  readonly received: number;
  /** Destinations currently forwarded to the remote on demand. */
  readonly demand: readonly string[];
}

export interface BridgeSettings {
  readonly config: NetworkConnectorConfig;
  /** What the remote FailoverClient dials: one URI, or `failover:(…)` for a group. */
  readonly remoteUri: string;
  readonly localBrokerName: string;
  readonly localUrl: string;
  readonly localLogin?: string;
  readonly localPasscode?: string;
  readonly log: NetworkLogger;
}

const NO_WANTS: ReadonlyMap<string, ForwardWant> = new Map();

/** Options of every bridge connection: reconnect forever with backoff, heart-beats both ways. */
function connectOptions(login: string | undefined, passcode: string | undefined): FailoverConnectOptions {
  return {
    failover: {
      randomize: false,
      maxReconnectAttempts: -1,
      // One round per dial: the bridge itself waits between rounds, and can stop while it waits.
      startupMaxReconnectAttempts: 0,
      initialReconnectDelay: BRIDGE_RECONNECT_DELAY_INITIAL_MS,
      maxReconnectDelay: BRIDGE_RECONNECT_DELAY_MAX_MS,
      useExponentialBackOff: true,
    },
    heartBeat: [BRIDGE_HEARTBEAT_MS, BRIDGE_HEARTBEAT_MS],
    connectTimeoutMs: BRIDGE_CONNECT_TIMEOUT_MS,
    acceptVersion: '1.2',
    ...(login === undefined ? {} : { login }),
    ...(passcode === undefined ? {} : { passcode }),
  };
}

export class Bridge {
  private stopped = false;
  private session: BridgeSession | null = null;
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> = Promise.resolve();
  /** Counts of sessions that ended (a live session adds its own). */
  private forwardedBefore = 0;
  private receivedBefore = 0;
  /** Kept across sessions: the last name the remote gave. */
  remoteBroker: string | null = null;

  constructor(readonly settings: BridgeSettings, readonly remoteLabel: string) {}

  start(): void {
    this.loop = this.run().catch((err: unknown) => {
      this.settings.log.error({ err, connector: this.settings.config.name, remote: this.remoteLabel }, 'bridge stopped after an unexpected failure');
    });
  }

  status(): BridgeStatus {
    const s = this.session;
    return {
      connector: this.settings.config.name,
      remote: this.remoteLabel,
      state: this.stopped ? 'stopped' : s?.connected() === true ? 'connected' : 'connecting',
      remoteBroker: this.remoteBroker,
      duplex: this.settings.config.duplex,
      forwarded: this.forwardedBefore + (s?.forwarded() ?? 0),
      received: this.receivedBefore + (s?.received() ?? 0),
      demand: s?.demand() ?? [],
    };
  }

  /** Stops the bridge: forwarding ends, what was sent is given BRIDGE_CLOSE_GRACE_MS to be receipted, connections close. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.session?.stop(BRIDGE_CLOSE_GRACE_MS);
    await this.loop;
  }

  private async run(): Promise<void> {
    let delay = BRIDGE_RECONNECT_DELAY_INITIAL_MS;
    const { log, config } = this.settings;
    while (!this.stopped) {
      const clients = await this.dialBoth();
      if (clients !== null) {
        delay = BRIDGE_RECONNECT_DELAY_INITIAL_MS;
        const session = new BridgeSession(this, clients.local, clients.remote);
        this.session = session;
        try {
          await session.run();
        } catch (err) {
          log.error({ err, connector: config.name, remote: this.remoteLabel }, 'bridge session failed');
          await session.stop(0);
        }
        this.forwardedBefore += session.forwarded();
        this.receivedBefore += session.received();
        this.session = null;
        if (this.stopped) return;
        log.warn({ connector: config.name, remote: this.remoteLabel }, 'bridge session ended; dialling again');
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeUp = () => { clearTimeout(timer); resolve(); };
      });
      this.wakeUp = null;
      delay = Math.min(delay * 2, BRIDGE_RECONNECT_DELAY_MAX_MS);
    }
  }

  /** Connects to the local broker, then the remote; null (after logging) when either fails this round. */
  private async dialBoth(): Promise<{ local: FailoverClient; remote: FailoverClient } | null> {
    const { log, config, localUrl, localLogin, localPasscode, remoteUri } = this.settings;
    let local: FailoverClient;
    try {
      local = await FailoverClient.connect(localUrl, connectOptions(localLogin, localPasscode));
    } catch (err) {
      log.warn({ err, connector: config.name, local: localUrl }, 'bridge cannot reach the local broker');
      return null;
    }
    if (this.stopped) { local.close(); return null; }
    let remote: FailoverClient;
    try {
      remote = await FailoverClient.connect(remoteUri, connectOptions(undefined, undefined));
    } catch (err) {
      local.close();
      const where = { connector: config.name, remote: this.remoteLabel, reason: (err as Error).message };
      if (isAuthenticationFailure(err)) log.error(where, 'the remote broker refused the bridge\'s login (remote credentials are not supported yet)');
      else log.info(where, 'bridge cannot reach the remote broker yet');
      return null;
    }
    if (this.stopped) { local.close(); remote.close(); return null; }
    return { local, remote };
  }
}

/** One pair of connections and what flows over them (see the file comment). */
class BridgeSession {
  private readonly localFeed: AdvisoryFeed;
  private readonly remoteFeed: AdvisoryFeed;
  private readonly identity: RemoteIdentity;
  private readonly filter: DestinationFilter;
  private outbound: Forwarder | null = null;
  private inbound: Forwarder | null = null;
  private stopping: Promise<void> | null = null;
  private reconcileScheduled = false;
  private warnedSelf = false;
  private endSession!: () => void;
  private readonly ended = new Promise<void>((resolve) => { this.endSession = resolve; });

  constructor(private readonly bridge: Bridge, private readonly local: FailoverClient, private readonly remote: FailoverClient) {
    const { config, log } = bridge.settings;
    this.filter = new DestinationFilter(config.excludedDestinations, config.dynamicallyIncludedDestinations);
    const changed = (): void => this.scheduleReconcile();
    this.localFeed = new AdvisoryFeed(local, 'local', changed, log);
    this.remoteFeed = new AdvisoryFeed(remote, 'remote', changed, log);
    this.identity = new RemoteIdentity(remote, (name) => this.named(name));
  }

  connected(): boolean {
    const name = this.identity.name;
    return this.local.isOpen && this.remote.isOpen && name !== null && name !== this.bridge.settings.localBrokerName;
  }

  forwarded(): number { return this.outbound?.forwarded ?? 0; }
  received(): number { return this.inbound?.forwarded ?? 0; }
  demand(): string[] { return this.outbound?.demand() ?? []; }

  /** Runs until stopped or until a client closes for good. */
  async run(): Promise<void> {
    const { log, config } = this.bridge.settings;
    const where = { connector: config.name, remote: this.bridge.remoteLabel };
    for (const [side, client] of [['local', this.local], ['remote', this.remote]] as const) {
      client.on('error', (err) => log.warn({ ...where, side, err }, `bridge connection to the ${side} broker reported an error`));
      client.on('close', () => this.endSession());
      if (client.isClosed) this.endSession();
    }
    this.local.on('disconnect', ({ uri, error }) => {
      log.warn({ ...where, uri, reason: error?.message }, 'bridge lost the local broker; reconnecting');
      this.outbound?.sourceLost();
      this.localFeed.lost();
    });
    this.local.on('reconnect', () => this.localFeed.reconnected());
    this.remote.on('disconnect', ({ uri, error }) => {
      log.warn({ ...where, uri, reason: error?.message }, 'bridge lost the remote broker; reconnecting');
      this.inbound?.sourceLost();
      this.remoteFeed.lost();
    });
    this.remote.on('reconnect', ({ uri }) => {
      log.info({ ...where, uri }, 'bridge reconnected to the remote broker');
      this.remoteFeed.reconnected();
      this.identity.reconnected();
    });
    this.localFeed.start();
    this.remoteFeed.start();
    this.identity.start();
    await this.ended;
    await this.stop(BRIDGE_CLOSE_GRACE_MS);
  }

  private named(name: string): void {
    const { log, config, localBrokerName } = this.bridge.settings;
    // A group whose members have names of their own answers with its new master's: the inbound direction
    // then stamps that name into paths, and the outbound one re-subscribes with it in its selector.
    if (this.bridge.remoteBroker !== name) log.info({ connector: config.name, remote: this.bridge.remoteLabel, remoteBroker: name }, `bridge connected: ${localBrokerName} to ${name}${config.duplex ? ' (duplex)' : ''}`);
    this.bridge.remoteBroker = name;
    this.scheduleReconcile();
  }

  private scheduleReconcile(): void {
    if (this.reconcileScheduled || this.stopping !== null) return;
    this.reconcileScheduled = true;
    setImmediate(() => {
      this.reconcileScheduled = false;
      this.reconcile();
    });
  }

  /** Brings both directions' subscriptions in line with what the trackers say now. */
  private reconcile(): void {
    if (this.stopping !== null) return;
    const { config, localBrokerName, log } = this.bridge.settings;
    const remoteName = this.identity.name;
    if (remoteName === null || remoteName === localBrokerName || remoteName.includes(',')) {
      if (remoteName !== null && !this.warnedSelf) {
        this.warnedSelf = true;
        log.error({ connector: config.name, remote: this.bridge.remoteLabel, remoteBroker: remoteName }, remoteName.includes(',')
          ? 'the remote broker\'s name has a comma, which a network path cannot carry: nothing is forwarded'
          : 'the remote broker has this broker\'s name (a connector to itself, or two brokers with one name): nothing is forwarded');
      }
      this.outbound?.apply(NO_WANTS, remoteName ?? '');
      this.inbound?.apply(NO_WANTS, localBrokerName);
      return;
    }
    const settings = (direction: 'outbound' | 'inbound') => ({
      direction, networkTTL: config.networkTTL, decreasePriority: config.decreaseNetworkConsumerPriority, log,
    });
    this.outbound ??= new Forwarder(this.local, this.remote, localBrokerName, settings('outbound'));
    this.outbound.apply(planForwarding(this.remoteFeed.tracker, this.localFeed.tracker, {
      source: localBrokerName, sink: remoteName, networkTTL: config.networkTTL, filter: this.filter,
      staticallyIncluded: config.staticallyIncludedDestinations, sourceKnown: this.localFeed.settled,
    }), remoteName);
    if (!config.duplex) return;
    this.inbound ??= new Forwarder(this.remote, this.local, remoteName, settings('inbound'));
    this.inbound.sourceBroker = remoteName;
    // [ActiveMQ duplex] the remote forwards on demand; static inclusions are this broker's outbound only.
    this.inbound.apply(planForwarding(this.localFeed.tracker, this.remoteFeed.tracker, {
      source: remoteName, sink: localBrokerName, networkTTL: config.networkTTL, filter: this.filter,
      staticallyIncluded: [], sourceKnown: this.remoteFeed.settled,
    }), localBrokerName);
  }

  /** Stops forwarding (with `graceMs` for receipts of what was sent), then closes both connections. */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= (async () => {
      this.identity.stop();
      const [outDrained, inDrained] = await Promise.all([this.outbound?.stop(graceMs) ?? true, this.inbound?.stop(graceMs) ?? true]);
      // DISCONNECT with a receipt: the acks written before it are handled first. A sink that did not
      // receipt within the grace is closed at once: it would not answer a DISCONNECT either, and the
      // source takes back what it had not confirmed.
      const leave = (client: FailoverClient, drained: boolean): Promise<void> => {
        if (drained) return client.disconnect({ timeoutMs: graceMs });
        client.close();
        return Promise.resolve();
      };
      await Promise.all([leave(this.remote, outDrained), leave(this.local, inDrained)]);
      this.endSession();
    })();
    return this.stopping;
  }
}
