/**
 * Goal: `mini-amq start`'s command line is read strictly, every flag becomes its typed override, and a bad
 * one is a usage error naming it; --help and README document every flag. Method: parseStartArgs on argv
 * arrays, no process and no broker.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, REPLICATION_FLAGS, resolveConfig } from '../src/config.js';
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
      '--replicas', '5', '--zk', 'zk1:2181, zk2:2181', '--zk-path', '/amq/g1', '--zk-session-timeout', '3s',
      '--bind', 'tcp://0.0.0.0:0', '--hostname', 'b1.example', '--weight', '0', '--security-token', 's3cret', '--sync', 'local_disk,remote_mem',
    ], true);
    expect(args.configFile).toBe('broker.json');
    expect(args.overrides).toEqual({
      stompPort: 0, wsPort: 61700, host: '0.0.0.0', dataDir: '/tmp/d', brokerName: 'b1', group: 'g1',
      replicas: 5, zkAddress: 'zk1:2181,zk2:2181', zkPath: '/amq/g1', zkSessionTimeoutMs: 3000, bind: 'tcp://0.0.0.0:0',
      hostname: 'b1.example', weight: 0, securityToken: 's3cret', sync: 'local_disk,remote_mem',
      maximumConnections: 50, maxFrameSize: 10 * 1024 * 1024, logLevel: 'debug', pretty: true,
    });
  });

  it('--zk-session-timeout takes ms or a unit; --security-token may be empty', () => {
    expect(parseStartArgs(['--zk-session-timeout', '2500']).overrides.zkSessionTimeoutMs).toBe(2500);
    expect(parseStartArgs(['--zk-session-timeout=2000ms']).overrides.zkSessionTimeoutMs).toBe(2000);
    expect(parseStartArgs(['--security-token=']).overrides.securityToken).toBe('');
  });

  it('the help\'s replication example starts a member of g1', () => {
    const example = startHelp().split('\n').find((line) => line.includes('--group g1'))!;
    const { overrides } = parseStartArgs(example.trim().split(/\s+/).slice(2));
    expect(resolveConfig(undefined, overrides, { cwd: '/' }).replication).toMatchObject({
      group: 'g1', replicas: 3, zkAddress: '127.0.0.1:2181', bind: 'tcp://127.0.0.1:0', hostname: '127.0.0.1', sync: 'quorum_mem',
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
    [['--group', ''], '--group must be a non-empty string, got ""; see mini-amq start --help'],
    [['--group', 'a/b'], '--group must be a name without "/" (it names the group\'s ZooKeeper node), got "a/b"; see mini-amq start --help'],
    [['--replicas', '2'], '--replicas must be odd (2N+1: 1, 3, 5, …; an even group tolerates no more failures than one member fewer), got "2"; see mini-amq start --help'],
    [['--replicas', '0'], '--replicas must be a positive integer, got "0"; see mini-amq start --help'],
    [['--zk', 'zk1'], '--zk must be ZooKeeper servers as host:port items separated by commas (e.g. "127.0.0.1:2181" or "zk1:2181,zk2:2181"), but item "zk1" is not one (in "zk1"); see mini-amq start --help'],
    [['--zk-path', 'amq/g1'], '--zk-path must be a ZooKeeper path: starting with "/", with no "//", no trailing "/" and no "." or ".." part (e.g. "/activemq/leveldb-stores/g1"), got "amq/g1"; see mini-amq start --help'],
    [['--zk-path', '/amq/'], '--zk-path must be a ZooKeeper path: starting with "/", with no "//", no trailing "/" and no "." or ".." part (e.g. "/activemq/leveldb-stores/g1"), got "/amq/"; see mini-amq start --help'],
    [['--zk-path', '/a//b'], '--zk-path must be a ZooKeeper path: starting with "/", with no "//", no trailing "/" and no "." or ".." part (e.g. "/activemq/leveldb-stores/g1"), got "/a//b"; see mini-amq start --help'],
    [['--zk-session-timeout', '2 min'], '--zk-session-timeout must be a duration (a positive number of milliseconds, or a string such as "2s" or "2000ms"), got "2 min"; see mini-amq start --help'],
    [['--zk-session-timeout', '0'], '--zk-session-timeout must be a duration (a positive number of milliseconds, or a string such as "2s" or "2000ms"), got "0"; see mini-amq start --help'],
    [['--bind', '127.0.0.1:61619'], '--bind must be a URI tcp://host:port (port 0-65535, 0 = any free port; e.g. "tcp://127.0.0.1:61619"), got "127.0.0.1:61619"; see mini-amq start --help'],
    [['--bind', 'tcp://h:99999'], '--bind must be a URI tcp://host:port (port 0-65535, 0 = any free port; e.g. "tcp://127.0.0.1:61619"), got "tcp://h:99999"; see mini-amq start --help'],
    [['--hostname', '0.0.0.0'], '--hostname must be a host name or address the other members can reach (IPv6 in brackets, e.g. "[::1]"; not 0.0.0.0 or ::), got "0.0.0.0"; see mini-amq start --help'],
    [['--weight', '-1'], 'flag --weight needs a value; see mini-amq start --help'],
    [['--weight', 'x'], '--weight must be a non-negative integer, got "x"; see mini-amq start --help'],
    [['--sync', 'quorum_mem,fast'], '--sync must be one or more of local_mem, local_disk, remote_mem, remote_disk, quorum_mem, quorum_disk separated by commas, but "fast" is not one (in "quorum_mem,fast"); see mini-amq start --help'],
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

  it('mini-amq --help lists the start command, standalone or in a group; replication is no longer "coming later"', () => {
    expect(mainHelp()).toMatch(/^\s+start\s+run a standalone broker, or a member of a replicated group$/m);
    expect(mainHelp()).toContain('Coming later: network connectors (issue 5).');
    expect(mainHelp()).not.toMatch(/replication groups \(issue 4\)/);
  });

  it('start --help lists the replication flags, the sync modes and a group example', () => {
    const help = startHelp();
    for (const name of ['group', 'replicas', 'zk', 'zk-path', 'zk-session-timeout', 'bind', 'hostname', 'weight', 'security-token', 'sync']) {
      expect(help).toMatch(new RegExp(`^\\s+--${name} [A-Z]+\\s`, 'm'));
    }
    expect(help).toContain('--group NAME             replication group (ActiveMQ replicatedLevelDB brokerName); turns replication on (default none)');
    expect(help).toContain('local_mem, local_disk, remote_mem, remote_disk, quorum_mem, quorum_disk');
    expect(help).toContain('mini-amq start --name b1 --group g1 --replicas 3 --zk 127.0.0.1:2181 --port 61613 --bind tcp://127.0.0.1:0 --sync quorum_mem');
    expect(help).not.toContain('only logged');
  });

  it('every flag a replication config error names is a start flag', () => {
    const names = START_FLAGS.map((f) => `--${f.name}`);
    for (const flag of Object.values(REPLICATION_FLAGS)) expect(names).toContain(flag);
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

describe('network flags', () => {
  it('--network may be repeated, and --duplex applies to all of them', () => {
    const args = parseStartArgs(['--network', 'static:(tcp://127.0.0.1:61623)', '--network', 'masterslave:(tcp://127.0.0.1:61633,tcp://127.0.0.1:61643)', '--duplex']);
    expect(args.overrides.network).toEqual(['static:(tcp://127.0.0.1:61623)', 'masterslave:(tcp://127.0.0.1:61633,tcp://127.0.0.1:61643)']);
    expect(args.overrides.duplex).toBe(true);
    const config = resolveConfig(undefined, args.overrides);
    expect(config.network.map((c) => [c.kind, c.duplex])).toEqual([['static', true], ['masterslave', true]]);
  });

  it('--duplex without --network is a usage error', () => {
    let error: unknown;
    try {
      parseStartArgs(['--duplex']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe('--duplex applies to --network connectors: give at least one --network; see mini-amq start --help');
  });
});
