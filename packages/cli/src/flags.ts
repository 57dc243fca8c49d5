/**
 * The flags of `mini-amq start` (a flag table, see flag-table.ts, turned into typed ConfigOverrides) and
 * the binary's own --help. The client commands declare their tables next to their code in commands/.
 */
import {
  CLI_DEFAULTS, REPLICATION_DEFAULTS, SYNC_MODES, anyString, bindUri, groupName, hostname, replicas, syncModes, zkAddress, zkPath,
  type ConfigOverrides,
} from './config.js';
import { checked, given, helpText, readFlags, usage, type FlagSpec } from './flag-table.js';
import {
  FRAME_BYTES_LIMIT, LOG_LEVELS, durationMs, logLevel, nonEmptyString, nonNegativeInteger, port, positiveInteger, size, type Setting,
} from './values.js';

export type { FlagSpec } from './flag-table.js';

export const START_FLAGS: readonly FlagSpec[] = Object.freeze([
  { name: 'port', type: 'string', value: 'N', help: 'STOMP over TCP port; 0 = any free port', default: String(CLI_DEFAULTS.stompPort) },
  { name: 'ws-port', type: 'string', value: 'N', help: 'STOMP over WebSocket port; 0 = any free port', default: String(CLI_DEFAULTS.wsPort) },
  { name: 'no-ws', type: 'boolean', help: 'run without the WebSocket listener' },
  { name: 'host', type: 'string', value: 'ADDR', help: 'address both listeners bind to; 0.0.0.0 = all', default: CLI_DEFAULTS.host },
  { name: 'data', type: 'string', value: 'DIR', help: 'data directory (the LevelDB store)', default: CLI_DEFAULTS.dataDir },
  { name: 'name', type: 'string', value: 'NAME', help: 'broker name (ActiveMQ brokerName)', default: CLI_DEFAULTS.brokerName },
  { name: 'config', type: 'string', value: 'FILE', help: 'JSON config file, ActiveMQ key names (README)', default: 'none' },
  { name: 'max-connections', type: 'string', value: 'N', help: 'most connections per listener (maximumConnections)', default: String(CLI_DEFAULTS.maximumConnections) },
  { name: 'max-frame-size', type: 'string', value: 'BYTES', help: 'largest frame, bytes or "10 mb" (wireFormat.maxFrameSize)', default: String(CLI_DEFAULTS.maxFrameSize) },
  { name: 'log-level', type: 'string', value: 'LEVEL', help: LOG_LEVELS.join('|'), default: CLI_DEFAULTS.logLevel },
  // Replication: --group or any flag below turns it on (ActiveMQ replicatedLevelDB names in parentheses).
  { name: 'group', type: 'string', value: 'NAME', help: 'replication group (ActiveMQ replicatedLevelDB brokerName); turns replication on', default: 'none' },
  { name: 'replicas', type: 'string', value: 'N', help: 'members in the group, odd: 2N+1 (replicas)', default: String(REPLICATION_DEFAULTS.replicas) },
  { name: 'zk', type: 'string', value: 'HOSTS', help: 'ZooKeeper servers, host:port[,host:port...] (zkAddress)', default: REPLICATION_DEFAULTS.zkAddress },
  { name: 'zk-path', type: 'string', value: 'PATH', help: 'the group\'s ZooKeeper node (zkPath)', default: `${REPLICATION_DEFAULTS.zkPathParent}/GROUP` },
  { name: 'zk-session-timeout', type: 'string', value: 'MS', help: 'ZooKeeper session timeout, ms or "2s" (zkSessionTimeout)', default: String(REPLICATION_DEFAULTS.zkSessionTimeoutMs) },
  { name: 'bind', type: 'string', value: 'URI', help: 'where the master serves slaves; port 0 = any free port (bind)', default: REPLICATION_DEFAULTS.bind },
  { name: 'hostname', type: 'string', value: 'HOST', help: 'host the other members dial to reach --bind (hostname)', default: '--bind\'s host' },
  { name: 'weight', type: 'string', value: 'N', help: 'election preference among up-to-date members (weight)', default: String(REPLICATION_DEFAULTS.weight) },
  { name: 'security-token', type: 'string', value: 'TOKEN', help: 'shared by the members of a group (securityToken)', default: 'none' },
  { name: 'sync', type: 'string', value: 'MODES', help: 'when a write is done, see below (sync)', default: REPLICATION_DEFAULTS.sync },
  // Network of brokers (ActiveMQ networkConnector names in the URI's options).
  { name: 'network', type: 'string', multiple: true, value: 'URI', help: 'a network connector, static:(tcp://host:port,…) or masterslave:(…), options as ?duplex=true&networkTTL=2; repeatable', default: 'none' },
  { name: 'duplex', type: 'boolean', help: 'every --network connector also forwards back (duplex=true)' },
  { name: 'help', short: 'h', type: 'boolean', help: 'show this help' },
  { name: 'version', type: 'boolean', help: 'print the version' },
]);

