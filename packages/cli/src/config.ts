/**
 * The config file model. `mini-amq start --config FILE` reads one JSON file whose keys are ActiveMQ's
 * names (activemq.xml's elements and attributes, flattened), validates it once, overlays the command-line
 * flags and yields complete, frozen BrokerOptions plus the binary's own settings. Unknown keys are refused
 * with their JSON path and the keys known there: a typo must not silently fall back to a default.
 * Sizes become bytes here and nowhere else (STYLE.md §5). A replicatedLevelDB object, `--group` or any
 * replication flag makes the broker a member of a replicated group (ReplicationConfig); otherwise it runs alone.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrokerOptions } from '@mini-amq/broker';
import { DEFAULT_PORTS, parseConnectorUri, type ConnectorSpec, type ListenerProtocol } from './connector.js';
import { CliError } from './errors.js';
import { networkFromFlags, readNetworkConnectors } from './network-config.js';
import type { NetworkConnectorConfig } from '@mini-amq/network';
import {
  MiB, PORT_MAX, at, boolean, describeValue, durationMs, invalid, nonEmptyString, nonNegativeInteger, positiveInteger,
  size, type LogLevel, type Setting,
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
  /** How this broker replicates its store, or null for a standalone broker. */
  readonly replication: ReplicationConfig | null;
  /** Network connectors (ActiveMQ `<networkConnectors>`): the file's, then the `--network` flags'. */
  readonly network: readonly NetworkConnectorConfig[];
  /** replication?.group, kept for the log lines and status that name the group (null when standalone). */
  readonly group: string | null;
  /** Absolute path of the config file read, or null when running on flags and defaults only. */
  readonly configFile: string | null;
}

/**
 * A member of a replicated master/slave group: ActiveMQ's `<replicatedLevelDB>` settings, resolved. The
 * members elect a master through ZooKeeper; the master serves clients and ships its store to the others.
 * In a group the store's durability is governed by `sync`, not by levelDB's sync (broker.syncWrites).
 */
export interface ReplicationConfig {
  /** The group's name (ActiveMQ replicatedLevelDB brokerName; members of one group share it). */
  readonly group: string;
  /** Members in the group, 2N+1: a write needs a majority, and an even count adds no tolerance. */
  readonly replicas: number;
  /** ZooKeeper's connection string: host:port items separated by commas. */
  readonly zkAddress: string;
  readonly zkPassword: string | null;
  /** The group's ZooKeeper node: its election and member records live under it. */
  readonly zkPath: string;
  readonly zkSessionTimeoutMs: number;
  /** `tcp://host:port` this member listens on for slaves when it is master; port 0 picks a free one. */
  readonly bind: string;
  /** The host the other members dial to reach `bind` (as in a URI: IPv6 in brackets). */
  readonly hostname: string;
  /** Among members with the newest data, the highest weight becomes master. */
  readonly weight: number;
  /** Members must present the same token to replicate from each other. */
  readonly securityToken: string;
  /** When a write is done: one of SYNC_MODES or a comma list of them, trimmed. */
  readonly sync: string;
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
  /** The replication group's name; it, or any replication setting below, turns replication on. */
  readonly group?: string;
  readonly replicas?: number;
  readonly zkAddress?: string;
  readonly zkPath?: string;
  readonly zkSessionTimeoutMs?: number;
  readonly bind?: string;
  readonly hostname?: string;
  readonly weight?: number;
  readonly securityToken?: string;
  readonly sync?: string;
  /** `--network` URIs, added to the file's connectors. */
  readonly network?: readonly string[];
  /** `--duplex`: every `--network` connector is duplex (a URI's own `duplex=` option still wins). */
  readonly duplex?: boolean;
  readonly logLevel?: LogLevel;
  readonly pretty?: boolean;
}

/** The overrides that configure replication (all but `group` have a default). */
type ReplicationOverrides = Pick<ConfigOverrides, 'group' | 'replicas' | 'zkAddress' | 'zkPath' | 'zkSessionTimeoutMs'
  | 'bind' | 'hostname' | 'weight' | 'securityToken' | 'sync'>;

/** The flag behind each replication override, to say which one turned replication on. */
export const REPLICATION_FLAGS: Readonly<Record<keyof ReplicationOverrides, string>> = Object.freeze({
  group: '--group', replicas: '--replicas', zkAddress: '--zk', zkPath: '--zk-path', zkSessionTimeoutMs: '--zk-session-timeout',
  bind: '--bind', hostname: '--hostname', weight: '--weight', securityToken: '--security-token', sync: '--sync',
});

