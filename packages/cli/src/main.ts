/**
 * The `mini-amq` binary's entry: picks the command, turns expected failures into one line on stderr with
 * exit status 1 (2 for a bad command line), and lets unexpected ones show their stack.
 */
import { readFileSync } from 'node:fs';
import type { Parsed } from './client-args.js';
import { processIo, type CommandIo } from './command-io.js';
import { browseHelp, parseBrowseArgs, runBrowse } from './commands/browse.js';
import { consumeHelp, parseConsumeArgs, runConsume } from './commands/consume.js';
import { parseProduceArgs, produceHelp, runProduce } from './commands/produce.js';
import { parseStatusArgs, runStatus, statusHelp } from './commands/status.js';
import { loadConfig } from './config.js';
import { CliError, EXIT_FAILURE, EXIT_OK, exitStatusOf } from './errors.js';
import { mainHelp, parseStartArgs, startHelp } from './flags.js';

/** The package's version; package.json sits one level above both src/ and dist/. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** A client command: its --help, its parser, and what runs it. */
interface ClientCommand<T> {
  readonly help: () => string;
  readonly parse: (argv: readonly string[]) => Parsed<T>;
  readonly run: (args: T, io: CommandIo) => Promise<number>;
}

/** Keeps each entry's parser and runner agreeing on the argument type. */
function clientCommand<T>(command: ClientCommand<T>): ClientCommand<unknown> {
  return command as ClientCommand<unknown>;
}

const CLIENT_COMMANDS: Readonly<Record<string, ClientCommand<unknown>>> = Object.freeze({
  produce: clientCommand({ help: produceHelp, parse: parseProduceArgs, run: runProduce }),
  consume: clientCommand({ help: consumeHelp, parse: parseConsumeArgs, run: runConsume }),
  browse: clientCommand({ help: browseHelp, parse: parseBrowseArgs, run: runBrowse }),
  status: clientCommand({ help: statusHelp, parse: parseStatusArgs, run: runStatus }),
});

const COMMAND_HELP: Readonly<Record<string, () => string>> = Object.freeze({
  start: startHelp,
  ...Object.fromEntries(Object.entries(CLIENT_COMMANDS).map(([name, c]) => [name, c.help])),
});

async function start(argv: readonly string[]): Promise<number> {
  const args = parseStartArgs(argv, process.stdout.isTTY === true);
  if (args.help) return print(startHelp());
  if (args.version) return print(`mini-amq ${version()}\n`);
  const config = await loadConfig(args.configFile, args.overrides);
  // Loaded only here, so --help and config errors work even when the broker cannot be loaded at all.
  const { runStart } = await import('./start.js');
  return runStart(config);
}

async function client(command: ClientCommand<unknown>, argv: readonly string[]): Promise<number> {
  const args = command.parse(argv);
  if (args.help) return print(command.help());
  const { io, release } = processIo();
  try {
    return await command.run(args, io);
  } finally {
    release();
  }
}

function print(text: string): number {
  process.stdout.write(text);
  return EXIT_OK;
}

function help(topic: string | undefined): number {
  if (topic === undefined) return print(mainHelp());
  const text = Object.hasOwn(COMMAND_HELP, topic) ? COMMAND_HELP[topic] : undefined;
  if (text === undefined) throw new CliError('CLI_USAGE', `no help for unknown command "${topic}"; see mini-amq --help`);
  return print(text());
}

async function dispatch(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(mainHelp());
    throw new CliError('CLI_USAGE', 'no command given');
  }
  if (first === '--help' || first === '-h') return help(undefined);
  if (first === '--version') return print(`mini-amq ${version()}\n`);
  if (first === 'help') return help(rest[0]);
  if (first === 'start') return start(rest);
  const command = Object.hasOwn(CLIENT_COMMANDS, first) ? CLIENT_COMMANDS[first] : undefined;
  if (command !== undefined) return client(command, rest);
  if (first.startsWith('-')) throw new CliError('CLI_USAGE', `unknown flag ${first}: flags come after the command, as in "mini-amq start --port 61613"; see mini-amq --help`);
  throw new CliError('CLI_USAGE', `unknown command "${first}"; see mini-amq --help`);
}

/** Runs the binary with `argv` (process.argv without node and the script); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`mini-amq: ${error.message}\n`);
      return exitStatusOf(error);
    }
    process.stderr.write(`mini-amq: unexpected failure (a bug; please report it with this trace):\n${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT_FAILURE;
  }
}
