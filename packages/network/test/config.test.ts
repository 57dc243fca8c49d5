// Goal: network connector URIs and settings are read as ActiveMQ users write them (static:/masterslave:,
// options in the query with ActiveMQ's names and defaults, values from a config object under the URI's)
// and every mistake is refused with a message naming the setting and what is accepted; method: the parser.
import { describe, expect, it } from 'vitest';
import { NETWORK_CONNECTOR_DEFAULTS, NetworkError, parseNetworkConnector } from '../src/index.js';

function refusal(uri: string, extra = {}): NetworkError {
  try {
    parseNetworkConnector(uri, extra);
  } catch (err) {
    if (err instanceof NetworkError) return err;
    throw err;
  }
  throw new Error(`expected ${uri} to be refused`);
}

describe('parseNetworkConnector', () => {
  it('reads static:(…) with ActiveMQ\'s defaults', () => {
    const c = parseNetworkConnector('static:(tcp://127.0.0.1:61623,tcp://127.0.0.1:61633)');
    expect(c).toEqual({
      ...NETWORK_CONNECTOR_DEFAULTS,
      uri: 'static:(tcp://127.0.0.1:61623,tcp://127.0.0.1:61633)', kind: 'static',
      remotes: ['tcp://127.0.0.1:61623', 'tcp://127.0.0.1:61633'],
    });
    expect(c).toMatchObject({ name: 'bridge', duplex: false, networkTTL: 1, conduitSubscriptions: true, decreaseNetworkConsumerPriority: false, dynamicOnly: false });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads static://(…), a bare static:uri, masterslave: and failover: (a group)', () => {
    expect(parseNetworkConnector('static://(stomp://a:1,ws://b:2/stomp)').remotes).toEqual(['stomp://a:1', 'ws://b:2/stomp']);
    expect(parseNetworkConnector('static:tcp://a:1').remotes).toEqual(['tcp://a:1']);
    expect(parseNetworkConnector('masterslave:(tcp://a:1,tcp://b:2,tcp://c:3)')).toMatchObject({ kind: 'masterslave', remotes: ['tcp://a:1', 'tcp://b:2', 'tcp://c:3'] });
    expect(parseNetworkConnector('failover:(tcp://a:1,tcp://b:2)').kind).toBe('masterslave');
  });

  it('takes options from the query, over the values given beside the URI', () => {
    const c = parseNetworkConnector(
      'static:(tcp://a:1)?duplex=true&networkTTL=2&name=east&excludedDestinations=/queue/secret.>,/topic/x&staticallyIncludedDestinations=/queue/always',
      { duplex: false, networkTTL: 3, decreaseNetworkConsumerPriority: true, dynamicallyIncludedDestinations: ['/queue/orders.*'] },
    );
    expect(c).toMatchObject({
      name: 'east', duplex: true, networkTTL: 2, decreaseNetworkConsumerPriority: true,
      excludedDestinations: ['/queue/secret.>', '/topic/x'], dynamicallyIncludedDestinations: ['/queue/orders.*'],
      staticallyIncludedDestinations: ['/queue/always'],
    });
  });

  it.each([
    ['tcp://a:1', /expected static:\(tcp:\/\/host:port,…\)/],
    ['static:()', /no broker URIs/],
    ['static:(tcp://a:1', /missing "\)"/],
    ['static:(tcp://a:1)x', /connector options go after "\?"/],
    ['static:(tcp://a:1,,tcp://b:2)', /broker URI 2 of 3 is empty/],
    ['static:(tcp://a:1,tcp://a:1)', /listed twice/],
    ['static:(ssl://a:1)', /needs TLS/],
    ['static:(tcp://a)', /no port/],
    ['static:tcp://a:1?duplex=true', /"duplex" would apply to tcp:\/\/a:1 only/],
    ['static:(tcp://a:1)?duplx=true', /unknown network connector option "duplx" \(known: name, duplex, networkTTL/],
    ['static:(tcp://a:1)?userName=u', /option "userName" is not supported/],
    ['static:(tcp://a:1)?duplex=yes', /duplex must be true or false, got "yes"/],
    ['static:(tcp://a:1)?networkTTL=0', /networkTTL must be a whole number from 1 to 63, got 0/],
    ['static:(tcp://a:1)?networkTTL=two', /networkTTL must be a whole number/],
    ['static:(tcp://a:1)?excludedDestinations=orders', /excludedDestinations has "orders", which is not \/queue\/<name> or \/topic\/<name>/],
    ['static:(tcp://a:1)?excludedDestinations=/queue/a.>.b', /">" before its last element/],
    ['static:(tcp://a:1)?staticallyIncludedDestinations=/queue/a.*', /a statically included queue must be named exactly/],
  ])('refuses %s with NETWORK_BAD_URI', (uri, message) => {
    const err = refusal(uri);
    expect(err.code).toBe('NETWORK_BAD_URI');
    expect(err.message).toMatch(message);
    expect(err.message).toContain(JSON.stringify(uri));
  });

  it('refuses a bad value beside the URI with NETWORK_CONFIG naming the setting', () => {
    const err = refusal('static:(tcp://a:1)', { networkTTL: 1.5 });
    expect(err.code).toBe('NETWORK_CONFIG');
    expect(err.message).toMatch(/networkTTL must be a whole number from 1 to 63, got 1\.5/);
    expect(refusal('static:(tcp://a:1)', { excludedDestinations: 'x' as unknown as string[] }).message).toMatch(/excludedDestinations must be a list of destinations/);
    expect(refusal('static:(tcp://a:1)', { prefetch: 5 } as never).message).toMatch(/unknown network connector option "prefetch"/);
  });
});
