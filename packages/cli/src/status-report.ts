/**
 * The broker's statistics answer (see commands/status.ts for how it is asked for) read and shown as
 * `activemq dstat` shows it: a header block about the broker, then one row per destination. Pure: JSON
 * text in, checked object and lines out. Keys this version does not know (the broker may add some, e.g.
 * "members" with replication) are kept for --json and left out of the table.
 */
import { CliError } from './errors.js';
import { formatBytes, formatUptime, table } from './display.js';
import type { BrokerStatistics as BrokerAnswer, DestinationStatistics } from '@mini-amq/broker';

/**
 * The statistics answer, in the broker's own type (packages/broker/src/statistics.ts), read defensively:
 * `role` is kept as any string and `duplicatesDropped` may be missing, so a newer or older broker's
 * answer still prints.
 */
export type BrokerStatistics = Omit<BrokerAnswer, 'role' | 'duplicatesDropped'> & { readonly role: string };
export type { DestinationStatistics };

/** The temporary queue `mini-amq status` itself asks on (its own, or another status run's): noise in the table. */
const STATUS_REPLY_QUEUE = /^\/(remote-)?temp-queue\/(.*:)?mini-amq-status$/;

const COUNTERS = ['pending', 'inflight', 'consumers', 'enqueued', 'dequeued', 'memoryBytes'] as const;

function bad(why: string): never {
  throw new CliError('CLI_BAD_ANSWER', `the broker's statistics answer is not what mini-amq status expects: ${why}`);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function portOrNull(value: unknown, key: string): number | null {
  if (value === null || value === undefined) return null;
  if (!isCount(value)) bad(`"${key}" must be a port number or null`);
  return value;
}

/** Checks the answer's body; the parsed object is returned whole (unknown keys included) for --json. */
export function readStatistics(body: string): BrokerStatistics & Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    bad(`not JSON (${(error as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('not a JSON object');
  const o = raw as Record<string, unknown>;
  if (typeof o.brokerName !== 'string') bad('"brokerName" must be a string');
  if (typeof o.role !== 'string') bad('"role" must be a string');
  if (o.group !== null && o.group !== undefined && typeof o.group !== 'string') bad('"group" must be a string or null');
  if (!isCount(o.uptimeMs)) bad('"uptimeMs" must be a non-negative integer');
  if (!isCount(o.connections)) bad('"connections" must be a non-negative integer');
  if (!Array.isArray(o.destinations)) bad('"destinations" must be an array');
  o.destinations.forEach((d: unknown, i) => {
    if (typeof d !== 'object' || d === null || typeof (d as { destination?: unknown }).destination !== 'string') {
      bad(`destinations[${i}] must be an object with a "destination" string`);
    }
    for (const key of COUNTERS) {
      if (!isCount((d as Record<string, unknown>)[key])) bad(`destinations[${i}].${key} must be a non-negative integer`);
    }
  });
  return {
    ...o,
    brokerName: o.brokerName,
    role: o.role,
    group: (o.group as string | null | undefined) ?? null,
    version: typeof o.version === 'string' ? o.version : 'unknown',
    uptimeMs: o.uptimeMs,
    connections: o.connections,
    stompPort: portOrNull(o.stompPort, 'stompPort'),
    wsPort: portOrNull(o.wsPort, 'wsPort'),
    destinations: o.destinations as DestinationStatistics[],
  };
}

/** The dstat-like listing: broker block, then destinations sorted by name (status's own reply queue left out). */
export function statusTable(s: BrokerStatistics & { readonly duplicatesDropped?: unknown }): string {
  const ports = [s.stompPort === null ? null : `STOMP ${s.stompPort}`, s.wsPort === null ? null : `WebSocket ${s.wsPort}`]
    .filter((p) => p !== null).join(', ') || 'none';
  const block = table(['Broker', s.brokerName], [
    ['Role', s.role],
    ['Group', s.group ?? 'none'],
    ['Version', s.version],
    ['Uptime', formatUptime(s.uptimeMs)],
    ['Connections', String(s.connections)],
    ['Ports', ports],
    // Not in the first version of the answer: shown when the broker reports it.
    ...(isCount(s.duplicatesDropped) ? [['Duplicates dropped', String(s.duplicatesDropped)]] : []),
  ]);
  const replication = replicationLines((s as { replication?: unknown }).replication);
  const network = networkLines((s as { network?: unknown }).network);
  const rows = s.destinations
    .filter((d) => !STATUS_REPLY_QUEUE.test(d.destination))
    .sort((a, b) => a.destination.localeCompare(b.destination))
    .map((d) => [d.destination, d.pending, d.inflight, d.consumers, d.enqueued, d.dequeued, formatBytes(d.memoryBytes)]);
  const destinations = rows.length === 0
    ? ['(no destinations yet)']
    : table(['Name', 'Queue Size', 'In Flight #', 'Consumer #', 'Enqueue #', 'Dequeue #', 'Memory'], rows, ['Memory']);
  return [...block, '', ...replication, ...network, ...destinations, ''].join('\n');
}

/**
 * A group member's replication report (packages/cli/src/group-start.ts puts it in the answer): its own
 * role and log position, then each slave's, read defensively since it is the broker's free-form field.
 */
function replicationLines(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const r = value as Record<string, unknown>;
  const position = r.position as { epoch?: unknown; index?: unknown } | undefined;
  const at = position !== undefined ? `(${String(position.epoch)},${String(position.index)})` : '?';
  const head = table(['Replication', String(r.node ?? '?')], [
    ['Role', `${String(r.role ?? '?')} of epoch ${String(r.epoch ?? '?')}`],
    ['Log position', `${at}, committed ${String(r.commitIndex ?? '?')}, applied ${String(r.applied ?? '?')}`],
    ['Members connected', String(r.members ?? '?')],
  ]);
  const slaves = Array.isArray(r.slaves) ? (r.slaves as Array<Record<string, unknown>>) : [];
  const rows = slaves.map((p) => [String(p.node), String(p.state), String(p.match), String(p.durable)]);
  const slaveTable = rows.length === 0 ? ['(no slave connected)'] : table(['Slave', 'State', 'Holds through', 'Fsynced through'], rows);
  return [...head, '', ...slaveTable, ''];
}

/** The broker's network bridges (packages/cli/src/network-start.ts puts them in the answer), one row each. */
function networkLines(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) return [];
  const rows = (value as Array<Record<string, unknown>>).map((b) => [
    String(b.connector ?? '?'), String(b.remote ?? '?'), `${String(b.state ?? '?')}${b.duplex === true ? ' (duplex)' : ''}`,
    String(b.remoteBroker ?? '-'), String(b.forwarded ?? 0), String(b.received ?? 0),
    Array.isArray(b.demand) ? (b.demand.length === 0 ? '-' : b.demand.join(' ')) : '-',
  ]);
  return [...table(['Bridge', 'Remote', 'State', 'Remote broker', 'Forwarded', 'Received', 'Demand'], rows), ''];
}
