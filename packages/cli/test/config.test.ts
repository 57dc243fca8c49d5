/**
 * Goal: the config file model accepts exactly what README documents and refuses everything else with a
 * message naming the setting, its JSON path and what was given. Method: pure calls to resolveConfig and
 * parseConnectorUri (no broker, no ports), plus loadConfig on files in a temp directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_DEFAULTS, CONFIG_KEYS, loadConfig, resolveConfig } from '../src/config.js';
import { parseConnectorUri } from '../src/connector.js';
import { CliError } from '../src/errors.js';
import { size } from '../src/values.js';

const MiB = 1024 * 1024;
const cwd = '/srv/amq';
const baseDir = '/etc/amq';
const resolve = (raw: unknown, overrides = {}) => resolveConfig(raw, overrides, { baseDir, cwd });
/** The message resolveConfig throws for `raw`, failing the test if it throws anything else or nothing. */
function errorOf(raw: unknown, overrides = {}): string {
  try {
    resolve(raw, overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('CLI_CONFIG_INVALID');
    return (error as CliError).message;
  }
  throw new Error(`accepted: ${JSON.stringify(raw)}`);
}
const connectors = (...uris: string[]) => ({ transportConnectors: uris.map((uri, i) => ({ name: `c${i}`, uri })) });

/** README's example file, as a user would copy it. */
const EXAMPLE = {
  brokerName: 'localhost',
  dataDirectory: './data',
  transportConnectors: [
    { name: 'stomp', uri: 'stomp://127.0.0.1:61613?maximumConnections=1000&wireFormat.maxFrameSize=104857600' },
    { name: 'ws', uri: 'ws://127.0.0.1:61614?maximumConnections=1000&wireFormat.maxFrameSize=104857600' },
  ],
  persistenceAdapter: { levelDB: { directory: './data', sync: true } },
  plugins: { simpleAuthenticationPlugin: { users: [{ username: 'admin', password: 'secret' }] } },
  destinationPolicy: { maximumRedeliveries: 6, deadLetterQueue: 'ActiveMQ.DLQ', memoryLimit: '64 mb', prefetchSize: 1000 },
  networkConnectors: [],
  replicatedLevelDB: null,
};

describe('defaults', () => {
  it('with no file and no flags, gives the documented defaults', () => {
    const config = resolve(undefined);
    expect(config.broker).toEqual({
      brokerName: 'localhost', dataDir: '/srv/amq/data', host: '127.0.0.1', stompPort: 61613, wsPort: 61614,
      maximumConnections: 1000, maxFrameSize: 104857600, users: [], syncWrites: true, maximumRedeliveries: 6,
      deadLetterQueue: 'ActiveMQ.DLQ', destinationMemoryLimit: 64 * MiB, defaultPrefetch: 1000, maxFailoverProducersToTrack: 4096,
    });
    expect(config).toMatchObject({ logLevel: 'info', pretty: false, group: null, configFile: null });
  });

  it('an empty file is the defaults too', () => {
    expect(resolve({})).toEqual(resolve(undefined));
  });

  it('the defaults object and every result are frozen', () => {
    expect(Object.isFrozen(CLI_DEFAULTS)).toBe(true);
    const config = resolve(EXAMPLE);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.broker)).toBe(true);
    expect(Object.isFrozen(config.broker.users)).toBe(true);
  });
});

