/**
 * The config file model. `mini-amq start --config FILE` reads one JSON file whose keys are ActiveMQ's
 * names (activemq.xml's elements and attributes, flattened), validates it once, overlays the command-line
 * flags and yields complete, frozen BrokerOptions plus the binary's own settings. Unknown keys are refused
 * with their JSON path and the keys known there: a typo must not silently fall back to a default.
 * Sizes become bytes here and nowhere else (STYLE.md §5).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrokerOptions } from '@mini-amq/broker';
import { DEFAULT_PORTS, parseConnectorUri, type ConnectorSpec, type ListenerProtocol } from './connector.js';
import { CliError } from './errors.js';
import {
  MiB, boolean, describeValue, invalid, nonEmptyString, nonNegativeInteger, positiveInteger,
  size, type LogLevel,
} from './values.js';

type UserCredential = NonNullable<BrokerOptions['users']>[number];

/** BrokerOptions with every setting the binary controls filled in (no store or logger: those are wired in start). */
export type ResolvedBrokerOptions = Readonly<Required<Pick<BrokerOptions,
  | 'brokerName' | 'dataDir' | 'host' | 'stompPort' | 'wsPort' | 'maximumConnections' | 'maxFrameSize' | 'users'
  | 'syncWrites' | 'maximumRedeliveries' | 'deadLetterQueue' | 'destinationMemoryLimit' | 'defaultPrefetch'
  | 'maxFailoverProducersToTrack'>>>;

/** Everything `mini-amq start` runs with: the broker's options and the binary's own settings. */
export interface CliConfig {
  readonly broker: ResolvedBrokerOptions;
  readonly logLevel: LogLevel;
  /** Human-readable logs (pino-pretty) instead of JSON lines; main sets it when stdout is a terminal. */
  readonly pretty: boolean;
  /** The replication group this broker will belong to (issue 4); for now only recorded in logs. */
  readonly group: string | null;
  /** Absolute path of the config file read, or null when running on flags and defaults only. */
  readonly configFile: string | null;
}

/** Values given on the command line, already checked (see flags.ts); each one beats the config file. */
export interface ConfigOverrides {
  readonly brokerName?: string;
  /** Relative to the working directory. */
  readonly dataDir?: string;
  readonly host?: string;
  readonly stompPort?: number;
  /** null turns the WebSocket listener off (`--no-ws`). */
  readonly wsPort?: number | null;
  readonly maximumConnections?: number;
  readonly maxFrameSize?: number;
  readonly group?: string;
  readonly logLevel?: LogLevel;
  readonly pretty?: boolean;
}

/**
 * The binary's one defaults object: what `mini-amq start` does with no file and no flags. The broker values
 * match the embeddable broker's BROKER_DEFAULTS (a test checks it) but are stated here too, because these are
 * the defaults the CLI documents in --help and README.
 */
export const CLI_DEFAULTS = Object.freeze({
  brokerName: 'localhost',
  /** Relative to the working directory. */
  dataDir: './data',
  /** Loopback: a broker is reachable from elsewhere only when asked to be. */
  host: '127.0.0.1',
  stompPort: DEFAULT_PORTS.stomp as number | null,
  wsPort: DEFAULT_PORTS.ws as number | null,
  /** ActiveMQ's default is unlimited; 1000 is the article's value, a bound on sockets and memory. */
  maximumConnections: 1000,
  /** ActiveMQ's documented wireFormat.maxFrameSize example, 104857600 bytes. */
  maxFrameSize: 100 * MiB,
  users: Object.freeze([]) as readonly UserCredential[],
  syncWrites: true,
  maximumRedeliveries: 6,
  deadLetterQueue: 'ActiveMQ.DLQ',
  destinationMemoryLimit: 64 * MiB,
  defaultPrefetch: 1000,
  /** Producer de-duplication windows kept (see packages/broker/src/producer-window.ts for the reason). */
  maxFailoverProducersToTrack: 4096,
  logLevel: 'info' as LogLevel,
  group: null as string | null,
});

