/**
 * @mini-amq/network: network connectors. Static and master/slave bridges between brokers over STOMP,
 * demand forwarding from consumer advisories, duplex, loop guard and networkTTL (ARCHITECTURE.md:
 * Network of brokers).
 */
export {
  NETWORK_CONNECTOR_DEFAULTS,
  parseNetworkConnector,
  type NetworkConnectorConfig,
  type NetworkConnectorSettings,
} from './config.js';
export { NetworkError, type NetworkErrorCode } from './errors.js';
export { NetworkConnector, type NetworkConnectorOptions } from './connector.js';
export type { BridgeStatus } from './bridge.js';
export type { NetworkLogger } from './logger.js';
export { NETWORK_HOPS_PROPERTY, NETWORK_PATH_PROPERTY, forwardedHeaders, loopGuardSelector } from './loop-guard.js';
export { ConsumerTracker, parseAdvisory, planForwarding, type AdvisoryEvent, type ForwardWant, type ForwardingPolicy } from './demand.js';
export { DestinationFilter, matchesDestination } from './filter.js';
export * from './limits.js';
