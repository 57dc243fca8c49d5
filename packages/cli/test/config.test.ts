/**
 * Goal: the config file model accepts exactly what README documents and refuses everything else with a
 * message naming the setting, its JSON path and what was given. Method: pure calls to resolveConfig and
 * parseConnectorUri (no broker, no ports), plus loadConfig on files in a temp directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname as osHostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CLI_DEFAULTS, CONFIG_KEYS, REPLICATION_DEFAULTS, bindUri, loadConfig, replicas, resolveConfig, syncModes, zkAddress, zkPath,
  type ConfigOverrides,
} from '../src/config.js';
import { parseConnectorUri } from '../src/connector.js';
import { CliError } from '../src/errors.js';
import { size } from '../src/values.js';

const MiB = 1024 * 1024;
const cwd = '/srv/amq';
const baseDir = '/etc/amq';
const resolve = (raw: unknown, overrides: ConfigOverrides = {}) => resolveConfig(raw, overrides, { baseDir, cwd });
/** The message resolveConfig throws for `raw`, failing the test if it throws anything else or nothing. */
function errorOf(raw: unknown, overrides: ConfigOverrides = {}): string {
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
    expect(config).toMatchObject({ logLevel: 'info', pretty: false, replication: null, group: null, configFile: null });
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
    [{ brokerName: 'b1', replicatedLevelDB: { brokerName: 'g', zkAdress: 'h:1' } }, 'unknown key "zkAdress" at $.replicatedLevelDB (known: replicas, zkAddress, zkPassword, zkPath, zkSessionTimeout, bind, hostname, weight, securityToken, sync, brokerName)'],
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

describe('network connectors: networkConnectors and --network', () => {
  it('reads the file\'s connectors with ActiveMQ\'s names, and adds the --network flags after them', () => {
    const config = resolve({
      networkConnectors: [{
        uri: 'static:(tcp://127.0.0.1:61623,tcp://127.0.0.1:61633)?networkTTL=2', name: 'to-b', duplex: true,
        excludedDestinations: ['/queue/secret.>'], staticallyIncludedDestinations: ['/queue/always'],
      }],
    }, { network: ['masterslave:(tcp://127.0.0.1:61643,tcp://127.0.0.1:61653)'], duplex: true });
    expect(config.network).toHaveLength(2);
    expect(config.network[0]).toMatchObject({
      name: 'to-b', kind: 'static', remotes: ['tcp://127.0.0.1:61623', 'tcp://127.0.0.1:61633'], duplex: true, networkTTL: 2,
      excludedDestinations: ['/queue/secret.>'], staticallyIncludedDestinations: ['/queue/always'], conduitSubscriptions: true,
    });
    expect(config.network[1]).toMatchObject({ kind: 'masterslave', duplex: true, networkTTL: 1 });
  });

  it('none by default, and null or [] in a file mean none', () => {
    expect(resolve({}).network).toEqual([]);
    expect(resolve({ networkConnectors: null }).network).toEqual([]);
    expect(resolve({ networkConnectors: [] }).network).toEqual([]);
  });

  it.each([
    [{ networkConnectors: {} }, /networkConnectors must be an array/],
    [{ networkConnectors: [{ uri: 'static:(tcp://a:61613)', ttl: 2 }] }, /unknown key "ttl" at \$\.networkConnectors\[0\] \(known: uri, name, duplex, networkTTL/],
    [{ networkConnectors: [{ uri: 'tcp://a:61613' }] }, /\(at \$\.networkConnectors\[0\]\.uri\)$/],
    [{ networkConnectors: [{ uri: 'static:(tcp://a:61613)', networkTTL: 0 }] }, /networkTTL/],
    [{ networkConnectors: [{ uri: 'static:(tcp://a:61613)', duplex: 'yes' }] }, /duplex/],
  ])('%j is refused with its path', (raw, message) => {
    expect(errorOf(raw)).toMatch(message);
  });
});

describe('replication: replicatedLevelDB and the replication flags', () => {
  /** A member's minimal file: its own name and its group's. */
  const member = (repl: Record<string, unknown> = {}, root: Record<string, unknown> = {}) =>
    ({ brokerName: 'b1', ...root, replicatedLevelDB: { brokerName: 'g1', ...repl } });
  const where = '$.replicatedLevelDB';

  it('is off without replicatedLevelDB, with replicatedLevelDB null, and without replication flags', () => {
    for (const raw of [undefined, {}, { replicatedLevelDB: null }, EXAMPLE]) {
      expect(resolve(raw)).toMatchObject({ replication: null, group: null });
    }
  });

  it('a group gets the documented defaults, each member its own zkPath under the parent', () => {
    const config = resolve(member());
    expect(config.replication).toEqual({
      group: 'g1', replicas: 3, zkAddress: '127.0.0.1:2181', zkPassword: null, zkPath: '/activemq/leveldb-stores/g1',
      zkSessionTimeoutMs: 2000, bind: 'tcp://127.0.0.1:61619', hostname: '127.0.0.1', weight: 1, securityToken: '', sync: 'quorum_mem',
    });
    expect(config.group).toBe('g1');
    expect(Object.isFrozen(config.replication)).toBe(true);
    expect(Object.isFrozen(REPLICATION_DEFAULTS)).toBe(true);
  });

  it('the defaults pass their own checks', () => {
    const setting = { name: 'default' };
    expect(zkAddress(REPLICATION_DEFAULTS.zkAddress, setting)).toBe(REPLICATION_DEFAULTS.zkAddress);
    expect(bindUri(REPLICATION_DEFAULTS.bind, setting)).toBe(REPLICATION_DEFAULTS.bind);
    expect(syncModes(REPLICATION_DEFAULTS.sync, setting)).toBe(REPLICATION_DEFAULTS.sync);
    expect(replicas(REPLICATION_DEFAULTS.replicas, setting)).toBe(REPLICATION_DEFAULTS.replicas);
    expect(zkPath(`${REPLICATION_DEFAULTS.zkPathParent}/g1`, setting)).toBe('/activemq/leveldb-stores/g1');
  });

  it('the broker\'s own settings are unchanged by replication (levelDB sync stays syncWrites)', () => {
    const standalone = resolve({ brokerName: 'b1', persistenceAdapter: { levelDB: { sync: false } } }).broker;
    expect(resolve(member({}, { persistenceAdapter: { levelDB: { sync: false } } })).broker).toEqual(standalone);
  });

  it('every file key reaches its ReplicationConfig field', () => {
    expect(resolve(member({
      replicas: 5, zkAddress: 'zk1:2181, zk2:2182,[::1]:2183', zkPassword: 'pw', zkPath: '/amq/g1', zkSessionTimeout: '3s',
      bind: 'tcp://0.0.0.0:7000', hostname: 'b1.example', weight: 0, securityToken: 'tok', sync: ' local_disk , remote_mem ',
    })).replication).toEqual({
      group: 'g1', replicas: 5, zkAddress: 'zk1:2181,zk2:2182,[::1]:2183', zkPassword: 'pw', zkPath: '/amq/g1', zkSessionTimeoutMs: 3000,
      bind: 'tcp://0.0.0.0:7000', hostname: 'b1.example', weight: 0, securityToken: 'tok', sync: 'local_disk,remote_mem',
    });
  });

  it('zkSessionTimeout takes a number of ms, or a string in ms or s', () => {
    const timeout = (value: unknown) => resolve(member({ zkSessionTimeout: value })).replication!.zkSessionTimeoutMs;
    expect([timeout(1500), timeout('2s'), timeout('2000ms'), timeout('2500'), timeout(' 4 S ')]).toEqual([1500, 2000, 2000, 2500, 4000]);
  });

  it('hostname defaults to bind\'s host, or to this machine\'s name when bind listens everywhere', () => {
    const host = (bind: string) => resolve(member({ bind })).replication!.hostname;
    expect(host('tcp://10.0.0.5:61619')).toBe('10.0.0.5');
    expect(host('tcp://[::1]:61619')).toBe('[::1]');
    expect(host('tcp://0.0.0.0:61619')).toBe(osHostname());
    expect(host('tcp://[::]:61619')).toBe(osHostname());
  });

  it('--group or any replication flag turns it on without a file', () => {
    expect(resolve(undefined, { brokerName: 'b1', group: 'g2' }).replication).toMatchObject({ group: 'g2', zkPath: '/activemq/leveldb-stores/g2' });
    expect(resolve({ replicatedLevelDB: { brokerName: 'g3' } }, { brokerName: 'b1' }).group).toBe('g3');
  });

  it('each flag beats the file value; --group beats replicatedLevelDB.brokerName', () => {
    const flags: ConfigOverrides = {
      group: 'flagged', replicas: 1, zkAddress: 'zk9:2181', zkPath: '/x/y', zkSessionTimeoutMs: 9000, bind: 'tcp://127.0.0.2:0',
      hostname: 'me', weight: 7, securityToken: 'flag-token', sync: 'quorum_disk',
    };
    const file = member({
      replicas: 5, zkAddress: 'zk1:1', zkPassword: 'pw', zkPath: '/a/b', zkSessionTimeout: 100, bind: 'tcp://h:1', hostname: 'h',
      weight: 2, securityToken: 'file-token', sync: 'local_mem',
    });
    expect(resolve(file, flags).replication).toEqual({ ...flags, zkPassword: 'pw' });
  });

  it('a file member keeps its own values for the flags not given', () => {
    expect(resolve(member({ replicas: 5, sync: 'local_mem' }), { weight: 3 }).replication).toMatchObject({ replicas: 5, sync: 'local_mem', weight: 3 });
  });

  type Refused = [repl: Record<string, unknown>, message: string];
  it.each<Refused>([
    [{ replicas: 4 }, `replicas must be odd (2N+1: 1, 3, 5, …; an even group tolerates no more failures than one member fewer), got 4 (at ${where}.replicas)`],
    [{ replicas: 0 }, `replicas must be a positive integer, got 0 (at ${where}.replicas)`],
    [{ replicas: '3x' }, `replicas must be a positive integer, got "3x" (at ${where}.replicas)`],
    [{ zkAddress: '' }, `zkAddress must be a non-empty string, got "" (at ${where}.zkAddress)`],
    [{ zkAddress: 'zk1' }, `zkAddress must be ZooKeeper servers as host:port items separated by commas (e.g. "127.0.0.1:2181" or "zk1:2181,zk2:2181"), but item "zk1" is not one (in "zk1") (at ${where}.zkAddress)`],
    [{ zkAddress: 'zk1:2181,,zk2:2181' }, `zkAddress must be ZooKeeper servers as host:port items separated by commas (e.g. "127.0.0.1:2181" or "zk1:2181,zk2:2181"), but item "" is not one (in "zk1:2181,,zk2:2181") (at ${where}.zkAddress)`],
    [{ zkAddress: 'zk1:2181/chroot' }, `zkAddress must be ZooKeeper servers as host:port items separated by commas (e.g. "127.0.0.1:2181" or "zk1:2181,zk2:2181"), but item "zk1:2181/chroot" is not one (in "zk1:2181/chroot") (at ${where}.zkAddress)`],
    [{ zkAddress: 'zk1:70000' }, `zkAddress must be ZooKeeper servers as host:port items separated by commas (e.g. "127.0.0.1:2181" or "zk1:2181,zk2:2181"), but item "zk1:70000" is not one (in "zk1:70000") (at ${where}.zkAddress)`],
    [{ zkAddress: 'zk1:0' }, `zkAddress must be ZooKeeper servers as host:port items separated by commas (e.g. "127.0.0.1:2181" or "zk1:2181,zk2:2181"), but item "zk1:0" is not one (in "zk1:0") (at ${where}.zkAddress)`],
    [{ zkPassword: '' }, `zkPassword must be a non-empty string, got "" (at ${where}.zkPassword)`],
    [{ zkPassword: 5 }, `zkPassword must be a non-empty string, got 5 (at ${where}.zkPassword)`],
    ...['amq', '/amq/', '/', '/a//b', '/a/./b', '/a/..'].map((path) => [{ zkPath: path },
      `zkPath must be a ZooKeeper path: starting with "/", with no "//", no trailing "/" and no "." or ".." part (e.g. "/activemq/leveldb-stores/g1"), got ${JSON.stringify(path)} (at ${where}.zkPath)`] as Refused),
    ...[0, -5, 1.5, '2 min', '2.5s', 'soon', ''].map((value) => [{ zkSessionTimeout: value },
      `zkSessionTimeout must be a duration (a positive number of milliseconds, or a string such as "2s" or "2000ms"), got ${JSON.stringify(value)} (at ${where}.zkSessionTimeout)`] as Refused),
    ...['127.0.0.1:61619', 'stomp://h:1', 'tcp://h', 'tcp://h:65536', 'tcp://h:1/x', 'tcp://:1', 7].map((value) => [{ bind: value },
      `bind must be a URI tcp://host:port (port 0-65535, 0 = any free port; e.g. "tcp://127.0.0.1:61619"), got ${JSON.stringify(value)} (at ${where}.bind)`] as Refused),
    ...['0.0.0.0', '[::]', 'a b', 'h:1', '::1'].map((value) => [{ hostname: value },
      `hostname must be a host name or address the other members can reach (IPv6 in brackets, e.g. "[::1]"; not 0.0.0.0 or ::), got ${JSON.stringify(value)} (at ${where}.hostname)`] as Refused),
    [{ weight: -1 }, `weight must be a non-negative integer, got -1 (at ${where}.weight)`],
    [{ securityToken: null }, `securityToken must be a string, got null (at ${where}.securityToken)`],
    [{ sync: 'quorum' }, `sync must be one or more of local_mem, local_disk, remote_mem, remote_disk, quorum_mem, quorum_disk separated by commas, but "quorum" is not one (in "quorum") (at ${where}.sync)`],
    [{ sync: 'local_disk,,remote_mem' }, `sync must be one or more of local_mem, local_disk, remote_mem, remote_disk, quorum_mem, quorum_disk separated by commas, but "" is not one (in "local_disk,,remote_mem") (at ${where}.sync)`],
    [{ sync: '' }, `sync must be a non-empty string, got "" (at ${where}.sync)`],
    [{ sync: true }, `sync must be a non-empty string, got true (at ${where}.sync)`],
    [{ brokerName: '' }, `brokerName must be a non-empty string, got "" (at ${where}.brokerName)`],
    [{ brokerName: 'a/b' }, `brokerName must be a name without "/" (it names the group's ZooKeeper node), got "a/b" (at ${where}.brokerName)`],
  ])('%j is refused', (repl, message) => {
    expect(errorOf(member(repl))).toBe(message);
  });

  it('replicatedLevelDB must be an object', () => {
    expect(errorOf({ brokerName: 'b1', replicatedLevelDB: [] })).toBe(`replicatedLevelDB must be an object, got [] (at ${where})`);
  });

  it('a group needs a name from --group or replicatedLevelDB.brokerName, and says what turned replication on', () => {
    const hint = 'but the group has no name: pass --group NAME or set replicatedLevelDB.brokerName (at $.replicatedLevelDB.brokerName)';
    expect(errorOf({ brokerName: 'b1', replicatedLevelDB: {} })).toBe(`replication is on (the config file has replicatedLevelDB) ${hint}`);
    expect(errorOf({ brokerName: 'b1', replicatedLevelDB: { replicas: 3 } })).toBe(`replication is on (the config file has replicatedLevelDB) ${hint}`);
    expect(errorOf({}, { brokerName: 'b1', zkAddress: 'zk1:2181' })).toBe(`replication is on (--zk was given) ${hint}`);
    expect(errorOf({}, { brokerName: 'b1', sync: 'local_mem' })).toBe(`replication is on (--sync was given) ${hint}`);
  });

  it('a member must not keep the default broker name', () => {
    const message = 'in a replication group every member needs its own name: pass --name (e.g. --name b1) or set brokerName (at $.brokerName)';
    expect(errorOf({ replicatedLevelDB: { brokerName: 'g1' } })).toBe(message);
    expect(errorOf({ brokerName: 'localhost' }, { group: 'g1' })).toBe(message);
    expect(errorOf(undefined, { group: 'g1' })).toBe(message);
    expect(resolve(undefined, { group: 'g1', brokerName: 'b1' }).group).toBe('g1');
  });

  it('the replication port must differ from a client listener\'s on a shared address', () => {
    expect(errorOf(member({ bind: 'tcp://127.0.0.1:61613' }))).toBe('the replication bind tcp://127.0.0.1:61613 and the stomp listener both use port 61613: give them different ports');
    expect(errorOf(member({ bind: 'tcp://0.0.0.0:61614' }))).toBe('the replication bind tcp://0.0.0.0:61614 and the ws listener both use port 61614: give them different ports');
    expect(resolve(member({ bind: 'tcp://10.0.0.5:61613' })).replication!.bind).toBe('tcp://10.0.0.5:61613');
    expect(resolve(member({ bind: 'tcp://127.0.0.1:0' }), { stompPort: 0 }).replication!.bind).toBe('tcp://127.0.0.1:0');
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

  it('reads a member\'s replicatedLevelDB, and the flags beat it', async () => {
    write('member.json', JSON.stringify({ brokerName: 'b1', replicatedLevelDB: { brokerName: 'g1', zkSessionTimeout: '5s', sync: 'quorum_disk' } }));
    const config = await loadConfig('member.json', { sync: 'local_disk' }, dir);
    expect(config.replication).toMatchObject({ group: 'g1', zkSessionTimeoutMs: 5000, sync: 'local_disk' });
    write('even.json', JSON.stringify({ brokerName: 'b1', replicatedLevelDB: { brokerName: 'g1', replicas: 2 } }));
    expect(await rejection('even.json')).toMatch(/^config file even\.json: replicas must be odd .* \(at \$\.replicatedLevelDB\.replicas\)$/);
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