describe('a good file', () => {
  it("README's example becomes these BrokerOptions", () => {
    expect(resolve(EXAMPLE).broker).toEqual({
      brokerName: 'localhost', dataDir: '/etc/amq/data', host: '127.0.0.1', stompPort: 61613, wsPort: 61614,
      maximumConnections: 1000, maxFrameSize: 104857600, users: [{ username: 'admin', password: 'secret' }],
      syncWrites: true, maximumRedeliveries: 6, deadLetterQueue: 'ActiveMQ.DLQ', destinationMemoryLimit: 64 * MiB,
      defaultPrefetch: 1000, maxFailoverProducersToTrack: 4096,
    });
  });

  it('every setting reaches its BrokerOptions field', () => {
    const broker = resolve({
      brokerName: 'b1',
      dataDirectory: 'var',
      transportConnectors: [{ uri: 'tcp://0.0.0.0:7000?maximumConnections=5&wireFormat.maxFrameSize=1024' }],
      persistenceAdapter: { levelDB: { sync: false, maxFailoverProducersToTrack: 7 } },
      destinationPolicy: { maximumRedeliveries: 0, deadLetterQueue: 'DLQ.all', memoryLimit: 2048, prefetchSize: 1 },
    }).broker;
    expect(broker).toMatchObject({
      brokerName: 'b1', dataDir: '/etc/amq/var', host: '0.0.0.0', stompPort: 7000, wsPort: null, maximumConnections: 5,
      maxFrameSize: 1024, syncWrites: false, maximumRedeliveries: 0, deadLetterQueue: 'DLQ.all',
      destinationMemoryLimit: 2048, defaultPrefetch: 1, maxFailoverProducersToTrack: 7,
    });
  });

  it('relative directories are taken from the file\'s folder; levelDB.directory beats dataDirectory', () => {
    expect(resolve({ dataDirectory: 'd' }).broker.dataDir).toBe('/etc/amq/d');
    expect(resolve({ dataDirectory: '/abs/d' }).broker.dataDir).toBe('/abs/d');
    expect(resolve({ dataDirectory: 'd', persistenceAdapter: { levelDB: { directory: 'store' } } }).broker.dataDir).toBe('/etc/amq/store');
    expect(resolve({ persistenceAdapter: {} }).broker.dataDir).toBe('/srv/amq/data');
  });

  it('reserved keys accept their empty values', () => {
    for (const empty of [{}, { networkConnectors: [] }, { networkConnectors: null }, { replicatedLevelDB: null }]) {
      expect(resolve(empty).broker.stompPort).toBe(61613);
    }
  });
});

describe('flags override the file', () => {
  it('each flag beats the file value', () => {
    const config = resolve(EXAMPLE, {
      brokerName: 'flagged', dataDir: 'here', host: '0.0.0.0', stompPort: 1, wsPort: 2, maximumConnections: 3,
      maxFrameSize: 4, group: 'g1', logLevel: 'debug', pretty: true,
    });
    expect(config.broker).toMatchObject({
      brokerName: 'flagged', dataDir: '/srv/amq/here', host: '0.0.0.0', stompPort: 1, wsPort: 2, maximumConnections: 3, maxFrameSize: 4,
    });
    expect(config).toMatchObject({ group: 'g1', logLevel: 'debug', pretty: true });
  });

  it('--data beats levelDB.directory and is relative to the working directory', () => {
    expect(resolve({ persistenceAdapter: { levelDB: { directory: 'x' } } }, { dataDir: 'y' }).broker.dataDir).toBe('/srv/amq/y');
  });

  it('--no-ws (wsPort null) turns the WebSocket listener off; --port turns on a STOMP listener the file left out', () => {
    expect(resolve(EXAMPLE, { wsPort: null }).broker.wsPort).toBeNull();
    expect(resolve(connectors('ws://127.0.0.1:9000'), { stompPort: 0 }).broker).toMatchObject({ stompPort: 0, wsPort: 9000 });
  });

  it('an undefined override leaves the file value alone', () => {
    expect(resolve({ brokerName: 'file' }, { brokerName: undefined }).broker.brokerName).toBe('file');
  });
});

describe('unknown keys are refused with their path and the keys known there', () => {
  it.each([
    [{ transportConnector: [] }, 'unknown key "transportConnector" at $ (known: brokerName, dataDirectory, transportConnectors, persistenceAdapter, plugins, destinationPolicy, networkConnectors, replicatedLevelDB)'],
    [{ transportConnectors: [{ uri: 'stomp://h:1', nmae: 'x' }] }, 'unknown key "nmae" at $.transportConnectors[0] (known: name, uri)'],
    [{ persistenceAdapter: { kahaDB: {} } }, 'unknown key "kahaDB" at $.persistenceAdapter (known: levelDB)'],
    [{ persistenceAdapter: { levelDB: { directory: 'd', indexCacheSize: 1 } } }, 'unknown key "indexCacheSize" at $.persistenceAdapter.levelDB (known: directory, sync, maxFailoverProducersToTrack)'],
    [{ plugins: { jaasAuthenticationPlugin: {} } }, 'unknown key "jaasAuthenticationPlugin" at $.plugins (known: simpleAuthenticationPlugin)'],
    [{ plugins: { simpleAuthenticationPlugin: { users: [], anonymousAccessAllowed: true } } }, 'unknown key "anonymousAccessAllowed" at $.plugins.simpleAuthenticationPlugin (known: users)'],
    [{ plugins: { simpleAuthenticationPlugin: { users: [{ username: 'a', password: 'b', groups: 'admins' }] } } }, 'unknown key "groups" at $.plugins.simpleAuthenticationPlugin.users[0] (known: username, password)'],
    [{ destinationPolicy: { maximumRedelivery: 1 } }, 'unknown key "maximumRedelivery" at $.destinationPolicy (known: maximumRedeliveries, deadLetterQueue, memoryLimit, prefetchSize)'],
  ])('%j', (raw, message) => {
    expect(errorOf(raw)).toBe(message);
  });

  it('the known lists are the documented keys', () => {
    expect(CONFIG_KEYS.root).toEqual(Object.keys(EXAMPLE));
  });
});

