/**
 * Goal: the command lines of produce, consume, browse and status are read strictly into typed arguments
 * with ActiveMQ's defaults, every bad one is a usage error naming the flag, and --help and README document
 * every flag. Method: the parse functions on argv arrays, no broker and no socket.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_DEFAULTS } from '../src/client-args.js';
import { BROWSE_FLAGS, browseHelp, parseBrowseArgs } from '../src/commands/browse.js';
import { CONSUME_FLAGS, consumeHelp, parseConsumeArgs } from '../src/commands/consume.js';
import { PRODUCE_FLAGS, parseProduceArgs, produceHelp } from '../src/commands/produce.js';
import { STATUS_FLAGS, parseStatusArgs, statusHelp } from '../src/commands/status.js';
import { destinationArg } from '../src/destination-arg.js';
import { CliError } from '../src/errors.js';
import { mainHelp } from '../src/flags.js';

/** The usage error `parse` throws for `argv`. */
function usageOf(parse: (argv: string[]) => unknown, argv: string[]): string {
  try {
    parse(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('CLI_USAGE');
    return (error as CliError).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

const local = { url: 'tcp://127.0.0.1:61613', login: undefined, passcode: undefined };

describe('destinations', () => {
  it.each([
    ['queue://orders', { kind: 'queue', stomp: '/queue/orders' }],
    ['topic://prices.eu', { kind: 'topic', stomp: '/topic/prices.eu' }],
    ['/queue/a.b', { kind: 'queue', stomp: '/queue/a.b' }],
    ['/topic/t', { kind: 'topic', stomp: '/topic/t' }],
  ])('%s', (given, expected) => {
    expect(destinationArg(given, { name: '--destination' })).toEqual(expected);
  });

  it.each(['orders', 'queue:orders', 'queue://', '/queue/', '/temp-queue/x', 'queue://a b', 'QUEUE://x'])('%j is refused', (given) => {
    expect(() => destinationArg(given, { name: '--destination' })).toThrow(`--destination must be queue://NAME, topic://NAME, /queue/NAME or /topic/NAME, got ${JSON.stringify(given)}`);
  });
});

describe('produce', () => {
  it('defaults: 1000 messages of 1024 bytes, no receipts, no rate limit, the local broker', () => {
    expect(parseProduceArgs(['--destination', 'queue://q'])).toEqual({
      help: false, connection: local, destination: { kind: 'queue', stomp: '/queue/q' }, count: 1000,
      body: { kind: 'size', bytes: 1024 }, persistent: false, receipts: false, rate: null, json: false,
    });
    expect(CLIENT_DEFAULTS).toMatchObject({ count: 1000, messageSizeBytes: 1024, receiptWindow: 100 });
  });

  it('every flag becomes its typed value; --persistent implies receipts', () => {
    expect(parseProduceArgs([
      '--url', 'failover:(tcp://a:1,ws://b:2)?randomize=false', '--destination', '/topic/t', '--count', '5', '--size', '2 kb',
      '--persistent', '--rate', '50', '--json', '--user', 'u', '--password', 'p',
    ])).toEqual({
      help: false, connection: { url: 'failover:(tcp://a:1,ws://b:2)?randomize=false', login: 'u', passcode: 'p' },
      destination: { kind: 'topic', stomp: '/topic/t' }, count: 5, body: { kind: 'size', bytes: 2048 }, persistent: true, receipts: true,
      rate: 50, json: true,
    });
    expect(parseProduceArgs(['--destination', 'queue://q', '--receipts'])).toMatchObject({ persistent: false, receipts: true });
    expect(parseProduceArgs(['--destination', 'queue://q', '--message', 'hi'])).toMatchObject({ body: { kind: 'text', text: 'hi' } });
    expect(parseProduceArgs(['--destination', 'queue://q', '--file', 'b.json'])).toMatchObject({ body: { kind: 'file', path: 'b.json' } });
  });

  it('--help needs nothing else', () => {
    expect(parseProduceArgs(['--help'])).toEqual({ help: true });
    expect(parseProduceArgs(['-h', '--count', 'nonsense'])).toEqual({ help: true });
  });

  it.each([
    [[], '--destination is required; see mini-amq produce --help'],
    [['--destination', 'queue://q', '--bogus'], 'unknown flag --bogus for mini-amq produce; see mini-amq produce --help'],
    [['--destination'], 'flag --destination needs a value; see mini-amq produce --help'],
    [['--destination', 'queue://q', '--persistent=yes'], 'flag --persistent takes no value; see mini-amq produce --help'],
    [['--destination', 'queue://q', 'extra'], 'unexpected argument "extra": mini-amq produce takes only flags; see mini-amq produce --help'],
    [['--destination', 'queue://q', '--count', '0'], '--count must be a positive integer, got "0"; see mini-amq produce --help'],
    [['--destination', 'queue://q', '--rate', 'fast'], '--rate must be a positive integer, got "fast"; see mini-amq produce --help'],
    [['--destination', 'queue://q', '--size', 'huge'], '--size must be a size in bytes (a positive integer, or a string such as "64 mb", "100 kb", "1 gb"), got "huge"; see mini-amq produce --help'],
    [['--destination', 'queue://q', '--message', 'a', '--file', 'f'], '--message and --file both give the body: pass one; see mini-amq produce --help'],
    [['--destination', 'queue://q', '--url', 'tcp://h'], '--url must be a broker URI such as tcp://127.0.0.1:61613, got "tcp://h": no port (e.g. tcp://localhost:61613); see mini-amq produce --help'],
    [['--destination', 'queue://q', '--url', 'amqp://h:5672'], '--url must be a broker URI such as tcp://127.0.0.1:61613, got "amqp://h:5672": unknown scheme "amqp" (expected tcp, stomp or ws); see mini-amq produce --help'],
    [['--destination', 'queue://q', '--url', 'failover:(tcp://a:1'], '--url must be a broker URI such as tcp://127.0.0.1:61613, got "failover:(tcp://a:1": missing ")" after the broker URIs; see mini-amq produce --help'],
  ])('%j is a usage error', (argv, message) => {
    expect(usageOf(parseProduceArgs, argv)).toBe(message);
  });
});

describe('consume', () => {
  it('defaults: 1000 messages, 10 s idle timeout, client acks', () => {
    expect(parseConsumeArgs(['--destination', 'queue://q'])).toEqual({
      help: false, connection: local, destination: { kind: 'queue', stomp: '/queue/q' }, count: 1000, timeoutMs: 10_000, ack: 'client',
      durable: undefined, clientId: undefined, print: false, json: false,
    });
  });

  it('every flag becomes its typed value; 0 means no limit', () => {
    expect(parseConsumeArgs([
      '--destination', 'topic://t', '--count', '0', '--timeout', '0', '--ack', 'auto', '--durable', 'd', '--client-id', 'c', '--print',
      '--url', 'stomp://h:1', '--user', 'u', '--password', '',
    ])).toEqual({
      help: false, connection: { url: 'stomp://h:1', login: 'u', passcode: '' }, destination: { kind: 'topic', stomp: '/topic/t' },
      count: 0, timeoutMs: 0, ack: 'auto', durable: 'd', clientId: 'c', print: true, json: false,
    });
  });

  it.each([
    [['--destination', 'queue://q', '--ack', 'client-individual'], '--ack must be auto or client, got "client-individual"; see mini-amq consume --help'],
    [['--destination', 'queue://q', '--timeout', '1.5'], '--timeout must be a non-negative integer, got "1.5"; see mini-amq consume --help'],
    [['--destination', 'queue://q', '--count', '-1'], 'flag --count needs a value; see mini-amq consume --help'],
    [['--destination', 'topic://t', '--durable', 'd'], '--durable needs --client-id: the broker keeps a durable subscription per client id and name; see mini-amq consume --help'],
    [['--destination', 'queue://q', '--durable', 'd', '--client-id', 'c'], '--durable works on topics only, got /queue/q; see mini-amq consume --help'],
    [['--destination', 'queue://q', '--print', '--json'], '--print and --json both write stdout: pass one; see mini-amq consume --help'],
    [['--destination', 'queue://q', '--size', '1'], 'unknown flag --size for mini-amq consume; see mini-amq consume --help'],
  ])('%j is a usage error', (argv, message) => {
    expect(usageOf(parseConsumeArgs, argv)).toBe(message);
  });
});

describe('browse and status', () => {
  it('browse takes a queue', () => {
    expect(parseBrowseArgs(['--destination', 'queue://q', '--json'])).toEqual({
      help: false, connection: local, destination: { kind: 'queue', stomp: '/queue/q' }, json: true,
    });
    expect(usageOf(parseBrowseArgs, ['--destination', 'topic://t'])).toBe(
      '--destination must be a queue (queue://NAME or /queue/NAME): only queues can be browsed, got "topic://t"; see mini-amq browse --help',
    );
    expect(usageOf(parseBrowseArgs, [])).toBe('--destination is required; see mini-amq browse --help');
  });

  it('status needs only the connection', () => {
    expect(parseStatusArgs([])).toEqual({ help: false, connection: local, json: false });
    expect(parseStatusArgs(['--json', '--url', 'ws://h:61614/stomp'])).toEqual({ help: false, connection: { ...local, url: 'ws://h:61614/stomp' }, json: true });
    expect(usageOf(parseStatusArgs, ['--destination', 'queue://q'])).toBe('unknown flag --destination for mini-amq status; see mini-amq status --help');
  });
});

describe('documentation', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const tools = readme.slice(readme.indexOf('## Command-line tools'));
  const commands = [
    ['produce', PRODUCE_FLAGS, produceHelp],
    ['consume', CONSUME_FLAGS, consumeHelp],
    ['browse', BROWSE_FLAGS, browseHelp],
    ['status', STATUS_FLAGS, statusHelp],
  ] as const;

  it.each(commands)('%s --help shows every flag with its default, and the exit statuses', (_, flags, help) => {
    const text = help();
    for (const flag of flags) {
      expect(text).toContain(`--${flag.name}`);
      if (flag.default !== undefined) expect(text).toContain(`(default ${flag.default})`);
    }
    expect(text).toMatch(/Exit status: 0 .* 1 on a runtime failure/s);
  });

  it('mini-amq --help lists the four commands', () => {
    for (const [name] of commands) expect(mainHelp()).toMatch(new RegExp(`^\\s+${name}\\s`, 'm'));
  });

  it.each(commands)('README\'s command-line tools section documents every flag of %s', (name, flags) => {
    expect(tools).toContain(`### \`mini-amq ${name}\``);
    const section = tools.slice(tools.indexOf(`### \`mini-amq ${name}\``)).split('\n### ')[0]!;
    for (const flag of flags) {
      if (flag.name === 'help' || ['url', 'user', 'password'].includes(flag.name)) continue; // the shared table
      expect(section).toContain(`\`--${flag.name}`);
    }
  });

  it('README documents the shared flags, the exit statuses and the statistics destination', () => {
    for (const flag of ['--url', '--user', '--password', '--help']) expect(tools).toContain(`\`${flag}`);
    expect(tools).toContain('/queue/ActiveMQ.Statistics.Broker');
    expect(tools).toMatch(/exit status/i);
  });
});
