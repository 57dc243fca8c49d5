// Goal: parseFailoverUri reads every failover URI form ActiveMQ users write, with every option and its
// default, and rejects malformed ones with a message that quotes the URI and names the fault; method:
// tables of inputs and exact expected results or messages.
import { describe, expect, it } from 'vitest';
import {
  FAILOVER_DEFAULTS,
  FAILOVER_DELAY_MS_MAX,
  formatBrokerUri,
  parseFailoverUri,
  resolveFailoverOptions,
  SINGLE_URI_DEFAULTS,
  StompError,
  type FailoverOptions,
} from '@mini-amq/stomp';

const addresses = (text: string): string[] => parseFailoverUri(text).uris.map((u) => formatBrokerUri(u));

describe('parseFailoverUri: forms', () => {
  it("has ActiveMQ's defaults", () => {
    expect(FAILOVER_DEFAULTS).toEqual({
      randomize: true, initialReconnectDelay: 10, maxReconnectDelay: 30_000, useExponentialBackOff: true, backOffMultiplier: 2,
      maxReconnectAttempts: -1, startupMaxReconnectAttempts: -1, timeout: -1, priorityBackup: false,
    });
    expect(Object.isFrozen(FAILOVER_DEFAULTS)).toBe(true);
  });

  const forms: Array<[string, string[]]> = [
    ['failover:(tcp://a:61613,tcp://b:61614)', ['tcp://a:61613', 'tcp://b:61614']],
    ['failover://(tcp://a:61613,tcp://b:61614)', ['tcp://a:61613', 'tcp://b:61614']],
    ['failover:tcp://a:61613,tcp://b:61614', ['tcp://a:61613', 'tcp://b:61614']],
    ['failover://tcp://a:61613', ['tcp://a:61613']],
    ['FAILOVER:( tcp://a:1 , stomp://b:2 ,ws://c:3/stomp )', ['tcp://a:1', 'tcp://b:2', 'ws://c:3/stomp']],
    ['failover:(tcp://[::1]:61613)', ['tcp://[::1]:61613']],
    ['  failover:(tcp://a:1)  ', ['tcp://a:1']],
  ];
  for (const [text, expected] of forms) {
    it(text, () => {
      const parsed = parseFailoverUri(text);
      expect(parsed.failover).toBe(true);
      expect(parsed.options).toEqual(FAILOVER_DEFAULTS);
      expect(addresses(text)).toEqual(expected);
    });
  }

  it('keeps inner URI options (they are ignored by the client)', () => {
    const parsed = parseFailoverUri('failover:(tcp://a:1?wireFormat.maxFrameSize=1024,tcp://b:2)?randomize=false');
    expect(parsed.uris[0]?.options).toEqual({ 'wireFormat.maxFrameSize': '1024' });
    expect(parsed.options.randomize).toBe(false);
  });

  it('without parentheses, a "?" belongs to the last broker URI, as in ActiveMQ', () => {
    const parsed = parseFailoverUri('failover:tcp://a:1,tcp://b:2?soTimeout=5');
    expect(parsed.uris[1]?.options).toEqual({ soTimeout: '5' });
    expect(parsed.options).toEqual(FAILOVER_DEFAULTS);
  });

  it('takes a plain URI as a pool of one that does not reconnect', () => {
    const parsed = parseFailoverUri('tcp://localhost:61613?trace=true');
    expect(parsed.failover).toBe(false);
    expect(parsed.uris).toHaveLength(1);
    expect(parsed.options).toBe(SINGLE_URI_DEFAULTS);
    expect(SINGLE_URI_DEFAULTS.maxReconnectAttempts).toBe(0);
    expect(SINGLE_URI_DEFAULTS.randomize).toBe(false);
  });

  it('ignores nested.* options, which ActiveMQ hands to every inner URI', () => {
    expect(parseFailoverUri('failover:(tcp://a:1)?nested.wireFormat.maxInactivityDuration=0').options).toEqual(FAILOVER_DEFAULTS);
  });
});