/** Known keys at each level of the file, in the order README documents them. */
export const CONFIG_KEYS = Object.freeze({
  root: ['brokerName', 'dataDirectory', 'transportConnectors', 'persistenceAdapter', 'plugins', 'destinationPolicy',
    'networkConnectors', 'replicatedLevelDB'],
  transportConnector: ['name', 'uri'],
  persistenceAdapter: ['levelDB'],
  levelDB: ['directory', 'sync', 'maxFailoverProducersToTrack'],
  plugins: ['simpleAuthenticationPlugin'],
  simpleAuthenticationPlugin: ['users'],
  user: ['username', 'password'],
  destinationPolicy: ['maximumRedeliveries', 'deadLetterQueue', 'memoryLimit', 'prefetchSize'],
} as const);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** What a config file sets; anything absent falls back to CLI_DEFAULTS. */
type FileSettings = Partial<Mutable<ResolvedBrokerOptions>>;

function configError(message: string): never {
  throw new CliError('CLI_CONFIG_INVALID', message);
}

/** A JSON object at `where` holding only `known` keys. */
function objectAt(value: unknown, where: string, name: string, known: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid({ name, where }, 'an object', value);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) configError(`unknown key "${key}" at ${where} (known: ${known.join(', ')})`);
  }
  return value as Record<string, unknown>;
}

function arrayAt(value: unknown, where: string, name: string): unknown[] {
  if (!Array.isArray(value)) invalid({ name, where }, 'an array', value);
  return value;
}

/** Reads and validates the file's JSON value; relative directories are taken from `baseDir`, the file's folder. */
function readFileSettings(raw: unknown, baseDir: string): FileSettings {
  const root = objectAt(raw, '$', 'the config file', CONFIG_KEYS.root);
  const out: FileSettings = {};
  if (root.brokerName !== undefined) out.brokerName = nonEmptyString(root.brokerName, { name: 'brokerName', where: '$.brokerName' });
  if (root.dataDirectory !== undefined) {
    out.dataDir = path.resolve(baseDir, nonEmptyString(root.dataDirectory, { name: 'dataDirectory', where: '$.dataDirectory' }));
  }
  if (root.transportConnectors !== undefined) Object.assign(out, readConnectors(root.transportConnectors));
  if (root.persistenceAdapter !== undefined) Object.assign(out, readPersistence(root.persistenceAdapter, baseDir));
  if (root.plugins !== undefined) Object.assign(out, readPlugins(root.plugins));
  if (root.destinationPolicy !== undefined) Object.assign(out, readDestinationPolicy(root.destinationPolicy));
  rejectReserved(root.networkConnectors, 'networkConnectors', 5);
  rejectReserved(root.replicatedLevelDB, 'replicatedLevelDB', 4);
  return out;
}

/** Keys kept for features still to come: an empty value is accepted so one file can be written ahead. */
function rejectReserved(value: unknown, name: string, issue: number): void {
  const empty = value === undefined || value === null || (Array.isArray(value) && value.length === 0);
  if (!empty) configError(`${name} is not supported yet (issue ${issue}) (at $.${name})`);
}

interface FoundConnector { readonly spec: ConnectorSpec; readonly where: string }

/** transportConnectors: the listed listeners are on, the rest off, as in activemq.xml. */
function readConnectors(value: unknown): FileSettings {
  const list = arrayAt(value, '$.transportConnectors', 'transportConnectors');
  if (list.length === 0) configError('transportConnectors is empty: list a stomp or ws connector, or leave the key out for the defaults (at $.transportConnectors)');
  const found = new Map<ListenerProtocol, FoundConnector>();
  list.forEach((item, i) => {
    const where = `$.transportConnectors[${i}]`;
    const connector = objectAt(item, where, 'a transport connector', CONFIG_KEYS.transportConnector);
    if (connector.name !== undefined) nonEmptyString(connector.name, { name: 'name', where: `${where}.name` });
    const uri = nonEmptyString(connector.uri, { name: 'uri', where: `${where}.uri` });
    const spec = parseConnectorUri(uri, `${where}.uri`);
    const earlier = found.get(spec.protocol);
    // One listener per protocol: BrokerOptions has one stompPort and one wsPort.
    if (earlier) configError(`mini-amq runs one ${spec.protocol} listener, but ${earlier.where} and ${where}.uri are both ${spec.protocol} connectors`);
    found.set(spec.protocol, { spec, where: `${where}.uri` });
  });
  const all = [...found.values()];
  return {
    stompPort: found.get('stomp')?.spec.port ?? null,
    wsPort: found.get('ws')?.spec.port ?? null,
    host: shared(all, 'host', (s) => s.host)!,
    ...optional('maximumConnections', shared(all, 'maximumConnections', (s) => s.maximumConnections)),
    ...optional('maxFrameSize', shared(all, 'wireFormat.maxFrameSize', (s) => s.maxFrameSize)),
  };
}

