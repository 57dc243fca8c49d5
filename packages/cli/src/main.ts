/**
 * The `mini-amq` binary's entry: picks the command, turns expected failures into one line on stderr with
 * exit status 1 (2 for a bad command line), and lets unexpected ones show their stack.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from './config.js';
import { CliError, EXIT_FAILURE, EXIT_OK, exitStatusOf } from './errors.js';
import { mainHelp, parseStartArgs, startHelp } from './flags.js';

/** The package's version; package.json sits one level above both src/ and dist/. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const COMMAND_HELP: Readonly<Record<string, () => string>> = Object.freeze({ start: startHelp });

async function start(argv: readonly string[]): Promise<number> {
  const args = parseStartArgs(argv, process.stdout.isTTY === true);
  if (args.help) return print(startHelp());
  if (args.version) return print(`mini-amq ${version()}\n`);
  const config = await loadConfig(args.configFile, args.overrides);
  // Loaded only here, so --help and config errors work even when the broker cannot be loaded at all.
  const { runStart } = await import('./start.js');
  return runStart(config);
}

function print(text: string): number {
  process.stdout.write(text);
  return EXIT_OK;
}

function help(topic: string | undefined): number {
  if (topic === undefined) return print(mainHelp());
  const text = COMMAND_HELP[topic];
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