/** What `mini-amq start`'s command line asks for. */
export interface StartArgs {
  readonly help: boolean;
  readonly version: boolean;
  readonly configFile: string | undefined;
  readonly overrides: ConfigOverrides;
}

/** Parses `mini-amq start`'s arguments (argv after the command word). */
export function parseStartArgs(argv: readonly string[], pretty = false): StartArgs {
  const command = 'mini-amq start';
  const values = readFlags(command, START_FLAGS, argv);
  if (values['no-ws'] === true && values['ws-port'] !== undefined) usage('--no-ws and --ws-port contradict each other: pass one', command);
  if (values.duplex === true && !Array.isArray(values.network)) usage('--duplex applies to --network connectors: give at least one --network', command);
  const flag = <T>(name: string, read: (value: string, setting: Setting) => T): T | undefined => given(command, values, name, read);
  const overrides: ConfigOverrides = {
    stompPort: flag('port', port),
    wsPort: values['no-ws'] === true ? null : flag('ws-port', port),
    host: flag('host', nonEmptyString),
    dataDir: flag('data', nonEmptyString),
    brokerName: flag('name', nonEmptyString),
    group: flag('group', groupName),
    replicas: flag('replicas', replicas),
    zkAddress: flag('zk', zkAddress),
    zkPath: flag('zk-path', zkPath),
    zkSessionTimeoutMs: flag('zk-session-timeout', durationMs),
    bind: flag('bind', bindUri),
    hostname: flag('hostname', hostname),
    weight: flag('weight', nonNegativeInteger),
    securityToken: flag('security-token', anyString),
    sync: flag('sync', syncModes),
    network: Array.isArray(values.network) ? values.network.map((uri) => checked(command, () => nonEmptyString(uri, { name: '--network' }))) : undefined,
    duplex: values.duplex === true ? true : undefined,
    maximumConnections: flag('max-connections', positiveInteger),
    maxFrameSize: flag('max-frame-size', (v, s) => size(v, s, FRAME_BYTES_LIMIT)),
    logLevel: flag('log-level', logLevel),
    pretty,
  };
  return {
    help: values.help === true,
    version: values.version === true,
    configFile: flag('config', nonEmptyString),
    overrides: Object.freeze(Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined))),
  };
}

export function startHelp(): string {
  return helpText({
    usage: 'mini-amq start [flags]',
    about: [
      'Runs a broker: STOMP over TCP and over WebSocket, messages kept in a LevelDB store in the data',
      'directory. Alone by default, with no ZooKeeper. With --group (or replicatedLevelDB in the config',
      'file) it is one member of a replicated master/slave group of --replicas brokers: ZooKeeper elects',
      'a master, which serves clients and ships its store to the others. Each member needs its own',
      '--name, --data and --bind port. Flags override the config file; a setting neither gives takes',
      'the default shown. Stop it with Ctrl-C or SIGTERM: it closes connections and flushes the store',
      'first (a second signal exits at once).',
    ],
    flags: START_FLAGS,
    after: [
      `--sync modes: ${SYNC_MODES.join(', ')}.`,
      'local_* wait for the master alone, remote_* and quorum_* also for replicas/2 slaves; local_disk',
      'fsyncs on the master, remote_disk on the slaves, quorum_disk on both. A comma list asks for all',
      'it names.',
    ],
    examples: [
      'mini-amq start',
      'mini-amq start --port 0 --ws-port 0 --data /tmp/amq1 --name broker1',
      'mini-amq start --config broker.json --log-level debug',
      'mini-amq start --name b1 --group g1 --replicas 3 --zk 127.0.0.1:2181 --port 61613 --bind tcp://127.0.0.1:0 --sync quorum_mem',
    ],
  });
}

export function mainHelp(): string {
  return [
    'Usage: mini-amq <command> [flags]',
    '',
    'mini-amq is a STOMP message broker: ActiveMQ Classic\'s broker and clustering, natively in Node.js.',
    '',
    'Commands:',
    '  start          run a standalone broker, or a member of a replicated group',
    '  produce        send messages to a queue or topic (ActiveMQ\'s `activemq producer`)',
    '  consume        receive messages, counting lost and duplicated ones (`activemq consumer`)',
    '  browse         list a queue\'s messages without consuming them (`activemq browse`)',
    '  status         the broker\'s destinations and their counters (`activemq dstat`)',
    '  help [CMD]     show this help, or a command\'s',
    '',
    'mini-amq <command> --help lists the flags of a command with their defaults.',
    '',
    'Flags:',
    '  -h, --help     show this help',
    '      --version  print the version',
    '',
    'Coming later: network connectors (issue 5).',
    '',
  ].join('\n');
}
