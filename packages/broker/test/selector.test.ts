// Goal: a STOMP SUBSCRIBE `selector` behaves as a JMS 1.1 §3.8 message selector does in ActiveMQ
// (with its STOMP string-to-number conversion), and a bad or hostile selector is refused with a
// SelectorError that says where it is wrong, never a crash, a hang or a stack overflow.
import { describe, expect, it, vi } from 'vitest';
import {
  compileSelector,
  SELECTOR_CHARS_MAX,
  SELECTOR_DEPTH_MAX,
  SelectorError,
  type HeaderLookup,
} from '../src/selector.js';

type Headers = Record<string, string | number | boolean | null | undefined>;

const lookupOf = (headers: Headers): HeaderLookup => (name) => (Object.hasOwn(headers, name) ? headers[name] : undefined);
const matches = (selector: string, headers: Headers = {}): boolean => compileSelector(selector).matches(lookupOf(headers));

/** The SelectorError a selector throws (fails the test when it compiles). */
function errorOf(selector: string): SelectorError {
  try {
    compileSelector(selector);
  } catch (err) {
    expect(err).toBeInstanceOf(SelectorError);
    return err as SelectorError;
  }
  throw new Error(`expected ${JSON.stringify(selector)} to be rejected`);
}

describe('compileSelector', () => {
  it('returns the selector text and a matcher', () => {
    const selector = compileSelector("color = 'red'");
    expect(selector.text).toBe("color = 'red'");
    expect(selector.matches(lookupOf({ color: 'red' }))).toBe(true);
    expect(selector.matches(lookupOf({ color: 'blue' }))).toBe(false);
  });

  it('passes identifiers, JMS header names included, to the lookup exactly as written', () => {
    const lookup = vi.fn<HeaderLookup>((name) => ({ JMSPriority: 7, JMSDeliveryMode: 'PERSISTENT', JMSRedelivered: false } as Headers)[name]);
    const selector = compileSelector("JMSPriority > 4 AND JMSDeliveryMode = 'PERSISTENT' AND NOT JMSRedelivered AND JMSType IS NULL");
    expect(selector.matches(lookup)).toBe(true);
    expect(lookup.mock.calls.map(([name]) => name)).toEqual(['JMSPriority', 'JMSDeliveryMode', 'JMSRedelivered', 'JMSType']);
  });

  it('treats a blank selector as no selector (ActiveMQ), matching everything', () => {
    expect(matches('')).toBe(true);
    expect(matches('  \t\n')).toBe(true);
  });

  it('matches TRUE and never FALSE', () => {
    expect(matches('TRUE')).toBe(true);
    expect(matches('FALSE')).toBe(false);
  });
});

describe('comparison operators', () => {
  it.each([
    ['n = 5', true], ['n = 6', false],
    ['n <> 5', false], ['n <> 6', true],
    ['n < 6', true], ['n < 5', false],
    ['n > 4', true], ['n > 5', false],
    ['n <= 5', true], ['n <= 4', false],
    ['n >= 5', true], ['n >= 6', false],
  ])('%s with n = 5 is %s', (selector, expected) => {
    expect(matches(selector, { n: 5 })).toBe(expected);
    expect(matches(selector, { n: '5' })).toBe(expected); // STOMP header string
  });

  it('compares exact and approximate numbers by value', () => {
    expect(matches('n = 5.0', { n: 5 })).toBe(true);
    expect(matches('n < 5.5', { n: '5' })).toBe(true);
    expect(matches('n = 2.5', { n: '2.5' })).toBe(true);
    expect(matches('n > 1e3', { n: '1001' })).toBe(true);
    expect(matches('n = 1000', { n: '1e3' })).toBe(true);
  });

  it('compares strings with = and <>', () => {
    expect(matches("s = 'abc'", { s: 'abc' })).toBe(true);
    expect(matches("s = 'ABC'", { s: 'abc' })).toBe(false);
    expect(matches("s <> 'abc'", { s: 'abd' })).toBe(true);
    expect(matches("s <> 'abc'", { s: 'abc' })).toBe(false);
  });

  it('orders strings lexicographically, as ActiveMQ does (an extension of JMS)', () => {
    expect(matches("s < 'b'", { s: 'abc' })).toBe(true);
    expect(matches("s >= 'b'", { s: 'b' })).toBe(true);
    expect(matches("s > 'b'", { s: 'B' })).toBe(false);
    // two strings stay strings even when they look numeric
    expect(matches('a < b', { a: '10', b: '9' })).toBe(true);
    expect(matches("s = '07'", { s: '7' })).toBe(false);
  });

  it('compares booleans with = and <> only', () => {
    expect(matches('b = TRUE', { b: true })).toBe(true);
    expect(matches('b = FALSE', { b: true })).toBe(false);
    expect(matches('b <> FALSE', { b: true })).toBe(true);
    expect(matches('b > FALSE', { b: true })).toBe(false);
    expect(matches('NOT (b > FALSE)', { b: true })).toBe(true); // FALSE, not UNKNOWN
  });

  it('treats unlike types as unequal: = FALSE, <> TRUE, ordering FALSE', () => {
    expect(matches('s = 5', { s: 'abc' })).toBe(false);
    expect(matches('s <> 5', { s: 'abc' })).toBe(true);
    expect(matches('s > 5', { s: 'abc' })).toBe(false);
    expect(matches('s < 5', { s: 'abc' })).toBe(false);
    expect(matches("n = '5x'", { n: 5 })).toBe(false);
    expect(matches('b = 1', { b: true })).toBe(false);
    expect(matches("b = 'yes'", { b: true })).toBe(false);
  });

  it('compares two headers', () => {
    expect(matches('a = b', { a: 'x', b: 'x' })).toBe(true);
    expect(matches('a > b', { a: 3, b: '2' })).toBe(true);
  });

  it('compares conditions as booleans when parenthesised', () => {
    expect(matches('(a = 1) = TRUE', { a: 1 })).toBe(true);
    expect(matches('(a = 1) = (b = 2)', { a: 1, b: 3 })).toBe(false);
    expect(matches('(a = 1) <> (b = 2)', { a: 1, b: 3 })).toBe(true);
  });
});

