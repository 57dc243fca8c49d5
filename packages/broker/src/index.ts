export { startBroker, type RunningBroker } from './start.js';
export { BROKER_DEFAULTS, BROKER_VERSION, type BrokerOptions, type UserCredential } from './options.js';
export { Broker, type BrokerDescription, type ReplicationDescription, type Outgoing, type Delivery } from './broker.js';
export { PRODUCERS_TRACKED_MAX, ProducerWindow, producerOf, type ProducerRef } from './producer-window.js';
export {
  STATISTICS_BROKER,
  STATISTICS_DESTINATION_PREFIX,
  matchesWildcard,
  statisticsQuery,
  type BrokerStatistics,
  type DestinationStatistics,
  type StatisticsQuery,
} from './statistics.js';
export { BrokerError, type BrokerErrorCode } from './errors.js';
export { StompServer } from './server.js';
export { StompConnection } from './connection.js';
export { parseDestination, formatDestination, type DestinationName } from './destination.js';
export { compileSelector, SelectorError, type Selector } from './selector.js';
export type { QueueStats } from './queue.js';
