export { startBroker, type RunningBroker } from './start.js';
export { BROKER_DEFAULTS, type BrokerOptions, type UserCredential } from './options.js';
export { Broker, type Outgoing, type Delivery } from './broker.js';
export { BrokerError, type BrokerErrorCode } from './errors.js';
export { StompServer } from './server.js';
export { StompConnection } from './connection.js';
export { parseDestination, formatDestination, type DestinationName } from './destination.js';
export { compileSelector, SelectorError, type Selector } from './selector.js';
export type { QueueStats } from './queue.js';
