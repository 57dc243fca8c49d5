/**
 * ActiveMQ's destination wildcards [ActiveMQ: Wildcards]: `.` separates the elements of a name, `*`
 * matches one element, `>` (the last element only) matches one or more. Wildcard topic subscriptions
 * (broker.ts) and wildcard statistics queries (statistics.ts) use them.
 *
 * Pure: no sockets, no clock. `WildcardIndex` holds the wildcard subscriptions of a broker and answers
 * "which of them take a message published to this concrete topic", remembering the answer per topic.
 */
import { BrokerError } from './errors.js';
import { formatDestination, type DestinationName } from './destination.js';

/** Wildcard topic subscriptions one broker holds; a topic not in the route cache is matched against each distinct pattern. */
export const WILDCARD_SUBSCRIPTIONS_MAX = 10_000;
/**
 * Concrete topics whose matching patterns are remembered. Past it the cache starts afresh: busy topics
 * come back at once, and a client publishing to endless new names costs one scan per publish, no memory.
 */
export const WILDCARD_ROUTES_CACHED_MAX = 10_000;

/** Whether a name uses ActiveMQ's destination wildcards. */
export function isWildcard(name: string): boolean {
  // Routing asks this of every message; most names hold neither character and skip the split.
  if (!name.includes('*') && !name.includes('>')) return false;
  return name.split('.').some((part) => part === '*' || part === '>');
}

/** [ActiveMQ: Wildcards] `.` separates elements, `*` matches one element, `>` (last) one or more. */
export function matchesWildcard(pattern: string, name: string): boolean {
  return matchesElements(pattern.split('.'), name.split('.'));
}

function matchesElements(want: readonly string[], have: readonly string[]): boolean {
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    // `>` needs at least one element: `prices.>` takes `prices.eur` but not `prices` itself.
    if (w === '>' && i === want.length - 1) return have.length > i;
    if (i >= have.length) return false;
    if (w !== '*' && w !== have[i]) return false;
  }
  return have.length === want.length;
}

/**
 * Refuses a subscription pattern ActiveMQ would read differently from what its writer meant: a `>`
 * before the last element (ActiveMQ's filter ignores what follows it).
 */
export function checkWildcardPattern(destinationText: string, pattern: string): void {
  const parts = pattern.split('.');
  if (parts.slice(0, -1).includes('>')) {
    throw new BrokerError('BROKER_BAD_DESTINATION', `${destinationText.slice(0, 256)}: ">" matches the rest of a name and must be its last element`);
  }
}

interface Pattern<S> {
  readonly elements: readonly string[];
  readonly subs: Set<S>;
}

/**
 * The wildcard subscriptions of one broker, grouped by pattern. The route cache holds, per concrete
 * topic, the sets of the patterns it matches; a set is shared with its pattern, so a subscription joining
 * or leaving a pattern that stays needs no invalidation, only a pattern appearing or going does.
 */
export class WildcardIndex<S> {
  private readonly patterns = new Map<string, Pattern<S>>();
  private readonly routes = new Map<string, ReadonlyArray<Set<S>>>();
  private count = 0;

  /** Subscriptions held (over all patterns). */
  get size(): number { return this.count; }

  add(pattern: string, sub: S): void {
    let p = this.patterns.get(pattern);
    if (p === undefined) {
      p = { elements: pattern.split('.'), subs: new Set() };
      this.patterns.set(pattern, p);
      this.routes.clear();
    }
    if (p.subs.has(sub)) return;
    p.subs.add(sub);
    this.count++;
  }

  delete(pattern: string, sub: S): void {
    const p = this.patterns.get(pattern);
    if (p === undefined || !p.subs.delete(sub)) return;
    this.count--;
    if (p.subs.size > 0) return;
    this.patterns.delete(pattern);
    this.routes.clear();
  }

  /** The subscription sets of every pattern that matches the concrete topic `name`. */
  matching(name: string): ReadonlyArray<Set<S>> {
    const cached = this.routes.get(name);
    if (cached !== undefined) return cached;
    const have = name.split('.');
    const out: Array<Set<S>> = [];
    for (const p of this.patterns.values()) if (matchesElements(p.elements, have)) out.push(p.subs);
    if (this.routes.size >= WILDCARD_ROUTES_CACHED_MAX) this.routes.clear();
    this.routes.set(name, out);
    return out;
  }

  /** Each pattern with its subscriptions (for statistics). */
  *entries(): IterableIterator<[string, ReadonlySet<S>]> {
    for (const [pattern, p] of this.patterns) yield [pattern, p.subs];
  }
}

/**
 * Refuses a wildcard where one concrete destination is needed (a SEND, a reply-to): ActiveMQ would
 * send to every matching destination that exists, which we do not, so the sender hears why at once.
 */
export function checkConcrete(d: DestinationName, what: string): void {
  if (!isWildcard(d.name)) return;
  throw new BrokerError('BROKER_BAD_DESTINATION', `cannot ${what} ${formatDestination(d).slice(0, 256)}: it names a wildcard (* or >), not one destination`);
}
