/**
 * JMS message selectors (JMS 1.1 §3.8) as ActiveMQ applies them to STOMP subscriptions: the
 * `selector` header of SUBSCRIBE. A pure module: `compileSelector` turns the text into a matcher once
 * per subscription; `matches` then runs per message against a header lookup. Hand-written tokenizer,
 * recursive-descent parser (one function per precedence level) to a small AST, then the AST is
 * compiled to closures. No eval, no dependencies.
 *
 * Grammar, lowest precedence first:
 *
 *   or         := and (OR and)*
 *   and        := not (AND not)*
 *   not        := NOT not | predicate
 *   predicate  := sum [ (= | <> | < | > | <= | >=) sum
 *                     | [NOT] BETWEEN sum AND sum
 *                     | [NOT] IN ( literal (, literal)* )
 *                     | [NOT] LIKE 'pattern' [ESCAPE 'c']
 *                     | IS [NOT] NULL ]
 *   sum        := product ((+ | -) product)*
 *   product    := unary ((* | / | %) unary)*
 *   unary      := (+ | -) unary | primary
 *   primary    := ( or ) | identifier | 'string' | number | TRUE | FALSE
 *
 * Keywords are case-insensitive; identifiers are case-sensitive and are passed to the lookup as
 * written (the caller maps JMSPriority, JMSMessageID, JMSTimestamp, JMSCorrelationID, JMSType,
 * JMSDeliveryMode, JMSExpiration, JMSRedelivered to its own headers).
 *
 * Decisions, where the spec leaves room or ActiveMQ differs from it:
 * - Truth is three-valued (TRUE, FALSE, UNKNOWN). A missing header (lookup gives null/undefined) makes
 *   comparisons, arithmetic, BETWEEN, IN and LIKE on it UNKNOWN; NOT UNKNOWN is UNKNOWN; a message
 *   matches only when the whole selector is TRUE. IS [NOT] NULL is never UNKNOWN.
 * - STOMP headers are strings, and ActiveMQ parses STOMP selectors with `convert_string_expressions:`.
 *   So when a string meets a number (comparison, BETWEEN, IN) the string is converted if it is a
 *   plain decimal number (`7`, `-3`, `2.5`, `1e3`; no whitespace, hex or NaN): `priority > 5`
 *   matches the header "7". A string meeting TRUE/FALSE is converted if it is "true"/"false" (any
 *   case). Strings are converted in arithmetic too (`a + 1` with a = "2"); a string that is not a
 *   number makes the arithmetic UNKNOWN. Two strings always compare as strings ("10" < "9").
 * - Values of unlike types (after conversion) are not equal: `=` is FALSE and `<>` is TRUE (`<>` is
 *   NOT `=`, as in ActiveMQ), and the ordering operators are FALSE.
 * - Strings may be ordered with < > <= >= (lexicographic by UTF-16 code unit, as Java's compareTo
 *   and ActiveMQ); the spec allows only = and <> for strings. Booleans allow only = and <>: ordering
 *   them is FALSE.
 * - Exact numerics are 64-bit longs (bigint here): integer literals, and integral header numbers.
 *   Long arithmetic wraps as Java's does and `/` truncates (7 / 2 = 3); division or remainder by
 *   long zero is UNKNOWN. Anything with an approximate numeric (1.5, 1e3) is a double.
 *   Integer literals: decimal with optional L suffix, hex 0x1F, and — as in ActiveMQ — a leading 0
 *   means octal (010 = 8). `%` is the remainder operator (an ActiveMQ extension).
 * - LIKE: `%` is any run of characters, `_` exactly one character (a surrogate pair counts as one);
 *   everything else, regex metacharacters included, matches itself, case-sensitively. ESCAPE takes a
 *   one-character string; the escape character makes the next character literal. Matching does not
 *   use RegExp (a client-chosen pattern must not be able to cause catastrophic backtracking); it is
 *   O(pattern × value) at worst. LIKE on a non-string value (a number or boolean from the lookup) is
 *   FALSE and NOT LIKE TRUE.
 * - IN lists hold literals: strings (JMS), and also numbers and TRUE/FALSE; the left side of IN, LIKE,
 *   BETWEEN and IS NULL may be any expression, not only an identifier (a superset of JMS).
 * - Identifiers are Java identifiers, plus `.` after the first character (as ActiveMQ allows, e.g.
 *   `order.type`). Headers with `-` in their names cannot be named in a selector.
 * - A header used directly as a condition (`redelivered AND ...`) is TRUE for true/"true",
 *   FALSE for false/"false", otherwise UNKNOWN.
 * - Comparisons do not chain (`a = 1 = TRUE` is an error; parenthesise). NULL is accepted only in
 *   IS [NOT] NULL, because `a = NULL` is never TRUE. `!=`, `==`, `&&`, `||` and double-quoted strings
 *   are rejected with a hint. SQL comments are not supported.
 * - Static checks at compile time: the selector, and the operands of AND/OR/NOT, must be conditions
 *   (or identifiers), arithmetic needs numbers (or identifiers), LIKE needs a string (or identifier).
 * - A blank selector (empty or whitespace only) matches every message: ActiveMQ treats it as no
 *   selector.
 */

