/**
 * The flag table every `mini-amq` command declares once: the same table drives node:util parseArgs
 * (strict), the --help text and the checks that turn flag strings into typed values. A bad command line is
 * a CLI_USAGE error (exit 2) whose message names the flag and points to `mini-amq <command> --help`.
 */
import { parseArgs } from 'node:util';
import { CliError } from './errors.js';
import type { Setting } from './values.js';

/** One flag: how parseArgs reads it and how --help shows it. */
export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  /** The flag may be given more than once; its value is then the list of every occurrence. */
  readonly multiple?: boolean;
  /** Placeholder for the value in --help, e.g. `N`. */
  readonly value?: string;
  readonly help: string;
  /** The default as --help shows it; absent for flags without one. */
  readonly default?: string;
}

/** The flag values parseArgs found, by long name; absent flags are undefined. */
export type FlagValues = Readonly<Record<string, string | boolean | string[] | undefined>>;

/** The `-h, --help` row every command has. */
export const HELP_FLAG: FlagSpec = Object.freeze({ name: 'help', short: 'h', type: 'boolean', help: 'show this help' });

/** Throws the usage error for `command`: the message, then where the list of flags is. */
export function usage(message: string, command: string): never {
  throw new CliError('CLI_USAGE', `${message}; see ${command} --help`);
}

/** parseArgs' errors reworded: the user needs the flag's name and where the list of flags is. */
function explainParseError(error: unknown, command: string, flags: readonly FlagSpec[]): never {
  const { code, message } = error as { code?: string; message: string };
  const quoted = /'([^']*)'/.exec(message)?.[1]?.replace(/ <value>$/, '') ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') usage(`unknown flag ${quoted} for ${command}`, command);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') usage(`unexpected argument "${quoted}": ${command} takes only flags`, command);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const spec = flags.find((f) => `--${f.name}` === quoted || `-${f.short}` === quoted);
    usage(spec?.type === 'boolean' ? `flag ${quoted} takes no value` : `flag ${quoted} needs a value`, command);
  }
  throw error;
}

/** Parses `argv` (the words after the command) strictly against `flags`. */
export function readFlags(command: string, flags: readonly FlagSpec[], argv: readonly string[]): FlagValues {
  const options = Object.fromEntries(flags.map((f) => [f.name, {
    type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple === true ? { multiple: true } : {}),
  }]));
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as FlagValues;
  } catch (error) {
    explainParseError(error, command, flags);
  }
}

/** Turns a flag's text into its typed value; a bad value is a usage error naming the flag. */
export function checked<T>(command: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof CliError) throw new CliError('CLI_USAGE', `${error.message}; see ${command} --help`, { cause: error });
    throw error;
  }
}

/** The typed value of flag `name`, or undefined when it was not given. */
export function given<T>(command: string, values: FlagValues, name: string, read: (value: string, setting: Setting) => T): T | undefined {
  const value = values[name];
  if (typeof value !== 'string') return undefined;
  return checked(command, () => read(value, { name: `--${name}` }));
}

/** Left column of the flag list: `-h, --help` or `    --port N`, so long names line up. */
function flagLabel(f: FlagSpec): string {
  const long = `--${f.name}${f.value ? ` ${f.value}` : ''}`;
  return f.short ? `-${f.short}, ${long}` : `    ${long}`;
}

/** The `Flags:` block of a --help text: every flag with its help and default. */
export function flagLines(flags: readonly FlagSpec[]): string[] {
  const width = Math.max(...flags.map((f) => flagLabel(f).length)) + 2;
  return flags.map((f) => `  ${flagLabel(f).padEnd(width)}${f.help}${f.default === undefined ? '' : ` (default ${f.default})`}`);
}

/** A command's whole --help text. */
export function helpText(parts: { usage: string; about: readonly string[]; flags: readonly FlagSpec[]; after?: readonly string[]; examples: readonly string[] }): string {
  return [
    `Usage: ${parts.usage}`,
    '',
    ...parts.about,
    '',
    'Flags:',
    ...flagLines(parts.flags),
    '',
    ...(parts.after === undefined ? [] : [...parts.after, '']),
    'Examples:',
    ...parts.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}
