/**
 * Which destinations a connector may forward [ActiveMQ: excludedDestinations, dynamicallyIncludedDestinations]:
 * an excluded pattern always wins; when included patterns are given, only what one of them matches is
 * forwarded on demand. Patterns are STOMP destinations with ActiveMQ's wildcards (`.` separates
 * elements, `*` matches one, `>` the rest). Pure.
 */
import { matchesWildcard } from '@mini-amq/broker';

/** Whether the STOMP destination `destination` is matched by `pattern` (same kind, wildcards in the name). */
export function matchesDestination(pattern: string, destination: string): boolean {
  const p = split(pattern);
  const d = split(destination);
  if (p === null || d === null || p.kind !== d.kind) return false;
  return matchesWildcard(p.name, d.name);
}

function split(text: string): { kind: string; name: string } | null {
  const m = /^\/(queue|topic)\/(.+)$/.exec(text);
  return m === null ? null : { kind: m[1] as string, name: m[2] as string };
}

/** A connector's exclusions and dynamic inclusions. */
export class DestinationFilter {
  constructor(
    private readonly excluded: readonly string[],
    private readonly dynamicallyIncluded: readonly string[],
  ) {}

  /** Whether demand for `destination` is forwarded. */
  allowsDynamic(destination: string): boolean {
    if (this.isExcluded(destination)) return false;
    return this.dynamicallyIncluded.length === 0 || this.dynamicallyIncluded.some((p) => matchesDestination(p, destination));
  }

  /** [ActiveMQ] excluded destinations take priority over included ones, static ones too. */
  isExcluded(destination: string): boolean {
    return this.excluded.some((p) => matchesDestination(p, destination));
  }
}