describe('wrong types and values name the setting, what was given, and where', () => {
  it.each([
    [{ brokerName: '' }, 'brokerName must be a non-empty string, got "" (at $.brokerName)'],
    [{ brokerName: 7 }, 'brokerName must be a non-empty string, got 7 (at $.brokerName)'],
    [{ dataDirectory: false }, 'dataDirectory must be a non-empty string, got false (at $.dataDirectory)'],
    [{ transportConnectors: {} }, 'transportConnectors must be an array, got {} (at $.transportConnectors)'],
    [{ transportConnectors: ['stomp://h:1'] }, 'a transport connector must be an object, got "stomp://h:1" (at $.transportConnectors[0])'],
    [{ transportConnectors: [{ name: 's' }] }, 'uri must be a non-empty string, got nothing (at $.transportConnectors[0].uri)'],
    [{ transportConnectors: [{ name: 1, uri: 'stomp://h:1' }] }, 'name must be a non-empty string, got 1 (at $.transportConnectors[0].name)'],
    [{ persistenceAdapter: [] }, 'persistenceAdapter must be an object, got [] (at $.persistenceAdapter)'],
    [{ persistenceAdapter: { levelDB: { sync: 'yes' } } }, 'sync must be true or false, got "yes" (at $.persistenceAdapter.levelDB.sync)'],
    [{ persistenceAdapter: { levelDB: { directory: '' } } }, 'directory must be a non-empty string, got "" (at $.persistenceAdapter.levelDB.directory)'],
    [{ plugins: { simpleAuthenticationPlugin: { users: {} } } }, 'users must be an array, got {} (at $.plugins.simpleAuthenticationPlugin.users)'],
    [{ plugins: { simpleAuthenticationPlugin: { users: [{ username: '', password: 'p' }] } } }, 'username must be a non-empty string, got "" (at $.plugins.simpleAuthenticationPlugin.users[0].username)'],
    [{ plugins: { simpleAuthenticationPlugin: { users: [{ username: 'u' }] } } }, 'password must be a string, got nothing (at $.plugins.simpleAuthenticationPlugin.users[0].password)'],
    [{ destinationPolicy: { maximumRedeliveries: 'x' } }, 'maximumRedeliveries must be a non-negative integer, got "x" (at $.destinationPolicy.maximumRedeliveries)'],
    [{ destinationPolicy: { maximumRedeliveries: -1 } }, 'maximumRedeliveries must be a non-negative integer, got -1 (at $.destinationPolicy.maximumRedeliveries)'],
    [{ destinationPolicy: { maximumRedeliveries: 1.5 } }, 'maximumRedeliveries must be a non-negative integer, got 1.5 (at $.destinationPolicy.maximumRedeliveries)'],
    [{ destinationPolicy: { prefetchSize: 0 } }, 'prefetchSize must be a positive integer, got 0 (at $.destinationPolicy.prefetchSize)'],
    [{ destinationPolicy: { deadLetterQueue: '' } }, 'deadLetterQueue must be a non-empty string, got "" (at $.destinationPolicy.deadLetterQueue)'],
    [{ destinationPolicy: { memoryLimit: '64 parsecs' } }, 'memoryLimit must be a size in bytes (a positive integer, or a string such as "64 mb", "100 kb", "1 gb"), got "64 parsecs" (at $.destinationPolicy.memoryLimit)'],
  ])('%j', (raw, message) => {
    expect(errorOf(raw)).toBe(message);
  });

  it('the file itself must be an object', () => {
    expect(errorOf([1])).toBe('the config file must be an object, got [1] (at $)');
    expect(errorOf(null)).toBe('the config file must be an object, got null (at $)');
  });

  it('a long value is cut short in the message', () => {
    expect(errorOf({ brokerName: 'x'.repeat(500).split('') })).toMatch(/got \[.{70,90}…/);
  });
});

describe('sizes: bytes or ActiveMQ strings, powers of 1024', () => {
  const setting = { name: 'memoryLimit' };
  it.each([
    [2048, 2048], ['512', 512], ['512 b', 512], ['100 kb', 100 * 1024], ['64 mb', 64 * MiB], ['64mb', 64 * MiB],
    ['64 MB', 64 * MiB], ['64m', 64 * MiB], ['1 gb', 1024 * MiB], ['1g', 1024 * MiB], [' 8 k ', 8192],
  ])('%j is %d bytes', (given, bytes) => {
    expect(size(given, setting)).toBe(bytes);
  });

  it.each([0, -1, 1.5, '1.5 mb', '', 'mb', '64 parsecs', '64 tb', true, null, [64]])('%j is refused', (given) => {
    expect(() => size(given, setting)).toThrow(/^memoryLimit must be a size in bytes/);
  });

  it('a bound is enforced with its own message', () => {
    expect(() => size('2 kb', setting, 1024)).toThrow('memoryLimit must be at most 1024 bytes, got "2 kb"');
  });
});

describe('connector URIs', () => {
  const where = '$.transportConnectors[0].uri';
  it.each([
    ['stomp://127.0.0.1:61613', { protocol: 'stomp', host: '127.0.0.1', port: 61613 }],
    ['tcp://0.0.0.0:1234', { protocol: 'stomp', host: '0.0.0.0', port: 1234 }],
    ['stomp+nio://localhost:0', { protocol: 'stomp', host: 'localhost', port: 0 }],
    ['ws://127.0.0.1:61614', { protocol: 'ws', host: '127.0.0.1', port: 61614 }],
    ['stomp://127.0.0.1', { protocol: 'stomp', host: '127.0.0.1', port: 61613 }],
    ['ws://127.0.0.1', { protocol: 'ws', host: '127.0.0.1', port: 61614 }],
    ['ws://127.0.0.1:80', { protocol: 'ws', host: '127.0.0.1', port: 80 }],
    ['ws://127.0.0.1:61614/', { protocol: 'ws', host: '127.0.0.1', port: 61614 }],
    ['stomp://[::1]:7', { protocol: 'stomp', host: '::1', port: 7 }],
    ['stomp://h:1?maximumConnections=10&wireFormat.maxFrameSize=2048', { protocol: 'stomp', host: 'h', port: 1, maximumConnections: 10, maxFrameSize: 2048 }],
  ])('%s', (uri, spec) => {
    expect(parseConnectorUri(uri, where)).toEqual(spec);
  });

  it.each([
    ['stomp://h:1?maximumConnections=abc', `maximumConnections must be a positive integer, got "abc" (at ${where})`],
    ['stomp://h:1?maximumConnections=0', `maximumConnections must be a positive integer, got "0" (at ${where})`],
    ['stomp://h:1?wireFormat.maxFrameSize=-5', `wireFormat.maxFrameSize must be a size in bytes (a positive integer, or a string such as "64 mb", "100 kb", "1 gb"), got "-5" (at ${where})`],
    ['stomp://h:1?transport.tcpNoDelay=true', `unknown connector option "transport.tcpNoDelay" (known: maximumConnections, wireFormat.maxFrameSize) (at ${where})`],
    ['stomp://h:1?maxFrameSize=5', `unknown connector option "maxFrameSize" (known: maximumConnections, wireFormat.maxFrameSize) (at ${where})`],
    ['stomp://h:1?maximumConnections=1&maximumConnections=2', `connector option maximumConnections is given twice (at ${where})`],
    ['amqp://h:5672', `unsupported connector scheme "amqp" (supported: stomp, tcp, stomp+nio, ws) (at ${where})`],
    ['wss://h:1', `unsupported connector scheme "wss" (supported: stomp, tcp, stomp+nio, ws) (at ${where})`],
    ['127.0.0.1:61613', `not a valid connector URI: "127.0.0.1:61613"; expected e.g. "stomp://127.0.0.1:61613" (at ${where})`],
    ['stomp:61613', `connector URI "stomp:61613" has no host; expected e.g. "stomp://0.0.0.0:61613" (at ${where})`],
    ['stomp://h:1/path', `connector URI "stomp://h:1/path" may hold only scheme, host, port and options (at ${where})`],
    ['stomp://u:p@h:1', `connector URI "stomp://u:p@h:1" may hold only scheme, host, port and options (at ${where})`],
    ['stomp://h:99999', `not a valid connector URI: "stomp://h:99999"; expected e.g. "stomp://127.0.0.1:61613" (at ${where})`],
    ['not a uri', `not a valid connector URI: "not a uri"; expected e.g. "stomp://127.0.0.1:61613" (at ${where})`],
  ])('%s is refused', (uri, message) => {
    expect(() => parseConnectorUri(uri, where)).toThrow(message);
  });
});

describe('transportConnectors as a whole', () => {
  it('the listed listeners are on and the others off', () => {
    expect(resolve(connectors('stomp://127.0.0.1:5')).broker).toMatchObject({ stompPort: 5, wsPort: null });
    expect(resolve(connectors('ws://127.0.0.1:6')).broker).toMatchObject({ stompPort: null, wsPort: 6 });
  });

  it('a limit given on one connector applies to both; equal values on both are fine', () => {
    expect(resolve(connectors('stomp://h:1?maximumConnections=7', 'ws://h:2')).broker.maximumConnections).toBe(7);
    expect(resolve(connectors('stomp://h:1', 'ws://h:2?wireFormat.maxFrameSize=4096')).broker.maxFrameSize).toBe(4096);
    expect(resolve(connectors('stomp://h:1?maximumConnections=7', 'ws://h:2?maximumConnections=7')).broker.maximumConnections).toBe(7);
  });

  it('a connector without limits keeps the defaults', () => {
    expect(resolve(connectors('stomp://h:1')).broker).toMatchObject({ maximumConnections: 1000, maxFrameSize: 100 * MiB });
  });

  it.each([
    [connectors(), 'transportConnectors is empty: list a stomp or ws connector, or leave the key out for the defaults (at $.transportConnectors)'],
    [connectors('stomp://h:1', 'tcp://h:2'), 'mini-amq runs one stomp listener, but $.transportConnectors[0].uri and $.transportConnectors[1].uri are both stomp connectors'],
    [connectors('ws://h:1', 'ws://h:2'), 'mini-amq runs one ws listener, but $.transportConnectors[0].uri and $.transportConnectors[1].uri are both ws connectors'],
    [connectors('stomp://h:1?maximumConnections=5', 'ws://h:2?maximumConnections=6'), 'maximumConnections differs between connectors (5 at $.transportConnectors[0].uri, 6 at $.transportConnectors[1].uri): mini-amq applies one value to both listeners'],
    [connectors('stomp://h:1?wireFormat.maxFrameSize=1', 'ws://h:2?wireFormat.maxFrameSize=2'), 'wireFormat.maxFrameSize differs between connectors (1 at $.transportConnectors[0].uri, 2 at $.transportConnectors[1].uri): mini-amq applies one value to both listeners'],
    [connectors('stomp://0.0.0.0:1', 'ws://127.0.0.1:2'), 'host differs between connectors ("0.0.0.0" at $.transportConnectors[0].uri, "127.0.0.1" at $.transportConnectors[1].uri): mini-amq applies one value to both listeners'],
    [connectors('stomp://h:5', 'ws://h:5'), 'the stomp and ws listeners both use port 5: give them different ports'],
  ])('%j is refused', (raw, message) => {
    expect(errorOf(raw)).toBe(message);
  });

  it('port 0 on both is fine: each gets its own free port', () => {
    expect(resolve(connectors('stomp://h:0', 'ws://h:0')).broker).toMatchObject({ stompPort: 0, wsPort: 0 });
  });

  it('turning the only listener off is refused', () => {
    expect(errorOf(connectors('ws://h:1'), { wsPort: null })).toBe('no listener left: the config lists no stomp connector and the WebSocket one is off, so no client could connect');
  });

  it('a flag port equal to the other listener\'s is refused', () => {
    expect(errorOf({}, { stompPort: 61614 })).toBe('the stomp and ws listeners both use port 61614: give them different ports');
  });
});

describe('reserved keys for later issues', () => {
  it.each([
    [{ networkConnectors: [{ uri: 'static:(tcp://a:61613)' }] }, 'networkConnectors is not supported yet (issue 5) (at $.networkConnectors)'],
    [{ networkConnectors: {} }, 'networkConnectors is not supported yet (issue 5) (at $.networkConnectors)'],
    [{ replicatedLevelDB: { replicas: 3 } }, 'replicatedLevelDB is not supported yet (issue 4) (at $.replicatedLevelDB)'],
    [{ replicatedLevelDB: {} }, 'replicatedLevelDB is not supported yet (issue 4) (at $.replicatedLevelDB)'],
  ])('%j', (raw, message) => {
    expect(errorOf(raw)).toBe(message);
  });
});

describe('simpleAuthenticationPlugin', () => {
  const auth = (users: unknown) => ({ plugins: { simpleAuthenticationPlugin: { users } } });
  it('lists the users CONNECT must match', () => {
    expect(resolve(auth([{ username: 'a', password: '' }, { username: 'b', password: 'x' }])).broker.users)
      .toEqual([{ username: 'a', password: '' }, { username: 'b', password: 'x' }]);
  });

  it('an empty plugin, an empty list and a repeated user are refused', () => {
    const hint = 'simpleAuthenticationPlugin needs at least one user; remove the plugin to allow anonymous connections (at $.plugins.simpleAuthenticationPlugin.users)';
    expect(errorOf({ plugins: { simpleAuthenticationPlugin: {} } })).toBe(hint);
    expect(errorOf(auth([]))).toBe(hint);
    expect(errorOf(auth([{ username: 'a', password: '1' }, { username: 'a', password: '2' }])))
      .toBe('user "a" is listed twice (at $.plugins.simpleAuthenticationPlugin.users)');
  });

  it('no plugin means anonymous connections', () => {
    expect(resolve({ plugins: {} }).broker.users).toEqual([]);
  });
});

describe('loadConfig reads a file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mini-amq-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const rejection = async (file: string, overrides = {}) => {
    const error = await loadConfig(file, overrides, dir).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    return (error as CliError).message;
  };

  it('without a file, gives the defaults with the data directory under the working directory', async () => {
    expect((await loadConfig(undefined, {}, dir)).broker.dataDir).toBe(path.join(dir, 'data'));
  });

  it('records the file and resolves its directories next to it', async () => {
    const file = write('good.json', JSON.stringify(EXAMPLE, null, 2));
    const config = await loadConfig('good.json', {}, dir);
    expect(config.configFile).toBe(file);
    expect(config.broker.dataDir).toBe(path.join(dir, 'data'));
  });

  it('flags beat the file', async () => {
    write('named.json', JSON.stringify({ brokerName: 'file', destinationPolicy: { prefetchSize: 5 } }));
    const config = await loadConfig('named.json', { brokerName: 'flag' }, dir);
    expect(config.broker).toMatchObject({ brokerName: 'flag', defaultPrefetch: 5 });
  });

  it('errors start with the file name as given', async () => {
    write('typo.json', '{"transportConnector": []}');
    expect(await rejection('typo.json')).toMatch(/^config file typo\.json: unknown key "transportConnector" at \$ \(known: brokerName, /);
  });

  it('a missing file says so', async () => {
    expect(await rejection('absent.json')).toBe('cannot read config file absent.json: no such file');
  });

  it('bad JSON says which line', async () => {
    write('broken.json', '{\n  "brokerName": "a",\n  "dataDirectory": \n}\n');
    expect(await rejection('broken.json')).toMatch(/^config file broken\.json is not valid JSON \(line [34]\): /);
    write('comma.json', '{\n  "brokerName": "a",\n}\n');
    expect(await rejection('comma.json')).toMatch(/^config file comma\.json is not valid JSON \(line [23]\): /);
  });

  it('a JSON error message stays on one line', async () => {
    write('snippet.json', '{"brokerName": "x",\n  "dataDirectory": }');
    expect(await rejection('snippet.json')).not.toContain('\n');
  });
});