describe('convert_string_expressions: STOMP header strings meet numbers and booleans', () => {
  it('converts numeric header strings when compared with numbers', () => {
    expect(matches('priority > 5', { priority: '7' })).toBe(true);
    expect(matches('priority > 5', { priority: '3' })).toBe(false);
    expect(matches('count = 3', { count: '3' })).toBe(true);
    expect(matches('count = 3', { count: '3.0' })).toBe(true);
    expect(matches('count = 3', { count: '+3' })).toBe(true);
    expect(matches('count = -3', { count: '-3' })).toBe(true);
    expect(matches('count = 3', { count: '003' })).toBe(true); // header strings are decimal, never octal
    expect(matches('price < 10', { price: '9.99' })).toBe(true);
    expect(matches('price < 10', { price: '.5' })).toBe(true);
  });

  it('converts either side, including string literals facing numeric headers', () => {
    expect(matches("5 < priority", { priority: '7' })).toBe(true);
    expect(matches("JMSPriority = '4'", { JMSPriority: 4 })).toBe(true);
  });

  it('does not convert strings that are not plain decimal numbers', () => {
    for (const value of [' 3', '3 ', '0x3', '3abc', '', '-', '.', '1e', 'NaN', 'Infinity', '1,000']) {
      expect(matches('n = 3', { n: value }), JSON.stringify(value)).toBe(false);
      expect(matches('n <> 3', { n: value }), JSON.stringify(value)).toBe(true);
    }
  });

  it('keeps integers beyond 2^53 exact', () => {
    expect(matches('id = 9007199254740993', { id: '9007199254740993' })).toBe(true);
    expect(matches('id = 9007199254740992', { id: '9007199254740993' })).toBe(false);
    expect(matches('id > 9223372036854775806', { id: '9223372036854775807' })).toBe(true);
  });

  it('compares header strings "true"/"false" (any case) with TRUE/FALSE', () => {
    expect(matches('flag = TRUE', { flag: 'true' })).toBe(true);
    expect(matches('flag = TRUE', { flag: 'TRUE' })).toBe(true);
    expect(matches('flag = FALSE', { flag: 'false' })).toBe(true);
    expect(matches('flag = TRUE', { flag: 'false' })).toBe(false);
    expect(matches('flag = TRUE', { flag: 'yes' })).toBe(false);
    expect(matches('flag = TRUE', { flag: '1' })).toBe(false);
  });

  it('uses a header directly as a condition when it is a boolean or "true"/"false"', () => {
    expect(matches('flag', { flag: true })).toBe(true);
    expect(matches('flag', { flag: 'True' })).toBe(true);
    expect(matches('flag', { flag: 'false' })).toBe(false);
    expect(matches('NOT flag', { flag: 'false' })).toBe(true);
    // anything else is UNKNOWN: neither it nor its negation matches
    expect(matches('flag', { flag: 'yes' })).toBe(false);
    expect(matches('NOT flag', { flag: 'yes' })).toBe(false);
    expect(matches('NOT flag', { flag: 1 })).toBe(false);
    expect(matches('flag AND a = 1', { flag: 'true', a: '1' })).toBe(true);
  });
});

