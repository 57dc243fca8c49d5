/** The `mini-amq` binary's parts, for tests and for embedding its config handling. */
export { main, version } from './main.js';
export { loadConfig, resolveConfig, CLI_DEFAULTS, CONFIG_KEYS, type CliConfig, type ConfigOverrides, type ResolvedBrokerOptions } from './config.js';
export { parseConnectorUri, CONNECTOR_SCHEMES, CONNECTOR_OPTIONS, type ConnectorSpec } from './connector.js';
export { parseStartArgs, START_FLAGS, startHelp, mainHelp, type FlagSpec, type StartArgs } from './flags.js';
export { CliError, type CliErrorCode } from './errors.js';
export { runStart } from './start.js';