/**
 * Longest selector accepted, in UTF-16 code units. Real selectors are a few dozen to a few hundred
 * characters; the cap bounds compile time and the memory one subscription can pin, and (with
 * SELECTOR_DEPTH_MAX) the size of the tree evaluated for every message.
 */
export const SELECTOR_CHARS_MAX = 4096;

/**
 * Deepest nesting of parentheses, NOT and unary signs. The parser recurses a handful of frames per
 * level and the compiled matcher recurses per tree level, so this is what keeps hostile input such as
 * 4,000 `(` or `NOT NOT NOT ...` from overflowing the stack; 64 is far beyond hand-written selectors.
 * (Chains such as `a OR b OR ...` and `1 + 2 + ...` are held flat, so they do not count.)
 */
export const SELECTOR_DEPTH_MAX = 64;

/** How much of an offending selector an error message quotes. */
const QUOTE_CHARS_MAX = 120;

export type HeaderLookup = (name: string) => string | number | boolean | null | undefined;

export interface Selector {
  readonly text: string;
  /** True only when the selector evaluates to TRUE for this message (not FALSE, not UNKNOWN). */
  matches(lookup: HeaderLookup): boolean;
}

/** A selector that does not parse, or breaks a limit. `position` is a 0-based offset into `selector`. */
export class SelectorError extends Error {
  readonly code = 'BROKER_BAD_SELECTOR' as const;
  readonly selector: string;
  readonly position: number;
  constructor(selector: string, problem: string, position: number, hint?: string) {
    super(`invalid selector ${quote(selector)}: ${problem} at position ${position}${hint ? `; ${hint}` : ''}`);
    this.name = 'SelectorError';
    this.selector = selector;
    this.position = position;
  }
}

function quote(text: string): string {
  return text.length > QUOTE_CHARS_MAX
    ? `${JSON.stringify(text.slice(0, QUOTE_CHARS_MAX))}… (${text.length} characters)`
    : JSON.stringify(text);
}

// ---------------------------------------------------------------------------------------------
// Values

/** Runtime values: null is SQL NULL / UNKNOWN; bigint is an exact (long) number, number a double. */
type Value = string | number | bigint | boolean | null;
type Truth = boolean | null;
type Evaluate = (lookup: HeaderLookup) => Value;
type Test = (lookup: HeaderLookup) => Truth;

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN_MAGNITUDE = 1n << 63n;
/** Digits that always fit a long (19-digit numbers may not); longer strings are parsed as doubles. */
const LONG_SAFE_DIGITS = 18;
/** Digits that a double always holds exactly. */
const DOUBLE_EXACT_DIGITS = 15;

function fromHeader(v: unknown): Value {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isSafeInteger(v) ? BigInt(v) : v;
    case 'bigint':
      return BigInt.asIntN(64, v);
    default:
      return null;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** A header string as a number when it is plain decimal notation, else undefined. */
function stringToNumber(s: string): number | bigint | undefined {
  let i = 0;
  const n = s.length;
  if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++; // + -
  const intStart = i;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  const intDigits = i - intStart;
  let exact = true;
  let fracDigits = 0;
  if (i < n && s.charCodeAt(i) === 46) { // .
    exact = false;
    i++;
    const fracStart = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    fracDigits = i - fracStart;
  }
  if (intDigits + fracDigits === 0) return undefined;
  if (i < n && (s.charCodeAt(i) === 101 || s.charCodeAt(i) === 69)) { // e E
    exact = false;
    i++;
    if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++;
    const expStart = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === expStart) return undefined;
  }
  if (i !== n) return undefined;
  // BigInt(string) is slow; up to 15 digits a double holds the value exactly.
  if (exact && intDigits <= DOUBLE_EXACT_DIGITS) return BigInt(Number(s));
  if (exact && intDigits <= LONG_SAFE_DIGITS + 1) {
    const big = BigInt(s);
    if (big <= LONG_MAX && big >= -LONG_MIN_MAGNITUDE) return big;
  }
  return Number(s);
}