describe('arithmetic', () => {
  it.each([
    ['a + b = 5', true], ['a - b = -1', true], ['a * b = 6', true],
    ['b / a = 1', true], ['b % a = 1', true], ['-a = -2', true], ['+a = 2', true],
    ['a + b * 2 = 8', true], ['(a + b) * 2 = 10', true], ['a - b - 1 = -2', true],
    ['a * b / 4 = 1', true], // (2 * 3) / 4 in long arithmetic
    ['- - a = 2', true], ['-(a + b) = -5', true], ['a - -b = 5', true],
  ])('%s with a = "2", b = "3" is %s', (selector, expected) => {
    expect(matches(selector, { a: '2', b: '3' })).toBe(expected);
    expect(matches(selector, { a: 2, b: 3 })).toBe(expected);
  });

  it('divides longs with truncation and doubles exactly, as Java does', () => {
    expect(matches('7 / 2 = 3')).toBe(true);
    expect(matches('-7 / 2 = -3')).toBe(true);
    expect(matches('7.0 / 2 = 3.5')).toBe(true);
    expect(matches('n / 2 = 3.75', { n: '7.5' })).toBe(true);
    expect(matches('-7 % 3 = -1')).toBe(true);
    expect(matches('5.5 % 2 = 1.5')).toBe(true);
  });

  it('wraps long overflow as Java does', () => {
    expect(matches('9223372036854775807 + 1 = -9223372036854775808')).toBe(true);
    expect(matches('-9223372036854775808 - 1 = 9223372036854775807')).toBe(true);
  });

  it('makes long division by zero UNKNOWN and double division by zero infinite', () => {
    expect(matches('n / 0 = 1', { n: 1 })).toBe(false);
    expect(matches('NOT (n / 0 = 1)', { n: 1 })).toBe(false);
    expect(matches('n % 0 IS NULL', { n: 1 })).toBe(true);
    expect(matches('n / 0.0 > 1e308', { n: 1 })).toBe(true);
  });

  it('makes arithmetic on missing or non-numeric headers UNKNOWN', () => {
    expect(matches('a + 1 = 1')).toBe(false);
    expect(matches('NOT (a + 1 = 1)')).toBe(false);
    expect(matches('a + 1 IS NULL')).toBe(true);
    expect(matches('a + 1 = 1', { a: 'zero' })).toBe(false);
    expect(matches('NOT (a + 1 = 1)', { a: 'zero' })).toBe(false);
    expect(matches('-a IS NULL', { a: true })).toBe(true);
  });
});

describe('literals', () => {
  it('reads string literals with doubled quotes', () => {
    expect(matches("s = 'it''s'", { s: "it's" })).toBe(true);
    expect(matches("s = ''''", { s: "'" })).toBe(true);
    expect(matches("s = ''", { s: '' })).toBe(true);
    expect(matches("s = 'a \"b\" = c AND d'", { s: 'a "b" = c AND d' })).toBe(true);
    expect(matches("s = 'héllo 😀'", { s: 'héllo 😀' })).toBe(true);
  });

  it('reads exact numerics: decimal, long suffix, hex and (as ActiveMQ) leading-0 octal', () => {
    expect(matches('n = 57', { n: 57 })).toBe(true);
    expect(matches('n = 57L', { n: 57 })).toBe(true);
    expect(matches('n = 57l', { n: 57 })).toBe(true);
    expect(matches('n = 0x1F', { n: 31 })).toBe(true);
    expect(matches('n = 0X1fL', { n: 31 })).toBe(true);
    expect(matches('n = 010', { n: 8 })).toBe(true);
    expect(matches('n = 0', { n: 0 })).toBe(true);
    expect(matches('n = -957', { n: '-957' })).toBe(true);
    expect(matches('n = +62', { n: '62' })).toBe(true);
    expect(matches('n = 9223372036854775807', { n: '9223372036854775807' })).toBe(true);
    expect(matches('n = -9223372036854775808', { n: '-9223372036854775808' })).toBe(true);
  });

  it('reads approximate numerics', () => {
    expect(matches('n = 1.5', { n: 1.5 })).toBe(true);
    expect(matches('n = 1e3', { n: 1000 })).toBe(true);
    expect(matches('n = 7E3', { n: 7000 })).toBe(true);
    expect(matches('n = -57.9E2', { n: -5790 })).toBe(true);
    expect(matches('n = 7.', { n: 7 })).toBe(true);
    expect(matches('n = .5', { n: 0.5 })).toBe(true);
    expect(matches('n = 2.5e-1', { n: 0.25 })).toBe(true);
    expect(matches('n = 0.5', { n: 0.5 })).toBe(true);
  });

  it('reads TRUE and FALSE in any case', () => {
    expect(matches('b = true', { b: true })).toBe(true);
    expect(matches('b = False', { b: false })).toBe(true);
  });
});

describe('AND, OR, NOT and precedence', () => {
  it('binds AND tighter than OR', () => {
    const selector = 'a = 1 OR b = 2 AND c = 3';
    expect(matches(selector, { a: 1, b: 0, c: 0 })).toBe(true); // a = 1 OR (b = 2 AND c = 3)
    expect(matches(selector, { a: 0, b: 2, c: 0 })).toBe(false);
    expect(matches(selector, { a: 0, b: 2, c: 3 })).toBe(true);
    expect(matches('(a = 1 OR b = 2) AND c = 3', { a: 1, b: 0, c: 0 })).toBe(false);
  });

  it('binds NOT tighter than AND but looser than comparisons', () => {
    expect(matches('NOT a = 1 AND b = 2', { a: 0, b: 2 })).toBe(true); // (NOT (a = 1)) AND b = 2
    expect(matches('NOT a = 1 AND b = 2', { a: 1, b: 2 })).toBe(false);
    expect(matches('NOT (a = 1 AND b = 2)', { a: 1, b: 0 })).toBe(true);
    expect(matches('NOT NOT a = 1', { a: 1 })).toBe(true);
  });

  it('binds arithmetic tighter than comparisons', () => {
    expect(matches('a + 1 > b * 2', { a: 4, b: 2 })).toBe(true);
    expect(matches('a BETWEEN b - 1 AND b + 1', { a: 4, b: 5 })).toBe(true);
  });

  it('chains long AND and OR lists', () => {
    const ors = Array.from({ length: 200 }, (_, i) => `n = ${i}`).join(' OR ');
    expect(matches(ors, { n: 199 })).toBe(true);
    expect(matches(ors, { n: 200 })).toBe(false);
    const ands = Array.from({ length: 200 }, (_, i) => `n <> ${i}`).join(' AND ');
    expect(matches(ands, { n: 200 })).toBe(true);
    expect(matches(ands, { n: 5 })).toBe(false);
  });
});

