/**
 * `startBroker`: the embeddable broker. Opens the store, recovers, listens; `close()` undoes it all and
 * flushes the store. Tests of later issues start brokers this way or as child processes.
 */
import pino, { type Logger } from 'pino';
import { LevelStore, type Store } from '@mini-amq/store';
import { Broker } from './broker.js';
import { BROKER_DEFAULTS, type BrokerOptions } from './options.js';
import { compileSelector } from './selector.js';
import { StompServer } from './server.js';

export interface RunningBroker {
  readonly brokerName: string;
  /** Bound STOMP TCP port (resolved when 0 was asked), or null when off. */
  readonly stompPort: number | null;
  readonly wsPort: number | null;
  readonly broker: Broker;
  readonly server: StompServer;
  /** Stops listening, closes connections, flushes and closes the store. */
  close(): Promise<void>;
}

export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  const o = { ...BROKER_DEFAULTS, ...definedOnly(options) };
  const log: Logger = options.logger ?? pino({ level: 'silent' });
  const store: Store = options.store ?? new LevelStore({ directory: o.dataDir, sync: o.syncWrites });
  const broker = new Broker(
    {
      brokerName: o.brokerName, maximumRedeliveries: o.maximumRedeliveries,
      deadLetterQueue: o.deadLetterQueue, destinationMemoryLimit: o.destinationMemoryLimit,
      maxFailoverProducersToTrack: o.maxFailoverProducersToTrack,
      concurrentStoreAndDispatchQueues: o.concurrentStoreAndDispatchQueues,
    },
    store, log, (selector, lookup) => selector.matches(lookup),
  );
  broker.compileStoredSelector = (text) => (text === '' ? null : compileSelector(text));
  await broker.recover();
  const server = new StompServer(broker, {
    host: o.host, stompPort: o.stompPort, wsPort: o.wsPort, maximumConnections: o.maximumConnections,
    users: o.users, maxFrameSize: o.maxFrameSize, defaultPrefetch: o.defaultPrefetch,
  }, log);
  try {
    await server.listen();
  } catch (err) {
    await server.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
  // Replication will report master or slave here; until then a broker stands alone.
  broker.describe = () => ({
    role: 'standalone', group: o.group, connections: server.connectionCount, stompPort: server.stompPort, wsPort: server.wsPort,
  });
  let closed: Promise<void> | null = null;
  return {
    brokerName: o.brokerName,
    stompPort: server.stompPort,
    wsPort: server.wsPort,
    broker,
    server,
    close: () => {
      closed ??= (async () => {
        await server.close();
        await store.close();
      })();
      return closed;
    },
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