/**
 * The broker applies one host, one maximumConnections and one maxFrameSize to both listeners, so a value given
 * on one connector applies to both and two different values are refused rather than one silently dropped.
 */
function shared<T>(found: readonly FoundConnector[], name: string, pick: (spec: ConnectorSpec) => T | undefined): T | undefined {
  const given = found.filter((f) => pick(f.spec) !== undefined);
  const distinct = new Set(given.map((f) => pick(f.spec)));
  if (distinct.size > 1) {
    const listed = given.map((f) => `${describeValue(pick(f.spec))} at ${f.where}`).join(', ');
    configError(`${name} differs between connectors (${listed}): mini-amq applies one value to both listeners`);
  }
  return given.length > 0 ? pick(given[0]!.spec) : undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function readPersistence(value: unknown, baseDir: string): FileSettings {
  const adapter = objectAt(value, '$.persistenceAdapter', 'persistenceAdapter', CONFIG_KEYS.persistenceAdapter);
  if (adapter.levelDB === undefined) return {};
  const where = '$.persistenceAdapter.levelDB';
  const levelDB = objectAt(adapter.levelDB, where, 'levelDB', CONFIG_KEYS.levelDB);
  const out: FileSettings = {};
  // The store's own directory beats the broker-wide dataDirectory, as in activemq.xml.
  if (levelDB.directory !== undefined) out.dataDir = path.resolve(baseDir, nonEmptyString(levelDB.directory, { name: 'directory', where: `${where}.directory` }));
  if (levelDB.sync !== undefined) out.syncWrites = boolean(levelDB.sync, { name: 'sync', where: `${where}.sync` });
  if (levelDB.maxFailoverProducersToTrack !== undefined) {
    out.maxFailoverProducersToTrack = positiveInteger(levelDB.maxFailoverProducersToTrack, { name: 'maxFailoverProducersToTrack', where: `${where}.maxFailoverProducersToTrack` });
  }
  return out;
}

function readPlugins(value: unknown): FileSettings {
  const plugins = objectAt(value, '$.plugins', 'plugins', CONFIG_KEYS.plugins);
  if (plugins.simpleAuthenticationPlugin === undefined) return {};
  const where = '$.plugins.simpleAuthenticationPlugin';
  const plugin = objectAt(plugins.simpleAuthenticationPlugin, where, 'simpleAuthenticationPlugin', CONFIG_KEYS.simpleAuthenticationPlugin);
  const list = arrayAt(plugin.users ?? [], `${where}.users`, 'users');
  // An empty user list would mean "authentication on, nobody may log in": almost surely a mistake.
  if (list.length === 0) configError(`simpleAuthenticationPlugin needs at least one user; remove the plugin to allow anonymous connections (at ${where}.users)`);
  const users = list.map((item, i): UserCredential => {
    const userWhere = `${where}.users[${i}]`;
    const user = objectAt(item, userWhere, 'a user', CONFIG_KEYS.user);
    const username = nonEmptyString(user.username, { name: 'username', where: `${userWhere}.username` });
    if (typeof user.password !== 'string') invalid({ name: 'password', where: `${userWhere}.password` }, 'a string', user.password);
    return Object.freeze({ username, password: user.password });
  });
  const names = users.map((u) => u.username);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) configError(`user "${twice}" is listed twice (at ${where}.users)`);
  return { users: Object.freeze(users) };
}

function readDestinationPolicy(value: unknown): FileSettings {
  const where = '$.destinationPolicy';
  const policy = objectAt(value, where, 'destinationPolicy', CONFIG_KEYS.destinationPolicy);
  const out: FileSettings = {};
  const setting = (name: string) => ({ name, where: `${where}.${name}` });
  if (policy.maximumRedeliveries !== undefined) out.maximumRedeliveries = nonNegativeInteger(policy.maximumRedeliveries, setting('maximumRedeliveries'));
  if (policy.deadLetterQueue !== undefined) out.deadLetterQueue = nonEmptyString(policy.deadLetterQueue, setting('deadLetterQueue'));
  if (policy.memoryLimit !== undefined) out.destinationMemoryLimit = size(policy.memoryLimit, setting('memoryLimit'));
  // [ActiveMQ STOMP] prefetch 0 is not supported over STOMP, hence positive.
  if (policy.prefetchSize !== undefined) out.defaultPrefetch = positiveInteger(policy.prefetchSize, setting('prefetchSize'));
  return out;
}