describe('three-valued logic with missing headers', () => {
  // t = TRUE, f = FALSE, u = UNKNOWN (the header `u` is absent)
  const headers: Headers = { t: 1, f: 0 };
  const T = 't = 1';
  const F = 'f = 1';
  const U = 'u = 1';
  /** What a condition evaluates to, read through whether it and its negation match. */
  const truth = (condition: string): 'TRUE' | 'FALSE' | 'UNKNOWN' =>
    matches(condition, headers) ? 'TRUE' : matches(`NOT (${condition})`, headers) ? 'FALSE' : 'UNKNOWN';

  it('makes comparisons with a missing header UNKNOWN, which does not match', () => {
    expect(matches('a = 1')).toBe(false);
    expect(matches('a <> 1')).toBe(false);
    expect(matches('NOT (a = 1)')).toBe(false);
    expect(truth(U)).toBe('UNKNOWN');
    expect(truth("u = 'x'")).toBe('UNKNOWN');
    expect(truth('u > 1')).toBe('UNKNOWN');
    expect(truth('u = u')).toBe('UNKNOWN');
  });

  it('follows the SQL truth tables for AND, OR and NOT', () => {
    const cases: [string, string][] = [
      [`${T} AND ${T}`, 'TRUE'], [`${T} AND ${F}`, 'FALSE'], [`${T} AND ${U}`, 'UNKNOWN'],
      [`${F} AND ${U}`, 'FALSE'], [`${U} AND ${F}`, 'FALSE'], [`${U} AND ${U}`, 'UNKNOWN'],
      [`${T} OR ${U}`, 'TRUE'], [`${U} OR ${T}`, 'TRUE'], [`${F} OR ${U}`, 'UNKNOWN'],
      [`${F} OR ${F}`, 'FALSE'], [`${U} OR ${U}`, 'UNKNOWN'],
      [`NOT ${T}`, 'FALSE'], [`NOT ${F}`, 'TRUE'], [`NOT ${U}`, 'UNKNOWN'],
      [`NOT (${U} AND ${F})`, 'TRUE'], [`NOT (${U} OR ${T})`, 'FALSE'],
    ];
    for (const [condition, expected] of cases) expect(truth(condition), condition).toBe(expected);
  });

  it('treats a null from the lookup like a missing header, and an empty string as present', () => {
    expect(matches('a IS NULL', { a: null })).toBe(true);
    expect(matches('a = 1', { a: null })).toBe(false);
    expect(matches('a IS NULL', { a: '' })).toBe(false);
    expect(matches("a = ''", { a: '' })).toBe(true);
  });
});

describe('IS NULL and IS NOT NULL', () => {
  it('test presence and are never UNKNOWN', () => {
    expect(matches('a IS NULL')).toBe(true);
    expect(matches('a IS NULL', { a: 'x' })).toBe(false);
    expect(matches('a IS NOT NULL', { a: 'x' })).toBe(true);
    expect(matches('a IS NOT NULL')).toBe(false);
    expect(matches('NOT (a IS NULL)', { a: 'x' })).toBe(true);
    expect(matches('a is not null', { a: false })).toBe(true);
  });
});

describe('BETWEEN and NOT BETWEEN', () => {
  it('includes both bounds', () => {
    expect(matches('n BETWEEN 1 AND 3', { n: '1' })).toBe(true);
    expect(matches('n BETWEEN 1 AND 3', { n: '2' })).toBe(true);
    expect(matches('n BETWEEN 1 AND 3', { n: '3' })).toBe(true);
    expect(matches('n BETWEEN 1 AND 3', { n: '3.5' })).toBe(false);
    expect(matches('n BETWEEN 1 AND 3', { n: '0' })).toBe(false);
    expect(matches('n BETWEEN 3 AND 1', { n: '2' })).toBe(false);
  });

  it('negates with NOT BETWEEN', () => {
    expect(matches('n NOT BETWEEN 1 AND 3', { n: 0 })).toBe(true);
    expect(matches('n NOT BETWEEN 1 AND 3', { n: 4 })).toBe(true);
    expect(matches('n NOT BETWEEN 1 AND 3', { n: 2 })).toBe(false);
  });

  it('is UNKNOWN for a missing header either way', () => {
    expect(matches('n BETWEEN 1 AND 3')).toBe(false);
    expect(matches('n NOT BETWEEN 1 AND 3')).toBe(false);
    expect(matches('NOT (n BETWEEN 1 AND 3)')).toBe(false);
  });

  it('works with approximate bounds, strings and a following AND', () => {
    expect(matches('n BETWEEN 1.5 AND 2.5', { n: '2' })).toBe(true);
    expect(matches("s BETWEEN 'b' AND 'd'", { s: 'c' })).toBe(true);
    expect(matches('n BETWEEN 1 AND 3 AND m = 1', { n: 2, m: 1 })).toBe(true);
    expect(matches('n BETWEEN 1 AND 3 AND m = 1', { n: 2, m: 0 })).toBe(false);
    expect(matches('n between -3 and -1', { n: '-2' })).toBe(true);
  });
});