describe('parseFailoverUri: every option', () => {
  const cases: Array<[string, Partial<FailoverOptions>]> = [
    ['randomize=false', { randomize: false }],
    ['randomize=TRUE', { randomize: true }],
    ['initialReconnectDelay=0', { initialReconnectDelay: 0 }],
    ['initialReconnectDelay=250', { initialReconnectDelay: 250 }],
    ['maxReconnectDelay=5000', { maxReconnectDelay: 5000 }],
    [`maxReconnectDelay=${FAILOVER_DELAY_MS_MAX}`, { maxReconnectDelay: FAILOVER_DELAY_MS_MAX }],
    ['useExponentialBackOff=false', { useExponentialBackOff: false }],
    ['backOffMultiplier=1.5', { backOffMultiplier: 1.5 }],
    ['reconnectDelayExponent=3', { backOffMultiplier: 3 }],
    ['maxReconnectAttempts=0', { maxReconnectAttempts: 0 }],
    ['maxReconnectAttempts=-1', { maxReconnectAttempts: -1 }],
    ['maxReconnectAttempts=7', { maxReconnectAttempts: 7 }],
    ['startupMaxReconnectAttempts=3', { startupMaxReconnectAttempts: 3 }],
    ['timeout=3000', { timeout: 3000 }],
    ['timeout=-1', { timeout: -1 }],
    ['priorityBackup=true', { priorityBackup: true }],
    [
      'randomize=false&priorityBackup=true&initialReconnectDelay=5&maxReconnectDelay=100&maxReconnectAttempts=2&timeout=10',
      { randomize: false, priorityBackup: true, initialReconnectDelay: 5, maxReconnectDelay: 100, maxReconnectAttempts: 2, timeout: 10 },
    ],
  ];
  for (const [query, expected] of cases) {
    it(query, () => {
      const { options } = parseFailoverUri(`failover:(tcp://a:1,tcp://b:2)?${query}`);
      expect(options).toEqual({ ...FAILOVER_DEFAULTS, ...expected });
      expect(Object.isFrozen(options)).toBe(true);
    });
  }
});

