/**
 * Goal: `mini-amq start`'s command line is read strictly, every flag becomes its typed override, and a bad
 * one is a usage error naming it; --help and README document every flag. Method: parseStartArgs on argv
 * arrays, no process and no broker.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../src/config.js';
import { CliError } from '../src/errors.js';
import { START_FLAGS, mainHelp, parseStartArgs, startHelp } from '../src/flags.js';

/** The usage error parseStartArgs throws for `argv`. */
function usageOf(argv: string[]): string {
  try {
    parseStartArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('CLI_USAGE');
    return (error as CliError).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

describe('parseStartArgs', () => {
  it('no flags: no overrides, so the file and the defaults decide', () => {
    expect(parseStartArgs([])).toEqual({ help: false, version: false, configFile: undefined, overrides: { pretty: false } });
  });

  it('every value flag becomes its typed override', () => {
    const args = parseStartArgs([
      '--port', '0', '--ws-port=61700', '--host', '0.0.0.0', '--data', '/tmp/d', '--name', 'b1', '--group', 'g1',
      '--config', 'broker.json', '--max-connections', '50', '--max-frame-size', '10 mb', '--log-level', 'debug',
    ], true);
    expect(args.configFile).toBe('broker.json');
    expect(args.overrides).toEqual({
      stompPort: 0, wsPort: 61700, host: '0.0.0.0', dataDir: '/tmp/d', brokerName: 'b1', group: 'g1',
      maximumConnections: 50, maxFrameSize: 10 * 1024 * 1024, logLevel: 'debug', pretty: true,
    });
  });

  it('--no-ws turns WebSocket off; --help, -h and --version are seen', () => {
    expect(parseStartArgs(['--no-ws']).overrides.wsPort).toBeNull();
    expect(parseStartArgs(['--help']).help).toBe(true);
    expect(parseStartArgs(['-h']).help).toBe(true);
    expect(parseStartArgs(['--version']).version).toBe(true);
  });

  it.each([
    [['--bogus'], 'unknown flag --bogus for mini-amq start; see mini-amq start --help'],
    [['-x'], 'unknown flag -x for mini-amq start; see mini-amq start --help'],
    [['--port'], 'flag --port needs a value; see mini-amq start --help'],
    [['--port', '--host', 'h'], 'flag --port needs a value; see mini-amq start --help'],
    [['--no-ws=yes'], 'flag --no-ws takes no value; see mini-amq start --help'],
    [['extra'], 'unexpected argument "extra": mini-amq start takes only flags; see mini-amq start --help'],
    [['--port', 'abc'], '--port must be a port number (0-65535, 0 = any free port), got "abc"; see mini-amq start --help'],
    [['--port', '70000'], '--port must be a port number (0-65535, 0 = any free port), got "70000"; see mini-amq start --help'],
    [['--ws-port', '-1'], 'flag --ws-port needs a value; see mini-amq start --help'],
    [['--max-connections', '0'], '--max-connections must be a positive integer, got "0"; see mini-amq start --help'],
    [['--max-connections', 'abc'], '--max-connections must be a positive integer, got "abc"; see mini-amq start --help'],
    [['--max-frame-size', 'big'], '--max-frame-size must be a size in bytes (a positive integer, or a string such as "64 mb", "100 kb", "1 gb"), got "big"; see mini-amq start --help'],
    [['--log-level', 'loud'], '--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"; see mini-amq start --help'],
    [['--name', ''], '--name must be a non-empty string, got ""; see mini-amq start --help'],
    [['--no-ws', '--ws-port', '1'], '--no-ws and --ws-port contradict each other: pass one; see mini-amq start --help'],
  ])('%j is a usage error', (argv, message) => {
    expect(usageOf(argv)).toBe(message);
  });
});

describe('documentation', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

  it('start --help shows every flag with its default', () => {
    const help = startHelp();
    for (const flag of START_FLAGS) {
      expect(help).toContain(`--${flag.name}`);
      if (flag.default !== undefined) expect(help).toContain(`(default ${flag.default})`);
    }
  });

  it('mini-amq --help lists the start command', () => {
    expect(mainHelp()).toMatch(/^\s+start\s/m);
  });

  it('README documents every flag', () => {
    for (const flag of START_FLAGS) expect(readme).toContain(`\`--${flag.name}`);
  });

  it('README documents every config key, alone or at the end of its path (`a.b[].key`)', () => {
    for (const keys of Object.values(CONFIG_KEYS)) {
      for (const key of keys) expect(readme).toMatch(new RegExp(`\`([^\`\\s]*[.\\]])?${key}\``));
    }
  });
});