describe('IN and NOT IN', () => {
  it('matches a string in the list', () => {
    const selector = "country IN ('UK', 'US', 'France')";
    expect(matches(selector, { country: 'UK' })).toBe(true);
    expect(matches(selector, { country: 'France' })).toBe(true);
    expect(matches(selector, { country: 'Peru' })).toBe(false);
    expect(matches(selector, { country: 'uk' })).toBe(false);
    expect(matches("country IN ('UK')", { country: 'UK' })).toBe(true);
  });

  it('negates with NOT IN', () => {
    const selector = "country NOT IN ('UK', 'US', 'France')";
    expect(matches(selector, { country: 'Peru' })).toBe(true);
    expect(matches(selector, { country: 'UK' })).toBe(false);
  });

  it('is UNKNOWN for a missing header either way', () => {
    expect(matches("country IN ('UK')")).toBe(false);
    expect(matches("country NOT IN ('UK')")).toBe(false);
    expect(matches("NOT (country IN ('UK'))")).toBe(false);
  });

  it('accepts numbers and booleans in the list, converting header strings', () => {
    expect(matches('priority IN (1, 2, 3)', { priority: '2' })).toBe(true);
    expect(matches('priority IN (1, 2, 3)', { priority: 2 })).toBe(true);
    expect(matches('priority IN (1, 2, 3)', { priority: '4' })).toBe(false);
    expect(matches('priority IN (-1, 2.5)', { priority: '-1' })).toBe(true);
    expect(matches("priority IN ('2', 3)", { priority: 2 })).toBe(true);
    expect(matches('flag IN (TRUE)', { flag: 'true' })).toBe(true);
    expect(matches("code IN ('007', 7)", { code: '7' })).toBe(true);
    expect(matches("code IN ('007')", { code: '7' })).toBe(false);
  });
});