/** Drops keys whose value is undefined, so spreading overrides never erases a setting. */
function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Defaults, then the file's JSON value (`raw`, undefined for no file), then the flags; validated and frozen.
 * `baseDir` anchors the file's relative directories, `cwd` the flags' and the default's.
 */
export function resolveConfig(raw: unknown, overrides: ConfigOverrides = {}, options: { baseDir?: string; cwd?: string; configFile?: string | null } = {}): CliConfig {
  const cwd = options.cwd ?? process.cwd();
  const file = raw === undefined ? {} : readFileSettings(raw, options.baseDir ?? cwd);
  const { group, logLevel, pretty, dataDir, ...brokerFlags } = overrides;
  const broker: ResolvedBrokerOptions = Object.freeze({
    ...pickBroker(CLI_DEFAULTS),
    dataDir: path.resolve(cwd, CLI_DEFAULTS.dataDir),
    ...file,
    ...defined({ ...brokerFlags, dataDir: dataDir === undefined ? undefined : path.resolve(cwd, dataDir) }),
  });
  checkListeners(broker);
  return Object.freeze({
    broker,
    logLevel: logLevel ?? CLI_DEFAULTS.logLevel,
    pretty: pretty ?? false,
    group: group ?? CLI_DEFAULTS.group,
    configFile: options.configFile ?? null,
  });
}

function pickBroker(d: typeof CLI_DEFAULTS): ResolvedBrokerOptions {
  const { logLevel: _logLevel, group: _group, ...broker } = d;
  return broker;
}

/** Combinations no single setting can catch: the broker must be reachable and its two listeners distinct. */
function checkListeners(broker: ResolvedBrokerOptions): void {
  if (broker.stompPort === null && broker.wsPort === null) {
    configError('no listener left: the config lists no stomp connector and the WebSocket one is off, so no client could connect');
  }
  if (broker.stompPort !== null && broker.stompPort !== 0 && broker.stompPort === broker.wsPort) {
    configError(`the stomp and ws listeners both use port ${broker.stompPort}: give them different ports`);
  }
}

/**
 * Where in the text JSON.parse stopped, as " (line L)": editors speak lines, V8 speaks offsets or quotes a
 * snippet around the bad token ("...ectory": }..."), which we look up in the text.
 */
function jsonLine(text: string, message: string): string {
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  const position = /at position (\d+)/.exec(message);
  if (/line \d+/.test(message)) return '';
  if (position) return ` (line ${lineOf(Number(position[1]))})`;
  const snippet = /, (\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON$/.exec(message);
  const found = snippet ? text.indexOf(snippet[2]!) : -1;
  // V8 starts a truncated snippet this many characters before the bad token.
  const SNIPPET_LEAD_CHARS = 10;
  return found < 0 ? '' : ` (line ${lineOf(found + (snippet![1] ? SNIPPET_LEAD_CHARS : 0))})`;
}

/**
 * Reads the config file (if any), then applies the flags: the whole configuration `mini-amq start` runs with.
 * Every problem is a CliError whose message starts with the file's path.
 */
export async function loadConfig(file: string | undefined, overrides: ConfigOverrides = {}, cwd: string = process.cwd()): Promise<CliConfig> {
  if (file === undefined) return resolveConfig(undefined, overrides, { cwd });
  const configFile = path.resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(configFile, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError('CLI_CONFIG_INVALID', `cannot read config file ${file}: ${reason}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const oneLine = message.replace(/\s*\n\s*/g, ' ');
    throw new CliError('CLI_CONFIG_INVALID', `config file ${file} is not valid JSON${jsonLine(text, message)}: ${oneLine}`, { cause: error });
  }
  try {
    return resolveConfig(raw, overrides, { baseDir: path.dirname(configFile), cwd, configFile });
  } catch (error) {
    if (error instanceof CliError) throw new CliError(error.code, `config file ${file}: ${error.message}`, { cause: error });
    throw error;
  }
}
