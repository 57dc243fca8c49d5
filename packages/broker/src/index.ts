export { startBroker, type RunningBroker } from './start.js';
export { BROKER_DEFAULTS, BROKER_VERSION, type BrokerOptions, type UserCredential } from './options.js';
export { NETWORK_MESSAGE_ID_HEADER, NETWORK_MESSAGES_REMEMBERED_MAX } from './broker.js';
export { Broker, type BrokerDescription, type ConsumerEvent, type ReplicationDescription, type Outgoing, type Delivery } from './broker.js';
export {
  ADVISORY_PREFIX,
  ADVISORY_REPLAY_HEADER,
  CONSUMER_ADVISORY_PREFIX,
  NETWORK_PATH_HEADER,
  NETWORK_PATH_BROKERS_MAX,
  NETWORK_SUBSCRIPTION_HEADER,
  consumerAdvisoryTopic,
  type AdvisoryReplay,
  type AdvisoryType,
  type ConsumerCounts,
  type ConsumerInfo,
} from './advisory.js';
export { PRODUCERS_TRACKED_MAX, ProducerWindow, producerOf, type ProducerRef } from './producer-window.js';
export {
  STATISTICS_BROKER,
  STATISTICS_DESTINATION_PREFIX,
  statisticsQuery,
  type BrokerStatistics,
  type DestinationStatistics,
  type StatisticsQuery,
} from './statistics.js';
export { isWildcard, matchesWildcard, WILDCARD_SUBSCRIPTIONS_MAX } from './wildcard.js';
export { CONSUMER_PRIORITY_HEADER, CONSUMER_PRIORITY_MAX, CONSUMER_PRIORITY_MIN, PREFETCH_MAX } from './subscription.js';
export { BrokerError, type BrokerErrorCode } from './errors.js';
export { StompServer } from './server.js';
export { StompConnection } from './connection.js';
export { parseDestination, formatDestination, type DestinationName } from './destination.js';
export { compileSelector, SelectorError, type Selector } from './selector.js';
export type { QueueStats } from './queue.js';