describe('LIKE and NOT LIKE', () => {
  it.each([
    ["'abc'", 'abc', true], ["'abc'", 'abcd', false], ["'abc'", 'ABC', false],
    ["'a%'", 'a', true], ["'a%'", 'abc', true], ["'a%'", 'ba', false],
    ["'%c'", 'abc', true], ["'%b%'", 'abc', true], ["'%b%'", 'ac', false],
    ["'a_c'", 'abc', true], ["'a_c'", 'ac', false], ["'a_c'", 'abbc', false],
    ["'___'", 'abc', true], ["'___'", 'ab', false],
    ["'%'", '', true], ["''", '', true], ["''", 'a', false], ["'_%'", '', false],
    ["'12%3'", '123', true], ["'12%3'", '12993', true], ["'12%3'", '1234', false],
    ["'l_se'", 'lose', true], ["'l_se'", 'loose', false],
    ["'%a%b%'", 'xxaxxbxx', true], ["'%a%b%'", 'xxbxxaxx', false],
    ["'%ab'", 'aab', true], ["'a%a'", 'a', false], ["'a%%a'", 'aa', true],
  ])('LIKE %s on %j is %s', (pattern, value, expected) => {
    expect(matches(`s LIKE ${pattern}`, { s: value })).toBe(expected);
    expect(matches(`s NOT LIKE ${pattern}`, { s: value })).toBe(!expected);
  });

  it('treats regex metacharacters in the pattern as plain characters', () => {
    expect(matches("name LIKE 'a.b%'", { name: 'a.bcd' })).toBe(true);
    expect(matches("name LIKE 'a.b%'", { name: 'axbcd' })).toBe(false);
    expect(matches("name LIKE '(x)+[y]*?{2}^$|\\d'", { name: '(x)+[y]*?{2}^$|\\d' })).toBe(true);
    expect(matches("name LIKE '(x)+[y]*?{2}^$|\\d'", { name: 'xxy' })).toBe(false);
    expect(matches("name LIKE '.*'", { name: 'anything' })).toBe(false);
    expect(matches("name LIKE '%.*'", { name: 'x.*' })).toBe(true);
  });

  it('lets % and _ match newlines and counts a surrogate pair as one character', () => {
    expect(matches("s LIKE 'a%b'", { s: 'a\n\r\nb' })).toBe(true);
    expect(matches("s LIKE 'a_b'", { s: 'a\nb' })).toBe(true);
    expect(matches("s LIKE 'a_b'", { s: 'a😀b' })).toBe(true);
    expect(matches("s LIKE '__'", { s: '😀' })).toBe(false);
    expect(matches("s LIKE '%__'", { s: '😀' })).toBe(false);
    expect(matches("s LIKE '%😀'", { s: 'x😀' })).toBe(true);
  });

  it('makes the escape character quote %, _ and itself', () => {
    expect(matches("s LIKE '100\\%' ESCAPE '\\'", { s: '100%' })).toBe(true);
    expect(matches("s LIKE '100\\%' ESCAPE '\\'", { s: '1000' })).toBe(false);
    expect(matches("s LIKE '\\_%' ESCAPE '\\'", { s: '_abc' })).toBe(true);
    expect(matches("s LIKE '\\_%' ESCAPE '\\'", { s: 'xabc' })).toBe(false);
    expect(matches("s LIKE 'a\\\\b' ESCAPE '\\'", { s: 'a\\b' })).toBe(true);
    expect(matches("s LIKE '%!%%' ESCAPE '!'", { s: 'a%b' })).toBe(true);
    expect(matches("s LIKE '%!%%' ESCAPE '!'", { s: 'ab' })).toBe(false);
    // the escape character may be a quote itself: pattern %'' escaped by ' is % then a literal '
    expect(matches("s LIKE '%''''' ESCAPE ''''", { s: "x'" })).toBe(true);
    expect(matches("s LIKE '%''''' ESCAPE ''''", { s: 'x' })).toBe(false);
    expect(matches("s NOT LIKE 'a#_b' ESCAPE '#'", { s: 'axb' })).toBe(true);
    expect(matches("s like 'a#_b' escape '#'", { s: 'a_b' })).toBe(true);
  });

  it('is UNKNOWN for a missing header and FALSE for a non-string value', () => {
    expect(matches("s LIKE 'a%'")).toBe(false);
    expect(matches("s NOT LIKE 'a%'")).toBe(false);
    expect(matches("s LIKE '4%'", { s: 42 })).toBe(false);
    expect(matches("s NOT LIKE '4%'", { s: 42 })).toBe(true);
  });

  it('stays fast on patterns that make backtracking regex engines explode', () => {
    const value = 'a'.repeat(20_000);
    const selector = compileSelector(`s LIKE '${'%a'.repeat(40)}%b'`);
    const started = performance.now();
    expect(selector.matches(lookupOf({ s: value }))).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('keywords and identifiers', () => {
  it('reads keywords in any case', () => {
    expect(matches("a = 1 and b between 1 and 3 or c in ('x') AND NoT d like 'y%' ESCAPE '!' Or e is NOT null", { a: 1, b: 2, d: 'z' })).toBe(true);
    expect(matches('a Is Null')).toBe(true);
  });

  it('keeps identifiers case-sensitive', () => {
    expect(matches('A = 1', { a: 1 })).toBe(false);
    expect(matches('a = 1', { a: 1, A: 2 })).toBe(true);
    expect(matches('jmspriority > 4', { JMSPriority: 9 })).toBe(false);
  });

  it('matches keywords in ASCII only: non-ASCII look-alikes are identifiers', () => {
    expect(matches("ın = 'x'", { ın: 'x' })).toBe(true); // "ın".toUpperCase() is "IN"
    expect(errorOf('a ıs NULL').message).toContain('expected an operator, AND, OR or the end of the selector but found "ıs"');
  });

  it('accepts Java identifiers, with dots after the first character', () => {
    expect(matches('_x = 1 AND $y = 2 AND z9 = 3 AND order.type = 4 AND größe = 5', { _x: 1, $y: 2, z9: 3, 'order.type': 4, größe: 5 })).toBe(true);
  });

  it('accepts any whitespace between tokens, and none where unambiguous', () => {
    expect(matches("a\t=\n1\r\nAND\fb='x'", { a: 1, b: 'x' })).toBe(true);
    expect(matches('(a=1)AND(b<>2)', { a: 1, b: 1 })).toBe(true);
  });
});

describe('malformed selectors', () => {
  it('gives the code, the selector, the problem and the position', () => {
    const err = errorOf('a = ');
    expect(err.code).toBe('BROKER_BAD_SELECTOR');
    expect(err.name).toBe('SelectorError');
    expect(err.selector).toBe('a = ');
    expect(err.position).toBe(4);
    expect(err.message).toBe('invalid selector "a = ": expected a value after "=" at position 4');
  });

  it.each([
    ['a = )', 4, 'expected a value after "=" but found ")"'],
    ['= 1', 0, 'expected a value but found "="'],
    ['a = 1 b = 2', 6, 'expected an operator, AND, OR or the end of the selector but found "b"'],
    ['a = 1 AND', 9, 'expected a value after "AND"'],
    ['a = 1 or', 8, 'expected a value after "or"'],
    ['(a = 1', 6, 'expected ")" to close the "(" at position 0 but found the end of the selector'],
    ['a = 1)', 5, 'found ")"'],
    ['()', 1, 'expected a value after "(" but found ")"'],
    ['a = "x"', 4, 'string literals use single quotes'],
    ["a = 'x", 4, 'unterminated string literal'],
    ['a != 1', 2, 'use "<>"'],
    ['a == 1', 2, 'use "="'],
    ['a = 1 && b = 2', 6, 'use AND'],
    ['a = 1 || b = 2', 6, 'use OR'],
    ['a = 1 # b', 6, 'unexpected character "#"'],
    ['a = 1 = 2', 6, 'comparisons cannot be chained'],
    ['a < b < c', 6, 'comparisons cannot be chained'],
    ["a = 1 LIKE 'x'", 6, 'comparisons cannot be chained'],
    ['a IS NULL = TRUE', 10, 'comparisons cannot be chained'],
    ['a IS 5', 5, 'expected NULL after IS but found "5"'],
    ['a IS NOT', 8, 'expected NULL after IS NOT'],
    ['a NOT 5', 6, 'expected BETWEEN, IN or LIKE after NOT'],
    ['a BETWEEN 1', 11, 'expected AND after the lower bound of BETWEEN'],
    ['a BETWEEN 1 OR 2', 12, 'expected AND after the lower bound of BETWEEN but found "OR"'],
    ['a BETWEEN 1 AND', 15, 'expected a value after "AND"'],
    ["a IN 'x'", 5, 'expected "(" after IN'],
    ['a IN ()', 6, 'an IN list needs at least one value'],
    ["a IN ('x',)", 10, 'IN lists hold literals'],
    ["a IN ('x' 'y')", 10, 'expected "," or ")" in the IN list'],
    ["a IN ('x', b)", 11, 'IN lists hold literals (strings, numbers, TRUE, FALSE), but found "b"'],
    ["a IN ('x', NULL)", 11, 'NULL cannot be in an IN list'],
    ["a IN ('x'", 9, 'expected "," or ")" in the IN list but found the end of the selector'],
    ['a LIKE b', 7, 'expected a string pattern after LIKE'],
    ['a LIKE 5', 7, 'expected a string pattern after LIKE'],
    ["a LIKE 'x' ESCAPE 'ab'", 18, 'ESCAPE needs a string of exactly one character'],
    ["a LIKE 'x' ESCAPE ''", 18, 'ESCAPE needs a string of exactly one character'],
    ["a LIKE 'x' ESCAPE", 17, 'ESCAPE needs a string of exactly one character but found the end of the selector'],
    ["a LIKE 'x!' ESCAPE '!'", 7, 'the LIKE pattern ends with its escape character "!"'],
    ["5 LIKE 'x'", 0, 'LIKE needs a string on its left, but found a number'],
    ['a = NULL', 4, 'NULL can only be used in IS NULL or IS NOT NULL'],
    ['NULL IS NULL', 0, 'NULL can only be used in IS NULL or IS NOT NULL'],
    ["'x'", 0, 'the selector must be a condition (such as a = 1), but found a string'],
    ['a + 1', 0, 'the selector must be a condition (such as a = 1), but found a number'],
    ['42', 0, 'the selector must be a condition'],
    ['NOT 5', 4, 'NOT needs a condition, but found a number'],
    ["a = 1 AND 'x'", 10, 'AND needs conditions on both sides, but found a string'],
    ['1 OR a = 1', 0, 'OR needs conditions on both sides, but found a number'],
    ["a + 'x' = 1", 4, '"+" needs numbers, but found a string'],
    ['TRUE * 2 = 2', 0, '"*" needs numbers, but found a condition'],
    ["-'x' = 1", 1, '"-" needs numbers, but found a string'],
    ['(a = 1) + 1 = 2', 1, '"+" needs numbers, but found a condition'],
    ['a = 08', 4, 'malformed octal number "08"'],
    ['a = 0x', 4, 'malformed hex number "0x"'],
    ['a = 1e', 4, 'malformed number "1e"'],
    ['a = 1e+', 4, 'malformed number "1e+"'],
    ['a = 12abc', 4, 'malformed number "12abc"'],
    ['a = 1.2.3', 4, 'malformed number "1.2.3"'],
    ['a = 1.5L', 4, 'malformed number "1.5L"'],
    ['a = 1e999', 4, 'out of range for a double'],
    ['a = 9223372036854775808', 4, 'integer 9223372036854775808 is out of range for a 64-bit long'],
    ['a = -9223372036854775809', 4, 'integer -9223372036854775809 is out of range'],
    ['a = 0x8000000000000000', 4, 'out of range for a 64-bit long'],
    ['AND = 1', 0, 'expected a value but found "AND"'],
    ['a = in', 4, 'expected a value after "=" but found "in"'],
    ['a = -', 5, 'expected a value after "-"'],
    ['a LIKE', 6, 'expected a string pattern after LIKE but found the end of the selector'],
  ])('%j at %i: %s', (selector, position, problem) => {
    const err = errorOf(selector);
    expect(err.code).toBe('BROKER_BAD_SELECTOR');
    expect(err.position).toBe(position);
    expect(err.message).toContain(`invalid selector ${JSON.stringify(selector)}: `);
    expect(err.message).toContain(problem);
    expect(err.message).toContain(`at position ${position}`);
  });

  it('quotes control characters and long selectors safely in the message', () => {
    expect(errorOf('a = 1\n#').message).toContain('"a = 1\\n#"');
    const long = `a = 1 AND ${'b = 2 AND '.repeat(100)}`;
    const err = errorOf(long);
    expect(err.message).toContain('… (1010 characters)');
    expect(err.message.length).toBeLessThan(300);
  });
});

describe('limits against hostile selectors', () => {
  it('has named limits', () => {
    expect(SELECTOR_CHARS_MAX).toBe(4096);
    expect(SELECTOR_DEPTH_MAX).toBe(64);
  });

  it(`accepts ${SELECTOR_CHARS_MAX} characters and refuses one more`, () => {
    const base = "s = 'x'";
    const exact = base + ' '.repeat(SELECTOR_CHARS_MAX - base.length);
    expect(matches(exact, { s: 'x' })).toBe(true);
    const err = errorOf(`${exact} `);
    expect(err.position).toBe(SELECTOR_CHARS_MAX);
    expect(err.message).toContain(`the selector is ${SELECTOR_CHARS_MAX + 1} characters long, more than the ${SELECTOR_CHARS_MAX} allowed`);
  });

  it(`accepts ${SELECTOR_DEPTH_MAX} nested parentheses and refuses one more`, () => {
    const nest = (depth: number): string => `${'('.repeat(depth)}a = 1${')'.repeat(depth)}`;
    expect(matches(nest(SELECTOR_DEPTH_MAX), { a: 1 })).toBe(true);
    const err = errorOf(nest(SELECTOR_DEPTH_MAX + 1));
    expect(err.position).toBe(SELECTOR_DEPTH_MAX);
    expect(err.message).toContain(`nested more than ${SELECTOR_DEPTH_MAX} levels deep`);
  });

  it('refuses 10,000 levels of parentheses with a SelectorError, not a stack overflow', () => {
    const err = errorOf(`${'('.repeat(10_000)}a = 1${')'.repeat(10_000)}`);
    expect(err.code).toBe('BROKER_BAD_SELECTOR');
    expect(err.message).toContain('characters long');
  });

  it('refuses deep nesting that fits the length limit: parentheses, NOT chains, sign chains', () => {
    expect(errorOf(`${'('.repeat(2_000)}a${')'.repeat(2_000)}`).message).toContain('nested more than');
    expect(errorOf(`${'('.repeat(4_000)}`).message).toContain('nested more than');
    expect(errorOf(`${'NOT '.repeat(1_000)}a`).message).toContain('nested more than');
    expect(errorOf(`${'- '.repeat(2_000)}a = 1`).message).toContain('nested more than');
    expect(errorOf(`a = ${'-('.repeat(1_000)}1${')'.repeat(1_000)}`).message).toContain('nested more than');
    expect(matches(`${'NOT '.repeat(SELECTOR_DEPTH_MAX)}a = 1`, { a: 1 })).toBe(true);
  });

  it('compiles and evaluates the longest flat chains within the length limit', () => {
    const sum = `${'1 + '.repeat(1_020)}1 = 1021`;
    expect(sum.length).toBeLessThanOrEqual(SELECTOR_CHARS_MAX);
    expect(matches(sum)).toBe(true);
    const product = `n${'*n'.repeat(2_040)} = 1`;
    expect(product.length).toBeLessThanOrEqual(SELECTOR_CHARS_MAX);
    expect(matches(product, { n: '1' })).toBe(true);
    const ors = `${'a=1 OR '.repeat(580)}a=2`;
    expect(ors.length).toBeLessThanOrEqual(SELECTOR_CHARS_MAX);
    expect(matches(ors, { a: 2 })).toBe(true);
    const list = `a IN (${Array.from({ length: 600 }, (_, i) => `'${i}'`).join(',')})`;
    expect(list.length).toBeLessThanOrEqual(SELECTOR_CHARS_MAX);
    expect(matches(list, { a: '599' })).toBe(true);
    expect(matches(list, { a: '600' })).toBe(false);
  });

  it('survives arbitrary garbage with either a selector or a SelectorError', () => {
    const alphabet = ["a", "b", '1', '0x', '.', 'e', "'", '%', '_', '(', ')', '=', '<', '>', '+', '-', '*', '/', ',', ' ', 'AND', 'OR', 'NOT', 'IN', 'LIKE', 'ESCAPE', 'BETWEEN', 'IS', 'NULL', 'TRUE', '"', '!', '\\'];
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 3_000; round++) {
      let text = '';
      const length = 1 + random(20);
      for (let k = 0; k < length; k++) text += `${alphabet[random(alphabet.length)]} `;
      try {
        const selector = compileSelector(text);
        expect(typeof selector.matches(lookupOf({ a: '1', b: 'x' }))).toBe('boolean');
      } catch (err) {
        expect(err, text).toBeInstanceOf(SelectorError);
      }
    }
  });
});
