/**
 * Network connectors in the config file (`networkConnectors`: a list of objects with ActiveMQ's
 * `<networkConnector>` attribute names) and on the command line (`--network URI`, repeatable, and
 * `--duplex` for all of them). The URI grammar and the defaults are the network package's; this file only
 * reads JSON values, names the path of anything wrong and lets the flags add to the file's list.
 */
import { NetworkError, parseNetworkConnector, type NetworkConnectorConfig } from '@mini-amq/network';
import { CliError } from './errors.js';
import { boolean, invalid, nonEmptyString, positiveInteger } from './values.js';

/** The keys a connector object may have, in README's order. */
export const NETWORK_CONNECTOR_KEYS = Object.freeze([
  'uri', 'name', 'duplex', 'networkTTL', 'conduitSubscriptions', 'decreaseNetworkConsumerPriority', 'dynamicOnly',
  'excludedDestinations', 'dynamicallyIncludedDestinations', 'staticallyIncludedDestinations',
] as const);

/** Connectors one broker may run; each holds two connections per remote, so the bound is on sockets too. */
export const NETWORK_CONNECTORS_MAX = 64;

function configError(message: string): never {
  throw new CliError('CLI_CONFIG_INVALID', message);
}

function parsed(uri: string, extra: Parameters<typeof parseNetworkConnector>[1], where: string): NetworkConnectorConfig {
  try {
    return parseNetworkConnector(uri, extra);
  } catch (error) {
    if (error instanceof NetworkError) configError(`${error.message} (at ${where})`);
    throw error;
  }
}

function destinations(value: unknown, where: string, name: string): string[] {
  if (!Array.isArray(value)) invalid({ name, where }, 'an array of destinations such as "/queue/orders.>"', value);
  return value.map((d, i) => nonEmptyString(d, { name, where: `${where}[${i}]` }));
}

/** `networkConnectors` from a config file; null and [] mean none. */
export function readNetworkConnectors(value: unknown): NetworkConnectorConfig[] {
  const where = '$.networkConnectors';
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) invalid({ name: 'networkConnectors', where }, 'an array of connector objects', value);
  if (value.length > NETWORK_CONNECTORS_MAX) configError(`at most ${NETWORK_CONNECTORS_MAX} network connectors, got ${value.length} (at ${where})`);
  return value.map((item, i) => {
    const at = `${where}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) invalid({ name: 'a network connector', where: at }, 'an object', item);
    const o = item as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (!(NETWORK_CONNECTOR_KEYS as readonly string[]).includes(key)) configError(`unknown key "${key}" at ${at} (known: ${NETWORK_CONNECTOR_KEYS.join(', ')})`);
    }
    const uri = nonEmptyString(o.uri, { name: 'uri', where: `${at}.uri` });
    const setting = (name: string) => ({ name, where: `${at}.${name}` });
    const extra: Record<string, unknown> = {};
    if (o.name !== undefined) extra.name = nonEmptyString(o.name, setting('name'));
    for (const flag of ['duplex', 'conduitSubscriptions', 'decreaseNetworkConsumerPriority', 'dynamicOnly'] as const) {
      if (o[flag] !== undefined) extra[flag] = boolean(o[flag], setting(flag));
    }
    if (o.networkTTL !== undefined) extra.networkTTL = positiveInteger(o.networkTTL, setting('networkTTL'));
    for (const list of ['excludedDestinations', 'dynamicallyIncludedDestinations', 'staticallyIncludedDestinations'] as const) {
      if (o[list] !== undefined) extra[list] = destinations(o[list], `${at}.${list}`, list);
    }
    return parsed(uri, extra, `${at}.uri`);
  });
}

/** `--network URI` flags (each may carry options in its query), with `--duplex` applied to all of them. */
export function networkFromFlags(uris: readonly string[], duplex: boolean): NetworkConnectorConfig[] {
  if (uris.length > NETWORK_CONNECTORS_MAX) configError(`at most ${NETWORK_CONNECTORS_MAX} --network flags, got ${uris.length}`);
  return uris.map((uri, i) => parsed(uri, duplex ? { duplex: true } : {}, `--network #${i + 1}`));
}