describe('parseFailoverUri: malformed', () => {
  const bad: Array<[string, string]> = [
    ['failover:', 'no broker URIs (expected failover:(tcp://host:port,…))'],
    ['failover:()', 'no broker URIs (expected failover:(tcp://host:port,…))'],
    ['failover://', 'no broker URIs (expected failover:(tcp://host:port,…))'],
    ['failover:(tcp://a:1,tcp://b:2', 'missing ")" after the broker URIs'],
    ['failover:(tcp://a:1)randomize=false', 'unexpected "randomize=false" after ")"; failover options go after "?"'],
    ['failover:tcp://a:1)', 'unbalanced parentheses'],
    ['failover:(tcp://a:1,,tcp://b:2)', 'broker URI 2 of 3 is empty'],
    ['failover:(tcp://a:1,)', 'broker URI 2 of 2 is empty'],
    ['failover:(failover:(tcp://a:1))', 'a failover: URI cannot be nested inside another'],
    ['failover:(tcp://a)', 'bad broker URI "tcp://a": no port (e.g. tcp://localhost:61613)'],
    ['failover:(http://a:1)', 'bad broker URI "http://a:1": unknown scheme "http" (expected tcp, stomp or ws)'],
    ['failover:(tcp://a:1,stomp://a:1)', 'tcp://a:1 is listed twice'],
    ['failover:(tcp://a:1)?#x', 'a fragment (#...) has no meaning here'],
    ['failover:(tcp://a:1)?randomise=false', 'unknown failover option "randomise" (known: randomize, initialReconnectDelay, maxReconnectDelay, useExponentialBackOff, backOffMultiplier, maxReconnectAttempts, startupMaxReconnectAttempts, timeout, priorityBackup, reconnectDelayExponent)'],
    ['failover:(tcp://a:1)?backup=true', 'the ActiveMQ failover option "backup" is not supported by this client (supported: randomize, initialReconnectDelay, maxReconnectDelay, useExponentialBackOff, backOffMultiplier, maxReconnectAttempts, startupMaxReconnectAttempts, timeout, priorityBackup, reconnectDelayExponent)'],
    ['failover:(tcp://a:1)?randomize=yes', 'randomize must be true or false, got "yes"'],
    ['failover:(tcp://a:1)?priorityBackup', 'priorityBackup must be true or false, got ""'],
    ['failover:(tcp://a:1)?initialReconnectDelay=-1', `initialReconnectDelay must be a whole number of ms from 0 to ${FAILOVER_DELAY_MS_MAX}, got "-1"`],
    ['failover:(tcp://a:1)?maxReconnectDelay=1.5', `maxReconnectDelay must be a whole number of ms from 0 to ${FAILOVER_DELAY_MS_MAX}, got "1.5"`],
    ['failover:(tcp://a:1)?maxReconnectDelay=2147483648', `maxReconnectDelay must be a whole number of ms from 0 to ${FAILOVER_DELAY_MS_MAX}, got "2147483648"`],
    ['failover:(tcp://a:1)?maxReconnectAttempts=-2', 'maxReconnectAttempts must be -1 (forever) or a whole number >= 0, got "-2"'],
    ['failover:(tcp://a:1)?startupMaxReconnectAttempts=many', 'startupMaxReconnectAttempts must be -1 (forever) or a whole number >= 0, got "many"'],
    ['failover:(tcp://a:1)?timeout=0', `timeout must be -1 (wait forever) or a whole number of ms from 1 to ${FAILOVER_DELAY_MS_MAX}, got "0"`],
    ['failover:(tcp://a:1)?backOffMultiplier=0.5', 'backOffMultiplier must be a number >= 1, got "0.5"'],
    ['failover:(tcp://a:1)?reconnectDelayExponent=1e3', 'reconnectDelayExponent must be a number >= 1, got "1e3"'],
    ['failover:(tcp://a:1)?backOffMultiplier=2&reconnectDelayExponent=3', 'give backOffMultiplier or its alias reconnectDelayExponent, not both'],
    ['failover:(tcp://a:1)?=x', 'bad broker URI "failover:(tcp://a:1)?=x": option "=x" has no name'],
    ['failover:tcp://a:1,tcp://b:2?randomize=false', '"randomize" would apply to tcp://b:2 only; put failover options after parentheses: failover:(uri1,uri2)?randomize=…'],
  ];
  for (const [input, why] of bad) {
    it(input, () => {
      let caught: unknown;
      try { parseFailoverUri(input); } catch (err) { caught = err; }
      expect(caught).toBeInstanceOf(StompError);
      expect((caught as StompError).code).toBe('STOMP_BAD_URI');
      // parseUriOptions' own errors quote the whole URI already.
      const expected = why.startsWith('bad broker URI "failover:') ? why : `bad failover URI ${JSON.stringify(input)}: ${why}`;
      expect((caught as StompError).message).toBe(expected);
    });
  }

  it('a plain URI fails as parseBrokerUri does', () => {
    expect(() => parseFailoverUri('tcp://h')).toThrow('bad broker URI "tcp://h": no port (e.g. tcp://localhost:61613)');
    expect(() => parseFailoverUri('static:(tcp://a:1)')).toThrow('"static:" URIs are not supported here');
  });
});

describe('resolveFailoverOptions', () => {
  it('lays typed overrides over a base, alias included, and freezes the result', () => {
    const o = resolveFailoverOptions({ randomize: false, timeout: 500 }, SINGLE_URI_DEFAULTS);
    expect(o).toEqual({ ...SINGLE_URI_DEFAULTS, randomize: false, timeout: 500 });
    expect(Object.isFrozen(o)).toBe(true);
    expect(resolveFailoverOptions({ reconnectDelayExponent: 4 } as Partial<FailoverOptions>).backOffMultiplier).toBe(4);
    expect(resolveFailoverOptions({ maxReconnectAttempts: undefined })).toEqual(FAILOVER_DEFAULTS);
  });

  it('throws RangeError naming the setting', () => {
    expect(() => resolveFailoverOptions({ maxReconnectAttempts: -5 })).toThrow(new RangeError('maxReconnectAttempts must be -1 (forever) or a whole number >= 0, got -5'));
    expect(() => resolveFailoverOptions({ randomize: 'false' as unknown as boolean })).toThrow(new RangeError('randomize must be true or false, got "false"'));
    expect(() => resolveFailoverOptions({ tracking: true } as Partial<FailoverOptions>)).toThrow(/^unknown failover option "tracking" \(known: randomize, /);
  });
});
