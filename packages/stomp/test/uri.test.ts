// Goal: parseBrokerUri accepts the URIs ActiveMQ users write and rejects the rest with a message
// naming the URI and the fault; method: tables of good and malformed URIs.
import { describe, expect, it } from 'vitest';
import { formatBrokerUri, parseBrokerUri, StompError, type BrokerUri } from '@mini-amq/stomp';

describe('parseBrokerUri: good URIs', () => {
  const good: Array<[string, BrokerUri]> = [
    ['tcp://localhost:61613', { scheme: 'tcp', host: 'localhost', port: 61613, path: '', options: {} }],
    ['stomp://127.0.0.1:1', { scheme: 'tcp', host: '127.0.0.1', port: 1, path: '', options: {} }],
    ['stomp+nio://broker-1.example.com:65535/', { scheme: 'tcp', host: 'broker-1.example.com', port: 65535, path: '', options: {} }],
    ['TCP://Host_A:61613', { scheme: 'tcp', host: 'Host_A', port: 61613, path: '', options: {} }],
    ['tcp://[::1]:61613', { scheme: 'tcp', host: '::1', port: 61613, path: '', options: {} }],
    ['ws://localhost:61614', { scheme: 'ws', host: 'localhost', port: 61614, path: '/', options: {} }],
    ['ws://localhost:61614/stomp/v1', { scheme: 'ws', host: 'localhost', port: 61614, path: '/stomp/v1', options: {} }],
    [
      'tcp://a:61613?wireFormat.maxFrameSize=104857600&trace&name=a%20b+c&x=1&x=2',
      { scheme: 'tcp', host: 'a', port: 61613, path: '', options: { 'wireFormat.maxFrameSize': '104857600', trace: '', name: 'a b+c', x: '2' } },
    ],
    ['ws://h:80/p?k=v', { scheme: 'ws', host: 'h', port: 80, path: '/p', options: { k: 'v' } }],
    ['  tcp://h:1  ', { scheme: 'tcp', host: 'h', port: 1, path: '', options: {} }],
  ];
  for (const [input, expected] of good) {
    it(input, () => {
      expect(parseBrokerUri(input)).toEqual(expected);
    });
  }

  it('formatBrokerUri gives back a URI that parses to the same address', () => {
    for (const input of ['tcp://[::1]:61613', 'ws://h:61614/stomp', 'stomp://h:1']) {
      const parsed = parseBrokerUri(input);
      expect(parseBrokerUri(formatBrokerUri(parsed))).toEqual(parsed);
    }
    expect(formatBrokerUri(parseBrokerUri('tcp://[::1]:61613'))).toBe('tcp://[::1]:61613');
  });
});

describe('parseBrokerUri: malformed URIs', () => {
  const bad: Array<[string, string]> = [
    ['', 'expected scheme://host:port, e.g. tcp://localhost:61613'],
    ['61613', 'expected scheme://host:port, e.g. tcp://localhost:61613'],
    ['localhost:61613', 'unknown scheme "localhost" (expected tcp, stomp or ws)'],
    ['http://h:80', 'unknown scheme "http" (expected tcp, stomp or ws)'],
    ['wss://h:61614', '"wss" needs TLS, which is not supported; use tcp:// or ws://'],
    ['stomp+ssl://h:61612', '"stomp+ssl" needs TLS, which is not supported; use tcp:// or ws://'],
    ['failover:(tcp://a:1,tcp://b:2)', '"failover:" URIs are not supported here; give a single tcp:// or ws:// URI'],
    ['tcp:/h:1', 'expected "//" after "tcp:"'],
    ['tcp://h', 'no port (e.g. tcp://localhost:61613)'],
    ['tcp://h:', 'port must be an integer from 1 to 65535, got ""'],
    ['tcp://:61613', 'no host'],
    ['tcp://', 'no host'],
    ['tcp://h:0', 'port must be an integer from 1 to 65535, got "0"'],
    ['tcp://h:65536', 'port must be an integer from 1 to 65535, got "65536"'],
    ['tcp://h:6161x', 'port must be an integer from 1 to 65535, got "6161x"'],
    ['tcp://h:-1', 'port must be an integer from 1 to 65535, got "-1"'],
    ['tcp://::1:61613', 'invalid host "::1" (an IPv6 address needs [brackets])'],
    ['tcp://[::1]', 'no port (e.g. tcp://localhost:61613)'],
    ['tcp://bad host:1', 'invalid host "bad host"'],
    ['tcp://user:pw@h:1', 'credentials in the URI are not supported; pass the login and passcode options'],
    ['tcp://h:1/queue', 'a tcp:// URI takes no path, got "/queue"'],
    ['tcp://h:1#frag', 'a fragment (#...) has no meaning here'],
    ['tcp://h:1?=x', 'option "=x" has no name'],
    ['tcp://h:1?a=%zz', 'invalid percent-encoding in "%zz"'],
  ];
  for (const [input, why] of bad) {
    it(JSON.stringify(input), () => {
      let caught: unknown;
      try { parseBrokerUri(input); } catch (err) { caught = err; }
      expect(caught).toBeInstanceOf(StompError);
      expect((caught as StompError).code).toBe('STOMP_BAD_URI');
      expect((caught as StompError).message).toBe(`bad broker URI ${JSON.stringify(input)}: ${why}`);
    });
  }
});