function stringToBoolean(s: string): boolean | undefined {
  if (s.length !== 4 && s.length !== 5) return undefined;
  const lower = s.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

function isNumber(v: Value): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Operand of arithmetic: numbers as they are, numeric strings converted, anything else null. */
function toNumber(v: Value): number | bigint | null {
  if (isNumber(v)) return v;
  if (typeof v === 'string') return stringToNumber(v) ?? null;
  return null;
}

/** A value used as a condition. */
function toTruth(v: Value): Truth {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return stringToBoolean(v) ?? null;
  return null;
}

type CompareOp = '=' | '<>' | '<' | '>' | '<=' | '>=';

function ordered(op: CompareOp, c: number): boolean {
  switch (op) {
    case '=': return c === 0;
    case '<>': return c !== 0;
    case '<': return c < 0;
    case '>': return c > 0;
    case '<=': return c <= 0;
    case '>=': return c >= 0;
  }
}

/** SQL comparison with ActiveMQ's STOMP string conversion; see the module comment. */
function compare(op: CompareOp, a: Value, b: Value): Truth {
  if (a === null || b === null) return null;
  // Convert a string facing a number or a boolean; a string that does not convert is an unlike type.
  if (typeof a === 'string' && typeof b !== 'string') {
    const converted = typeof b === 'boolean' ? stringToBoolean(a) : stringToNumber(a);
    if (converted === undefined) return op === '<>';
    a = converted;
  } else if (typeof b === 'string' && typeof a !== 'string') {
    const converted = typeof a === 'boolean' ? stringToBoolean(b) : stringToNumber(b);
    if (converted === undefined) return op === '<>';
    b = converted;
  }
  if (typeof a === 'bigint' && typeof b === 'bigint') return ordered(op, a < b ? -1 : a > b ? 1 : 0);
  if (isNumber(a) && isNumber(b)) {
    const x = Number(a);
    const y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return op === '<>';
    return ordered(op, x < y ? -1 : x > y ? 1 : 0);
  }
  if (typeof a === 'string' && typeof b === 'string') return ordered(op, a < b ? -1 : a > b ? 1 : 0);
  if (typeof a === 'boolean' && typeof b === 'boolean') {
    if (op === '=') return a === b;
    if (op === '<>') return a !== b;
    return false;
  }
  return op === '<>';
}

type ArithOp = '+' | '-' | '*' | '/' | '%';

function arithmetic(op: ArithOp, a: number | bigint, b: number | bigint): number | bigint | null {
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    switch (op) {
      case '+': return BigInt.asIntN(64, a + b);
      case '-': return BigInt.asIntN(64, a - b);
      case '*': return BigInt.asIntN(64, a * b);
      case '/': return b === 0n ? null : BigInt.asIntN(64, a / b);
      case '%': return b === 0n ? null : a % b;
    }
  }
  const x = Number(a);
  const y = Number(b);
  switch (op) {
    case '+': return x + y;
    case '-': return x - y;
    case '*': return x * y;
    case '/': return x / y;
    case '%': return x % y;
  }
}

function and3(a: Truth, b: Truth): Truth {
  if (a === false || b === false) return false;
  return a === null || b === null ? null : true;
}

function or3(a: Truth, b: Truth): Truth {
  if (a === true || b === true) return true;
  return a === null || b === null ? null : false;
}

// ---------------------------------------------------------------------------------------------
// LIKE

/** A compiled LIKE pattern: UTF-16 code units to match literally, or ANY (%) / ONE (_). */
const ANY = -1;
const ONE = -2;

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * Wildcard match that backtracks only to the latest `%`: O(pattern × value) at worst, linear in the
 * usual case, and no RegExp. Backtracking to the latest `%` suffices because a later `%` can absorb
 * anything an earlier one could.
 */
function likeMatches(pattern: readonly number[], s: string): boolean {
  const m = pattern.length;
  const n = s.length;
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < n) {
    const want = p < m ? pattern[p]! : undefined;
    if (want === ONE) {
      t += isHighSurrogate(s.charCodeAt(t)) && t + 1 < n && isLowSurrogate(s.charCodeAt(t + 1)) ? 2 : 1;
      p++;
    } else if (want === ANY) {
      starP = p++;
      starT = t;
    } else if (want !== undefined && want === s.charCodeAt(t)) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < m && pattern[p] === ANY) p++;
  return p === m;
}

// ---------------------------------------------------------------------------------------------
// Tokens

type TokenKind = 'identifier' | 'keyword' | 'string' | 'number' | 'punct' | 'end';

interface Token {
  readonly kind: TokenKind;
  /** Source text, as written. */
  readonly text: string;
  /** Keywords: the upper-cased word. */
  readonly word?: string;
  readonly pos: number;
  /** string: the unescaped text; number: bigint (exact) or number (approximate). */
  readonly value?: string | bigint | number;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'LIKE', 'ESCAPE', 'IS', 'NULL', 'TRUE', 'FALSE']);

const ASCII_WORD = /^[A-Za-z]+$/;

