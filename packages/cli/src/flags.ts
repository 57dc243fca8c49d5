/**
 * The flags of `mini-amq start`, declared once: the same table drives node:util parseArgs (strict), the
 * --help text and the check that turns flag strings into typed ConfigOverrides. A bad command line is a
 * CLI_USAGE error (exit 2) whose message names the flag and points to --help.
 */
import { parseArgs } from 'node:util';
import { CLI_DEFAULTS, type ConfigOverrides } from './config.js';
import { CliError } from './errors.js';
import { FRAME_BYTES_LIMIT, LOG_LEVELS, logLevel, nonEmptyString, port, positiveInteger, size } from './values.js';

/** One flag: how parseArgs reads it and how --help shows it. */
export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  /** Placeholder for the value in --help, e.g. `N`. */
  readonly value?: string;
  readonly help: string;
  /** The default as --help shows it; absent for flags without one. */
  readonly default?: string;
}

export const START_FLAGS: readonly FlagSpec[] = Object.freeze([
  { name: 'port', type: 'string', value: 'N', help: 'STOMP over TCP port; 0 = any free port', default: String(CLI_DEFAULTS.stompPort) },
  { name: 'ws-port', type: 'string', value: 'N', help: 'STOMP over WebSocket port; 0 = any free port', default: String(CLI_DEFAULTS.wsPort) },
  { name: 'no-ws', type: 'boolean', help: 'run without the WebSocket listener' },
  { name: 'host', type: 'string', value: 'ADDR', help: 'address both listeners bind to; 0.0.0.0 = all', default: CLI_DEFAULTS.host },
  { name: 'data', type: 'string', value: 'DIR', help: 'data directory (the LevelDB store)', default: CLI_DEFAULTS.dataDir },
  { name: 'name', type: 'string', value: 'NAME', help: 'broker name (ActiveMQ brokerName)', default: CLI_DEFAULTS.brokerName },
  { name: 'group', type: 'string', value: 'NAME', help: 'replication group; only logged until issue 4', default: 'none' },
  { name: 'config', type: 'string', value: 'FILE', help: 'JSON config file, ActiveMQ key names (README)', default: 'none' },
  { name: 'max-connections', type: 'string', value: 'N', help: 'most connections per listener (maximumConnections)', default: String(CLI_DEFAULTS.maximumConnections) },
  { name: 'max-frame-size', type: 'string', value: 'BYTES', help: 'largest frame, bytes or "10 mb" (wireFormat.maxFrameSize)', default: String(CLI_DEFAULTS.maxFrameSize) },
  { name: 'log-level', type: 'string', value: 'LEVEL', help: LOG_LEVELS.join('|'), default: CLI_DEFAULTS.logLevel },
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

function usage(message: string, command: string): never {
  throw new CliError('CLI_USAGE', `${message}; see ${command} --help`);
}

/** parseArgs' errors reworded: the user needs the flag's name and where the list of flags is. */
function explainParseError(error: unknown, command: string): never {
  const { code, message } = error as { code?: string; message: string };
  const quoted = /'([^']*)'/.exec(message)?.[1]?.replace(/ <value>$/, '') ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') usage(`unknown flag ${quoted} for ${command}`, command);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') usage(`unexpected argument "${quoted}": ${command} takes only flags`, command);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const spec = START_FLAGS.find((f) => `--${f.name}` === quoted);
    usage(spec?.type === 'boolean' ? `flag ${quoted} takes no value` : `flag ${quoted} needs a value`, command);
  }
  throw error;
}

/** Turns a flag's text into its typed value; a bad value is a usage error naming the flag. */
function checked<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof CliError) throw new CliError('CLI_USAGE', `${error.message}; see mini-amq start --help`, { cause: error });
    throw error;
  }
}

/** Parses `mini-amq start`'s arguments (argv after the command word). */
export function parseStartArgs(argv: readonly string[], pretty = false): StartArgs {
  const command = 'mini-amq start';
  const options = Object.fromEntries(START_FLAGS.map((f) => [f.name, f.short ? { type: f.type, short: f.short } : { type: f.type }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (error) {
    explainParseError(error, command);
  }
  const text = (name: string) => values[name] as string | undefined;
  if (values['no-ws'] === true && text('ws-port') !== undefined) usage('--no-ws and --ws-port contradict each other: pass one', command);
  const given = <T>(name: string, read: (value: string, setting: { name: string }) => T): T | undefined => {
    const value = text(name);
    return value === undefined ? undefined : checked(() => read(value, { name: `--${name}` }));
  };
  const overrides: ConfigOverrides = {
    stompPort: given('port', port),
    wsPort: values['no-ws'] === true ? null : given('ws-port', port),
    host: given('host', nonEmptyString),
    dataDir: given('data', nonEmptyString),
    brokerName: given('name', nonEmptyString),
    group: given('group', nonEmptyString),
    maximumConnections: given('max-connections', positiveInteger),
    maxFrameSize: given('max-frame-size', (v, s) => size(v, s, FRAME_BYTES_LIMIT)),
    logLevel: given('log-level', logLevel),
    pretty,
  };
  return {
    help: values.help === true,
    version: values.version === true,
    configFile: given('config', nonEmptyString),
    overrides: Object.freeze(Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined))),
  };
}

/** Left column of the flag list: `-h, --help` or `    --port N`, so long names line up. */
function flagLabel(f: FlagSpec): string {
  const long = `--${f.name}${f.value ? ` ${f.value}` : ''}`;
  return f.short ? `-${f.short}, ${long}` : `    ${long}`;
}

export function startHelp(): string {
  const width = Math.max(...START_FLAGS.map((f) => flagLabel(f).length)) + 2;
  const lines = START_FLAGS.map((f) => `  ${flagLabel(f).padEnd(width)}${f.help}${f.default === undefined ? '' : ` (default ${f.default})`}`);
  return [
    'Usage: mini-amq start [flags]',
    '',
    'Runs a standalone broker: STOMP over TCP and over WebSocket, messages kept in a LevelDB store',
    'in the data directory. No ZooKeeper is needed. Flags override the config file; a setting',
    'neither gives takes the default shown. Stop it with Ctrl-C or SIGTERM: it closes connections',
    'and flushes the store first (a second signal exits at once).',
    '',
    'Flags:',
    ...lines,
    '',
    'Examples:',
    '  mini-amq start',
    '  mini-amq start --port 0 --ws-port 0 --data /tmp/amq1 --name broker1',
    '  mini-amq start --config broker.json --log-level debug',
    '',
  ].join('\n');
}

export function mainHelp(): string {
  return [
    'Usage: mini-amq <command> [flags]',
    '',
    'mini-amq is a STOMP message broker: ActiveMQ Classic\'s broker and clustering, natively in Node.js.',
    '',
    'Commands:',
    '  start          run a standalone broker (mini-amq start --help lists its flags)',
    '  help [CMD]     show this help, or a command\'s',
    '',
    'Flags:',
    '  -h, --help     show this help',
    '      --version  print the version',
    '',
    'Coming later: produce, consume, browse and status (issue 3), replication groups (issue 4),',
    'network connectors (issue 5).',
    '',
  ].join('\n');
}