/** ActiveMQ's replicatedLevelDB sync modes, in its documentation's order. */
export const SYNC_MODES = Object.freeze(['local_mem', 'local_disk', 'remote_mem', 'remote_disk', 'quorum_mem', 'quorum_disk'] as const);

/**
 * A replicated member's defaults: ActiveMQ's, except that `bind` is on loopback like our other listeners (a
 * member is reachable from other machines only when asked to be), and zkPath is per group, so that groups
 * sharing one ZooKeeper never meet (ActiveMQ's is "/default" for all). A group's name has no default.
 */
export const REPLICATION_DEFAULTS = Object.freeze({
  replicas: 3,
  zkAddress: '127.0.0.1:2181',
  zkPassword: null as string | null,
  /** zkPath is this, "/", then the group's name. */
  zkPathParent: '/activemq/leveldb-stores',
  zkSessionTimeoutMs: 2000,
  /** ActiveMQ's replication port, 61619. */
  bind: 'tcp://127.0.0.1:61619',
  weight: 1,
  securityToken: '',
  /** The master and replicas/2 slaves have the write in memory: survives any minority failing. */
  sync: 'quorum_mem',
});

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
  replicatedLevelDB: ['replicas', 'zkAddress', 'zkPassword', 'zkPath', 'zkSessionTimeout', 'bind', 'hostname', 'weight',
    'securityToken', 'sync', 'brokerName'],
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
/** What a file's replicatedLevelDB sets (the group from its brokerName); absent settings take REPLICATION_DEFAULTS. */
type FileReplication = Partial<Mutable<ReplicationConfig>>;
/** A file's settings: the broker's, and its replicatedLevelDB, or null when it has none. */
interface FileConfig {
  readonly broker: FileSettings;
  readonly replication: FileReplication | null;
  readonly network: readonly NetworkConnectorConfig[];
}

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
function readFileSettings(raw: unknown, baseDir: string): FileConfig {
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
  // null is README's way of writing "standalone" in a full example file.
  const replication = root.replicatedLevelDB === undefined || root.replicatedLevelDB === null ? null : readReplication(root.replicatedLevelDB);
  return { broker: out, replication, network: readNetworkConnectors(root.networkConnectors) };
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

/** replicatedLevelDB: each key checked as its flag is, with its JSON path. */
function readReplication(value: unknown): FileReplication {
  const where = '$.replicatedLevelDB';
  const repl = objectAt(value, where, 'replicatedLevelDB', CONFIG_KEYS.replicatedLevelDB);
  const setting = (name: string): Setting => ({ name, where: `${where}.${name}` });
  const out: FileReplication = {};
  if (repl.brokerName !== undefined) out.group = groupName(repl.brokerName, setting('brokerName'));
  if (repl.replicas !== undefined) out.replicas = replicas(repl.replicas, setting('replicas'));
  if (repl.zkAddress !== undefined) out.zkAddress = zkAddress(repl.zkAddress, setting('zkAddress'));
  if (repl.zkPassword !== undefined && repl.zkPassword !== null) out.zkPassword = nonEmptyString(repl.zkPassword, setting('zkPassword'));
  if (repl.zkPath !== undefined) out.zkPath = zkPath(repl.zkPath, setting('zkPath'));
  if (repl.zkSessionTimeout !== undefined) out.zkSessionTimeoutMs = durationMs(repl.zkSessionTimeout, setting('zkSessionTimeout'));
  if (repl.bind !== undefined) out.bind = bindUri(repl.bind, setting('bind'));
  if (repl.hostname !== undefined) out.hostname = hostname(repl.hostname, setting('hostname'));
  if (repl.weight !== undefined) out.weight = nonNegativeInteger(repl.weight, setting('weight'));
  if (repl.securityToken !== undefined) out.securityToken = anyString(repl.securityToken, setting('securityToken'));
  if (repl.sync !== undefined) out.sync = syncModes(repl.sync, setting('sync'));
  return out;
}

/** Any string, the empty one included (securityToken's default is ""). */
export function anyString(value: unknown, setting: Setting): string {
  if (typeof value !== 'string') invalid(setting, 'a string', value);
  return value;
}

/** A group's name, which also names its default ZooKeeper node, so it must be one node name. */
export function groupName(value: unknown, setting: Setting): string {
  const name = nonEmptyString(value, setting);
  if (name.includes('/') || name === '.' || name === '..') {
    invalid(setting, 'a name without "/" (it names the group\'s ZooKeeper node)', value);
  }
  return name;
}

/** 2N+1 members: an even count needs as large a majority as the next odd one and tolerates no more failures. */
export function replicas(value: unknown, setting: Setting): number {
  const n = positiveInteger(value, setting);
  if (n % 2 === 0) invalid(setting, 'odd (2N+1: 1, 3, 5, …; an even group tolerates no more failures than one member fewer)', value);
  return n;
}

/** A URI's host: a name or IPv4 address, or an IPv6 address in brackets. */
const URI_HOST = String.raw`(?:\[[0-9A-Fa-f:.]+\]|[^\s:/?#@\[\],]+)`;
const HOST_PORT = new RegExp(`^(${URI_HOST}):(\\d{1,5})$`);
/** Addresses that mean "every interface": fine to listen on, useless to dial. */
export const WILDCARD_HOSTS: readonly string[] = Object.freeze(['0.0.0.0', '::', '[::]']);

function portOf(digits: string): number | null {
  const n = Number(digits);
  return n <= PORT_MAX ? n : null;
}

/** ZooKeeper's connection string, "host:port" or "h1:p1,h2:p2" (spaces around items dropped); no chroot: that is zkPath. */
export function zkAddress(value: unknown, setting: Setting): string {
  const text = nonEmptyString(value, setting);
  const items = text.split(',').map((item) => item.trim());
  for (const item of items) {
    const match = HOST_PORT.exec(item);
    if (match === null || portOf(match[2]!) === null || portOf(match[2]!) === 0) {
      configError(`${setting.name} must be ZooKeeper servers as host:port items separated by commas (e.g. "127.0.0.1:2181" or "zk1:2181,zk2:2181"), but item ${describeValue(item)} is not one (in ${describeValue(value)})${at(setting)}`);
    }
  }
  return items.join(',');
}

/** A ZooKeeper node path, as ZooKeeper itself would accept it. */
export function zkPath(value: unknown, setting: Setting): string {
  const text = nonEmptyString(value, setting);
  const parts = text.split('/').slice(1);
  if (!text.startsWith('/') || parts.some((part) => part === '' || part === '.' || part === '..')) {
    invalid(setting, 'a ZooKeeper path: starting with "/", with no "//", no trailing "/" and no "." or ".." part (e.g. "/activemq/leveldb-stores/g1")', value);
  }
  return text;
}

/** The replication listener, `tcp://host:port` (port 0 picks a free one); the host is kept as written (IPv6 in brackets). */
export function bindUri(value: unknown, setting: Setting): string {
  const match = typeof value === 'string' ? /^tcp:\/\/(.+)$/.exec(value) : null;
  const hostPort = match === null ? null : HOST_PORT.exec(match[1]!);
  if (hostPort === null || portOf(hostPort[2]!) === null) {
    invalid(setting, `a URI tcp://host:port (port 0-${PORT_MAX}, 0 = any free port; e.g. "${REPLICATION_DEFAULTS.bind}")`, value);
  }
  return value as string;
}

/** bind's host and port; bind has passed bindUri. */
function bindParts(bind: string): { readonly host: string; readonly port: number } {
  const [, host, port] = HOST_PORT.exec(bind.slice('tcp://'.length))!;
  return { host: host!, port: Number(port) };
}

/** A host the other members can dial: not a wildcard address. */
export function hostname(value: unknown, setting: Setting): string {
  const text = nonEmptyString(value, setting);
  if (!new RegExp(`^${URI_HOST}$`).test(text) || WILDCARD_HOSTS.includes(text)) {
    invalid(setting, 'a host name or address the other members can reach (IPv6 in brackets, e.g. "[::1]"; not 0.0.0.0 or ::)', value);
  }
  return text;
}

/** ActiveMQ's `sync`: one mode or a comma list of them ("the stronger setting wins"); returned trimmed. */
export function syncModes(value: unknown, setting: Setting): string {
  const items = nonEmptyString(value, setting).split(',').map((item) => item.trim());
  const unknown = items.find((item) => !(SYNC_MODES as readonly string[]).includes(item));
  if (unknown !== undefined) {
    configError(`${setting.name} must be one or more of ${SYNC_MODES.join(', ')} separated by commas, but ${describeValue(unknown)} is not one (in ${describeValue(value)})${at(setting)}`);
  }
  return items.join(',');
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
  const file: FileConfig = raw === undefined ? { broker: {}, replication: null, network: [] } : readFileSettings(raw, options.baseDir ?? cwd);
  const {
    logLevel, pretty, dataDir, network: networkFlags, duplex,
    group, replicas: replicasFlag, zkAddress: zkAddressFlag, zkPath: zkPathFlag, zkSessionTimeoutMs, bind, hostname: hostnameFlag,
    weight, securityToken, sync,
    ...brokerFlags
  } = overrides;
  const broker: ResolvedBrokerOptions = Object.freeze({
    ...pickBroker(CLI_DEFAULTS),
    dataDir: path.resolve(cwd, CLI_DEFAULTS.dataDir),
    ...file.broker,
    ...defined({ ...brokerFlags, dataDir: dataDir === undefined ? undefined : path.resolve(cwd, dataDir) }),
  });
  checkListeners(broker);
  const replication = resolveReplication(file.replication, {
    group, replicas: replicasFlag, zkAddress: zkAddressFlag, zkPath: zkPathFlag, zkSessionTimeoutMs, bind, hostname: hostnameFlag,
    weight, securityToken, sync,
  }, broker);
  return Object.freeze({
    broker,
    logLevel: logLevel ?? CLI_DEFAULTS.logLevel,
    pretty: pretty ?? false,
    replication,
    network: Object.freeze([...file.network, ...networkFromFlags(networkFlags ?? [], duplex ?? false)]),
    group: replication?.group ?? CLI_DEFAULTS.group,
    configFile: options.configFile ?? null,
  });
}

/**
 * Replication is on when the file has a replicatedLevelDB object or any replication flag is given: defaults,
 * then the file's replicatedLevelDB, then the flags. Null when it is off.
 */
function resolveReplication(file: FileReplication | null, overrides: ReplicationOverrides, broker: ResolvedBrokerOptions): ReplicationConfig | null {
  const flags = defined(overrides);
  const flagged = Object.keys(flags) as Array<keyof ReplicationOverrides>;
  if (file === null && flagged.length === 0) return null;
  const why = file !== null ? 'the config file has replicatedLevelDB' : `${REPLICATION_FLAGS[flagged[0]!]} was given`;
  const group = flags.group ?? file?.group;
  if (group === undefined) {
    configError(`replication is on (${why}) but the group has no name: pass --group NAME or set replicatedLevelDB.brokerName (at $.replicatedLevelDB.brokerName)`);
  }
  // The members of a group tell each other apart by name (ZooKeeper records, logs, status).
  if (broker.brokerName === CLI_DEFAULTS.brokerName) {
    configError('in a replication group every member needs its own name: pass --name (e.g. --name b1) or set brokerName (at $.brokerName)');
  }
  const { zkPathParent, ...defaults } = REPLICATION_DEFAULTS;
  const merged = { ...defaults, ...file, ...flags, group };
  const { host: bindHost } = bindParts(merged.bind);
  const replication: ReplicationConfig = Object.freeze({
    ...merged,
    // groupName keeps "/" out of the group's name, so this is always one node below the parent.
    zkPath: merged.zkPath ?? `${zkPathParent}/${group}`,
    // A wildcard bind listens everywhere; the others reach this machine by its name.
    hostname: merged.hostname ?? (WILDCARD_HOSTS.includes(bindHost) ? os.hostname() : bindHost),
  });
  checkBindPort(broker, replication);
  return replication;
}

/** The replication listener cannot share a port with a client listener on an address both listen on. */
function checkBindPort(broker: ResolvedBrokerOptions, replication: ReplicationConfig): void {
  const { host, port } = bindParts(replication.bind);
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const overlaps = bare === broker.host || WILDCARD_HOSTS.includes(host) || WILDCARD_HOSTS.includes(broker.host);
  for (const [listener, listenerPort] of [['stomp', broker.stompPort], ['ws', broker.wsPort]] as const) {
    if (port !== 0 && port === listenerPort && overlaps) {
      configError(`the replication bind ${replication.bind} and the ${listener} listener both use port ${port}: give them different ports`);
    }
  }
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