const PUNCT_TWO = new Set(['<>', '<=', '>=']);
const PUNCT_ONE = new Set(['=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',']);

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

const IDENTIFIER_START = /^[\p{L}\p{Nl}_$]$/u;
const IDENTIFIER_PART = /^[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_$.]$/u;

function isIdentifierStart(cp: number): boolean {
  if (cp < 128) return isAsciiLetter(cp) || cp === 95 || cp === 36;
  return IDENTIFIER_START.test(String.fromCodePoint(cp));
}

function isIdentifierPart(cp: number): boolean {
  if (cp < 128) return isAsciiLetter(cp) || isDigit(cp) || cp === 95 || cp === 36 || cp === 46;
  return IDENTIFIER_PART.test(String.fromCodePoint(cp));
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const n = src.length;
  let i = 0;
  const fail = (problem: string, pos: number, hint?: string): never => {
    throw new SelectorError(src, problem, pos, hint);
  };
  while (i < n) {
    const c = src.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    const cp = src.codePointAt(i)!;
    if (isIdentifierStart(cp)) {
      i += cp > 0xffff ? 2 : 1;
      while (i < n) {
        const part = src.codePointAt(i)!;
        if (!isIdentifierPart(part)) break;
        i += part > 0xffff ? 2 : 1;
      }
      const word = src.slice(start, i);
      // Keywords are ASCII: upper-casing e.g. Turkish "ın" must not make it IN.
      const upper = ASCII_WORD.test(word) ? word.toUpperCase() : '';
      tokens.push(KEYWORDS.has(upper) ? { kind: 'keyword', text: word, word: upper, pos: start } : { kind: 'identifier', text: word, pos: start });
      continue;
    }
    if (isDigit(c) || (c === 46 && i + 1 < n && isDigit(src.charCodeAt(i + 1)))) {
      tokens.push(readNumber(src, start, fail));
      i = start + tokens[tokens.length - 1]!.text.length;
      continue;
    }
    if (c === 39) { // '
      let value = '';
      let from = ++i;
      for (;;) {
        const q = src.indexOf("'", i);
        if (q < 0) fail('unterminated string literal', start, "close it with ' (write '' for a quote inside)");
        if (src.charCodeAt(q + 1) === 39) {
          value += src.slice(from, q + 1);
          i = from = q + 2;
          continue;
        }
        value += src.slice(from, q);
        i = q + 1;
        break;
      }
      tokens.push({ kind: 'string', text: src.slice(start, i), pos: start, value });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT_TWO.has(two)) {
      tokens.push({ kind: 'punct', text: two, pos: start });
      i += 2;
      continue;
    }
    if (two === '!=') fail('"!=" is not a selector operator', start, 'use "<>"');
    if (two === '==') fail('"==" is not a selector operator', start, 'use "="');
    if (two === '&&') fail('"&&" is not a selector operator', start, 'use AND');
    if (two === '||') fail('"||" is not a selector operator', start, 'use OR');
    const one = src[i]!;
    if (PUNCT_ONE.has(one)) {
      tokens.push({ kind: 'punct', text: one, pos: start });
      i++;
      continue;
    }
    if (one === '"') fail('unexpected character \'"\'', start, "string literals use single quotes, e.g. name = 'x'");
    fail(`unexpected character ${JSON.stringify(String.fromCodePoint(cp))}`, start);
  }
  tokens.push({ kind: 'end', text: '', pos: n });
  return tokens;
}

function readNumber(src: string, start: number, fail: (problem: string, pos: number) => never): Token {
  const n = src.length;
  let i = start;
  let value: bigint | number;
  const digitsFrom = (from: number, test: (c: number) => boolean): number => {
    let j = from;
    while (j < n && test(src.charCodeAt(j))) j++;
    return j;
  };
  const isOctalDigit = (c: number): boolean => c >= 48 && c <= 55;
  const first = src.charCodeAt(i);
  const second = src.charCodeAt(i + 1);
  if (first === 48 && (second === 120 || second === 88)) { // 0x
    const end = digitsFrom(i + 2, isHexDigit);
    if (end === i + 2) fail(`malformed hex number ${JSON.stringify(src.slice(start, end + 1))}`, start);
    value = BigInt(`0x${src.slice(i + 2, end)}`);
    i = end;
    if (src[i] === 'l' || src[i] === 'L') i++;
  } else {
    let end = digitsFrom(i, isDigit);
    let exact = true;
    if (src.charCodeAt(end) === 46) { // .
      exact = false;
      end = digitsFrom(end + 1, isDigit);
    }
    const e = src.charCodeAt(end);
    if (e === 101 || e === 69) { // e E
      let j = end + 1;
      if (src[j] === '+' || src[j] === '-') j++;
      const expEnd = digitsFrom(j, isDigit);
      if (expEnd === j) fail(`malformed number ${JSON.stringify(src.slice(start, expEnd + 1))}`, start);
      exact = false;
      end = expEnd;
    }
    const text = src.slice(start, end);
    if (exact) {
      if (text.length > 1 && first === 48) {
        const octalEnd = digitsFrom(start + 1, isOctalDigit);
        if (octalEnd !== end) {
          throw new SelectorError(src, `malformed octal number ${JSON.stringify(text)}`, start,
            'integers with a leading 0 are octal, as in ActiveMQ');
        }
        value = BigInt(`0o${text.slice(1)}`);
      } else {
        value = BigInt(text);
      }
      i = end;
      if (src[i] === 'l' || src[i] === 'L') i++;
    } else {
      value = Number(text);
      if (!Number.isFinite(value)) fail(`number ${text} is out of range for a double`, start);
      i = end;
    }
  }
  if (i < n) {
    const cp = src.codePointAt(i)!;
    if (isIdentifierPart(cp)) {
      let j = i;
      while (j < n && isIdentifierPart(src.codePointAt(j)!)) j += src.codePointAt(j)! > 0xffff ? 2 : 1;
      fail(`malformed number ${JSON.stringify(src.slice(start, j))}`, start);
    }
  }
  return { kind: 'number', text: src.slice(start, i), pos: start, value };
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

type Node =
  | { readonly t: 'literal'; readonly pos: number; readonly value: Exclude<Value, null> }
  | { readonly t: 'identifier'; readonly pos: number; readonly name: string }
  | { readonly t: 'negate' | 'plus'; readonly pos: number; readonly operand: Node }
  | { readonly t: 'arith'; readonly pos: number; readonly first: Node; readonly rest: readonly (readonly [ArithOp, Node])[] }
  | { readonly t: 'compare'; readonly pos: number; readonly op: CompareOp; readonly left: Node; readonly right: Node }
  | { readonly t: 'between'; readonly pos: number; readonly not: boolean; readonly operand: Node; readonly low: Node; readonly high: Node }
  | { readonly t: 'in'; readonly pos: number; readonly not: boolean; readonly operand: Node; readonly items: readonly Exclude<Value, null>[] }
  | { readonly t: 'like'; readonly pos: number; readonly not: boolean; readonly operand: Node; readonly pattern: readonly number[] }
  | { readonly t: 'isNull'; readonly pos: number; readonly not: boolean; readonly operand: Node }
  | { readonly t: 'and' | 'or'; readonly pos: number; readonly operands: readonly Node[] }
  | { readonly t: 'not'; readonly pos: number; readonly operand: Node };

/** What a node is known to produce before any header is seen; 'any' for identifiers. */
type StaticType = 'condition' | 'number' | 'string' | 'any';

function staticType(node: Node): StaticType {
  switch (node.t) {
    case 'literal':
      return typeof node.value === 'string' ? 'string' : typeof node.value === 'boolean' ? 'condition' : 'number';
    case 'identifier':
      return 'any';
    case 'negate':
    case 'plus':
    case 'arith':
      return 'number';
    default:
      return 'condition';
  }
}

const TYPE_NAMES: Record<StaticType, string> = { condition: 'a condition', number: 'a number', string: 'a string', any: 'a value' };

const COMPARE_OPS = new Set<string>(['=', '<>', '<', '>', '<=', '>=']);

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;
  private previous: Token | undefined;

  constructor(private readonly src: string) {
    this.tokens = tokenize(src);
  }

  parse(): Node {
    const root = this.parseOr();
    const next = this.peek();
    if (next.kind !== 'end') {
      this.fail(`expected an operator, AND, OR or the end of the selector but found ${describe(next)}`, next.pos);
    }
    this.requireCondition(root, 'the selector must be a condition (such as a = 1)');
    return root;
  }

  // --- token helpers

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    this.previous = token;
    return token;
  }

  private isKeyword(word: string, token = this.peek()): boolean {
    return token.kind === 'keyword' && token.word === word;
  }

  private isPunct(text: string, token = this.peek()): boolean {
    return token.kind === 'punct' && token.text === text;
  }

  private fail(problem: string, pos: number, hint?: string): never {
    throw new SelectorError(this.src, problem, pos, hint);
  }

  private enter(token: Token): void {
    if (++this.depth > SELECTOR_DEPTH_MAX) {
      this.fail(`parentheses, NOT and signs are nested more than ${SELECTOR_DEPTH_MAX} levels deep`, token.pos);
    }
  }

  private leave(): void {
    this.depth--;
  }

  private requireCondition(node: Node, what: string): void {
    const type = staticType(node);
    if (type === 'number' || type === 'string') this.fail(`${what}, but found ${TYPE_NAMES[type]}`, node.pos);
  }

  private requireNumber(node: Node, op: string): void {
    const type = staticType(node);
    if (type === 'condition' || type === 'string') this.fail(`"${op}" needs numbers, but found ${TYPE_NAMES[type]}`, node.pos);
  }

  // --- grammar

  private parseOr(): Node {
    return this.parseChain('OR', () => this.parseAnd());
  }

  private parseAnd(): Node {
    return this.parseChain('AND', () => this.parseNot());
  }

  private parseChain(word: 'AND' | 'OR', operand: () => Node): Node {
    const first = operand();
    if (!this.isKeyword(word)) return first;
    const operands = [first];
    while (this.isKeyword(word)) {
      this.next();
      operands.push(operand());
    }
    for (const node of operands) this.requireCondition(node, `${word} needs conditions on both sides`);
    return { t: word === 'AND' ? 'and' : 'or', pos: first.pos, operands };
  }

  private parseNot(): Node {
    if (!this.isKeyword('NOT')) return this.parsePredicate();
    const token = this.next();
    this.enter(token);
    const operand = this.parseNot();
    this.leave();
    this.requireCondition(operand, 'NOT needs a condition');
    return { t: 'not', pos: token.pos, operand };
  }

  private parsePredicate(): Node {
    const left = this.parseSum();
    const node = this.parsePredicateRest(left);
    if (node !== left) {
      const next = this.peek();
      if ((next.kind === 'punct' && COMPARE_OPS.has(next.text)) || ['IS', 'BETWEEN', 'IN', 'LIKE'].some((w) => this.isKeyword(w, next))
        || (this.isKeyword('NOT', next) && ['BETWEEN', 'IN', 'LIKE'].some((w) => this.isKeyword(w, this.peek(1))))) {
        this.fail(`comparisons cannot be chained, found ${describe(next)}`, next.pos, 'combine them with AND / OR, or use parentheses');
      }
    }
    return node;
  }

  private parsePredicateRest(left: Node): Node {
    const token = this.peek();
    if (token.kind === 'punct' && COMPARE_OPS.has(token.text)) {
      this.next();
      const right = this.parseSum();
      return { t: 'compare', pos: left.pos, op: token.text as CompareOp, left, right };
    }
    if (this.isKeyword('IS')) {
      this.next();
      const not = this.isKeyword('NOT');
      if (not) this.next();
      if (!this.isKeyword('NULL')) {
        this.fail(`expected NULL after ${not ? 'IS NOT' : 'IS'} but found ${describe(this.peek())}`, this.peek().pos);
      }
      this.next();
      return { t: 'isNull', pos: left.pos, not, operand: left };
    }
    let not = false;
    if (this.isKeyword('NOT')) {
      const after = this.peek(1);
      if (!['BETWEEN', 'IN', 'LIKE'].some((w) => this.isKeyword(w, after))) {
        this.fail(`expected BETWEEN, IN or LIKE after NOT but found ${describe(after)}`, after.pos);
      }
      this.next();
      not = true;
    }
    if (this.isKeyword('BETWEEN')) {
      this.next();
      const low = this.parseSum();
      if (!this.isKeyword('AND')) {
        this.fail(`expected AND after the lower bound of BETWEEN but found ${describe(this.peek())}`, this.peek().pos);
      }
      this.next();
      const high = this.parseSum();
      return { t: 'between', pos: left.pos, not, operand: left, low, high };
    }
    if (this.isKeyword('IN')) {
      this.next();
      return { t: 'in', pos: left.pos, not, operand: left, items: this.parseInList() };
    }
    if (this.isKeyword('LIKE')) {
      this.next();
      const type = staticType(left);
      if (type === 'number' || type === 'condition') this.fail(`LIKE needs a string on its left, but found ${TYPE_NAMES[type]}`, left.pos);
      return { t: 'like', pos: left.pos, not, operand: left, pattern: this.parseLikePattern() };
    }
    return left;
  }

  private parseInList(): Exclude<Value, null>[] {
    if (!this.isPunct('(')) this.fail(`expected "(" after IN but found ${describe(this.peek())}`, this.peek().pos);
    this.next();
    const items: Exclude<Value, null>[] = [];
    for (;;) {
      items.push(this.parseInItem());
      const token = this.next();
      if (this.isPunct(')', token)) return items;
      if (!this.isPunct(',', token)) this.fail(`expected "," or ")" in the IN list but found ${describe(token)}`, token.pos);
    }
  }

  private parseInItem(): Exclude<Value, null> {
    const token = this.peek();
    if (token.kind === 'string') {
      this.next();
      return token.value as string;
    }
    if (this.isKeyword('TRUE') || this.isKeyword('FALSE')) {
      this.next();
      return token.word === 'TRUE';
    }
    if (token.kind === 'number' || ((this.isPunct('-') || this.isPunct('+')) && this.peek(1).kind === 'number')) {
      const negative = this.isPunct('-');
      if (token.kind === 'punct') this.next();
      return this.numberLiteral(this.next(), negative).value;
    }
    if (this.isKeyword('NULL')) this.fail('NULL cannot be in an IN list', token.pos, 'test for a missing header with IS NULL');
    if (this.isPunct(')') && this.previous !== undefined && this.isPunct('(', this.previous)) this.fail('an IN list needs at least one value', token.pos);
    return this.fail(`IN lists hold literals (strings, numbers, TRUE, FALSE), but found ${describe(token)}`, token.pos);
  }

  private parseLikePattern(): number[] {
    const token = this.next();
    if (token.kind !== 'string') this.fail(`expected a string pattern after LIKE but found ${describe(token)}`, token.pos);
    let escape: number | undefined;
    if (this.isKeyword('ESCAPE')) {
      this.next();
      const esc = this.next();
      const text = esc.kind === 'string' ? (esc.value as string) : '';
      const cp = text.codePointAt(0);
      if (esc.kind !== 'string' || cp === undefined || String.fromCodePoint(cp).length !== text.length) {
        this.fail(`ESCAPE needs a string of exactly one character but found ${describe(esc)}`, esc.pos);
      }
      escape = cp;
    }
    const source = token.value as string;
    const pattern: number[] = [];
    const pushUnits = (cp: number): void => {
      const s = String.fromCodePoint(cp);
      for (let k = 0; k < s.length; k++) pattern.push(s.charCodeAt(k));
    };
    for (let k = 0; k < source.length;) {
      const cp = source.codePointAt(k)!;
      k += cp > 0xffff ? 2 : 1;
      if (cp === escape) {
        if (k >= source.length) {
          this.fail(`the LIKE pattern ends with its escape character ${JSON.stringify(String.fromCodePoint(cp))}`, token.pos,
            'the escape character makes the character after it literal');
        }
        const literal = source.codePointAt(k)!;
        k += literal > 0xffff ? 2 : 1;
        pushUnits(literal);
      } else if (cp === 37) { // %
        if (pattern[pattern.length - 1] !== ANY) pattern.push(ANY);
      } else if (cp === 95) { // _
        pattern.push(ONE);
      } else {
        pushUnits(cp);
      }
    }
    return pattern;
  }

  private parseSum(): Node {
    return this.parseArith(['+', '-'], () => this.parseProduct());
  }

  private parseProduct(): Node {
    return this.parseArith(['*', '/', '%'], () => this.parseUnary());
  }

  private parseArith(ops: readonly string[], operand: () => Node): Node {
    const first = operand();
    const rest: (readonly [ArithOp, Node])[] = [];
    while (this.peek().kind === 'punct' && ops.includes(this.peek().text)) {
      const op = this.next().text as ArithOp;
      const right = operand();
      if (rest.length === 0) this.requireNumber(first, op);
      this.requireNumber(right, op);
      rest.push([op, right]);
    }
    return rest.length === 0 ? first : { t: 'arith', pos: first.pos, first, rest };
  }

  private parseUnary(): Node {
    if (!this.isPunct('-') && !this.isPunct('+')) return this.parsePrimary();
    const sign = this.next();
    if (this.peek().kind === 'number') return this.numberLiteral(this.next(), sign.text === '-', sign.pos);
    this.enter(sign);
    const operand = this.parseUnary();
    this.leave();
    this.requireNumber(operand, sign.text);
    return { t: sign.text === '-' ? 'negate' : 'plus', pos: sign.pos, operand };
  }

  private numberLiteral(token: Token, negative: boolean, pos = token.pos): Node & { t: 'literal'; value: number | bigint } {
    const raw = token.value as number | bigint;
    if (typeof raw === 'bigint') {
      if (raw > (negative ? LONG_MIN_MAGNITUDE : LONG_MAX)) {
        this.fail(`integer ${negative ? '-' : ''}${token.text} is out of range for a 64-bit long`, pos);
      }
      return { t: 'literal', pos, value: negative ? -raw : raw };
    }
    return { t: 'literal', pos, value: negative ? -raw : raw };
  }

  private parsePrimary(): Node {
    const token = this.peek();
    switch (token.kind) {
      case 'identifier':
        this.next();
        return { t: 'identifier', pos: token.pos, name: token.text };
      case 'string':
        this.next();
        return { t: 'literal', pos: token.pos, value: token.value as string };
      case 'number':
        this.next();
        return this.numberLiteral(token, false);
      case 'keyword':
        if (token.word === 'TRUE' || token.word === 'FALSE') {
          this.next();
          return { t: 'literal', pos: token.pos, value: token.word === 'TRUE' };
        }
        if (token.word === 'NULL') {
          this.fail('NULL can only be used in IS NULL or IS NOT NULL', token.pos, 'a comparison with NULL is never true');
        }
        break;
      case 'punct':
        if (token.text === '(') {
          this.next();
          this.enter(token);
          const inner = this.parseOr();
          this.leave();
          const close = this.peek();
          if (!this.isPunct(')', close)) {
            this.fail(`expected ")" to close the "(" at position ${token.pos} but found ${describe(close)}`, close.pos);
          }
          this.next();
          return inner;
        }
        break;
      default:
        break;
    }
    const after = this.previous ? ` after ${describe(this.previous)}` : '';
    const found = token.kind === 'end' ? '' : ` but found ${describe(token)}`;
    if (!this.previous && token.kind === 'end') return this.fail('the selector is empty', token.pos);
    return this.fail(`expected a value${after}${found}`, token.pos);
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the selector';
    case 'string':
      return token.text.length > 40 ? `${token.text.slice(0, 40)}…` : token.text;
    default:
      return JSON.stringify(token.text);
  }
}

// ---------------------------------------------------------------------------------------------
// Compilation to closures

function compileValue(node: Node): Evaluate {
  switch (node.t) {
    case 'literal': {
      const value = node.value;
      return () => value;
    }
    case 'identifier': {
      const name = node.name;
      return (lookup) => fromHeader(lookup(name));
    }
    case 'negate': {
      const operand = compileValue(node.operand);
      return (lookup) => {
        const v = toNumber(operand(lookup));
        return v === null ? null : typeof v === 'bigint' ? BigInt.asIntN(64, -v) : -v;
      };
    }
    case 'plus': {
      const operand = compileValue(node.operand);
      return (lookup) => toNumber(operand(lookup));
    }
    case 'arith': {
      const first = compileValue(node.first);
      const ops = node.rest.map(([op]) => op);
      const operands = node.rest.map(([, operand]) => compileValue(operand));
      return (lookup) => {
        let acc = toNumber(first(lookup));
        for (let k = 0; k < ops.length && acc !== null; k++) {
          const right = toNumber(operands[k]!(lookup));
          acc = right === null ? null : arithmetic(ops[k]!, acc, right);
        }
        return acc;
      };
    }
    default:
      return compileTest(node);
  }
}

function compileTest(node: Node): Test {
  switch (node.t) {
    case 'compare': {
      const { op } = node;
      const left = compileValue(node.left);
      const right = compileValue(node.right);
      return (lookup) => compare(op, left(lookup), right(lookup));
    }
    case 'between': {
      const { not } = node;
      const operand = compileValue(node.operand);
      const low = compileValue(node.low);
      const high = compileValue(node.high);
      return (lookup) => {
        const v = operand(lookup);
        const lo = low(lookup);
        const hi = high(lookup);
        return not ? or3(compare('<', v, lo), compare('>', v, hi)) : and3(compare('>=', v, lo), compare('<=', v, hi));
      };
    }
    case 'in': {
      const { not, items } = node;
      const operand = compileValue(node.operand);
      const strings = new Set(items.filter((item): item is string => typeof item === 'string'));
      const others = items.filter((item) => typeof item !== 'string');
      return (lookup) => {
        const v = operand(lookup);
        if (v === null) return null;
        const found = typeof v === 'string'
          ? strings.has(v) || others.some((item) => compare('=', v, item) === true)
          : items.some((item) => compare('=', v, item) === true);
        return found !== not;
      };
    }
    case 'like': {
      const { not, pattern } = node;
      const operand = compileValue(node.operand);
      return (lookup) => {
        const v = operand(lookup);
        if (v === null) return null;
        if (typeof v !== 'string') return not;
        return likeMatches(pattern, v) !== not;
      };
    }
    case 'isNull': {
      const { not } = node;
      const operand = compileValue(node.operand);
      return (lookup) => (operand(lookup) === null) !== not;
    }
    case 'and': {
      const operands = node.operands.map(compileTest);
      return (lookup) => {
        let unknown = false;
        for (const operand of operands) {
          const v = operand(lookup);
          if (v === false) return false;
          if (v === null) unknown = true;
        }
        return unknown ? null : true;
      };
    }
    case 'or': {
      const operands = node.operands.map(compileTest);
      return (lookup) => {
        let unknown = false;
        for (const operand of operands) {
          const v = operand(lookup);
          if (v === true) return true;
          if (v === null) unknown = true;
        }
        return unknown ? null : false;
      };
    }
    case 'not': {
      const operand = compileTest(node.operand);
      return (lookup) => {
        const v = operand(lookup);
        return v === null ? null : !v;
      };
    }
    default: {
      const value = compileValue(node);
      return (lookup) => toTruth(value(lookup));
    }
  }
}

const MATCH_ALL: Test = () => true;

/**
 * Parse and compile a selector. Throws SelectorError (code BROKER_BAD_SELECTOR) naming the position
 * and the token that is wrong. A blank selector matches everything.
 */
export function compileSelector(text: string): Selector {
  if (text.length > SELECTOR_CHARS_MAX) {
    throw new SelectorError(text, `the selector is ${text.length} characters long, more than the ${SELECTOR_CHARS_MAX} allowed`, SELECTOR_CHARS_MAX);
  }
  const test = /^[ \t\r\n\f]*$/.test(text) ? MATCH_ALL : compileTest(new Parser(text).parse());
  return Object.freeze({ text, matches: (lookup: HeaderLookup): boolean => test(lookup) === true });
}
