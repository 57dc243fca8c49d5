/**
 * The embeddable broker's options and their one defaults object. Names follow ActiveMQ where a user
 * would look for them (`brokerName`, `maximumConnections`, `maxFrameSize`, `maximumRedeliveries`).
 * Units are converted once, where a config is read (packages/cli): here every size is bytes and
 * every duration milliseconds.
 */
import type { Logger } from 'pino';
import type { Store } from '@mini-amq/store';
import { PRODUCERS_TRACKED_MAX } from './producer-window.js';

export const MiB = 1024 * 1024;

/** This broker's version, as the CONNECTED frame's `server` header and the statistics destination report it. */
export const BROKER_VERSION = '0.1.0';

export interface UserCredential { readonly username: string; readonly password: string }

export interface BrokerOptions {
  /** ActiveMQ's default broker name is `localhost`. */
  readonly brokerName?: string;
  /** Where the LevelDB store lives (ignored when `store` is given). */
  readonly dataDir?: string;
  /** A store to use instead of opening LevelDB at `dataDir` (e.g. MemoryStore in protocol tests). */
  readonly store?: Store;
  /** Interface to listen on; loopback unless told otherwise. */
  readonly host?: string;
  /** STOMP over TCP; 61613 as ActiveMQ; 0 = any free port; null = off. */
  readonly stompPort?: number | null;
  /** STOMP over WebSocket; 61614 as ActiveMQ; 0 = any free port; null = off. */
  readonly wsPort?: number | null;
  /** Per connector: ActiveMQ's `maximumConnections` (we default to 1000, the article's value). */
  readonly maximumConnections?: number;
  /** Per connector: ActiveMQ's `wireFormat.maxFrameSize`, bytes. */
  readonly maxFrameSize?: number;
  /** When non-empty, CONNECT must present one of these (ActiveMQ's simpleAuthenticationPlugin). */
  readonly users?: readonly UserCredential[];
  /** fsync each group-commit batch (true) or leave it to the OS (false). */
  readonly syncWrites?: boolean;
  /** Redeliveries before a message moves to the DLQ (ActiveMQ's RedeliveryPolicy default 6). */
  readonly maximumRedeliveries?: number;
  /** Dead letter queue name (ActiveMQ's shared DLQ). */
  readonly deadLetterQueue?: string;
  /** Bytes of pending messages a destination may hold in memory before producers are paused. */
  readonly destinationMemoryLimit?: number;
  /** A consumer's default prefetch when SUBSCRIBE has no `activemq.prefetchSize` (queues: 1000). */
  readonly defaultPrefetch?: number;
  /**
   * Producers whose de-duplication window is kept ([ActiveMQ: maxFailoverProducersToTrack], default 2048
   * there, PRODUCERS_TRACKED_MAX here); the least recently used are forgotten past it.
   */
  readonly maxFailoverProducersToTrack?: number;
  /**
   * [ActiveMQ KahaDB: concurrentStoreAndDispatchQueues, default true] Dispatch a persistent message to
   * consumers while it is being stored (true), or only once its store write is durable (false). A
   * replicated group's master runs with false: a message it dispatched before its quorum held it could
   * otherwise reach a consumer, die with the master, and come again when the producer re-sends it after
   * the failover. Non-persistent messages are dispatched at once either way, so they may overtake
   * persistent ones still being stored.
   */
  readonly concurrentStoreAndDispatchQueues?: boolean;
  /** The replication group this broker belongs to, or null; reported by the statistics destination. */
  readonly group?: string | null;
  /** pino logger; a silent one when absent. */
  readonly logger?: Logger;
}

/** The defaults, frozen; `resolveOptions` overlays a caller's options on them. */
export const BROKER_DEFAULTS = Object.freeze({
  brokerName: 'localhost',
  dataDir: './data',
  host: '127.0.0.1',
  stompPort: 61613 as number | null,
  wsPort: 61614 as number | null,
  maximumConnections: 1000,
  maxFrameSize: 100 * MiB,
  users: [] as readonly UserCredential[],
  syncWrites: true,
  maximumRedeliveries: 6,
  deadLetterQueue: 'ActiveMQ.DLQ',
  destinationMemoryLimit: 64 * MiB,
  defaultPrefetch: 1000,
  maxFailoverProducersToTrack: PRODUCERS_TRACKED_MAX,
  concurrentStoreAndDispatchQueues: true,
  group: null as string | null,
});
