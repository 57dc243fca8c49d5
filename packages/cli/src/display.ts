/**
 * How the client commands write numbers and tables for people: durations, rates, byte sizes, a body
 * preview, and right-aligned columns. Pure functions; `--json` output never goes through them.
 */
import { GiB, KiB, MiB } from './values.js';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** A run's elapsed time: `0.84 s`, `12.3 s`, `4 min 05 s`. */
export function formatElapsed(ms: number): string {
  if (ms < 10 * SECOND_MS) return `${(ms / SECOND_MS).toFixed(2)} s`;
  if (ms < MINUTE_MS) return `${(ms / SECOND_MS).toFixed(1)} s`;
  const minutes = Math.floor(ms / MINUTE_MS);
  return `${minutes} min ${String(Math.floor((ms % MINUTE_MS) / SECOND_MS)).padStart(2, '0')} s`;
}

/** A broker's uptime: `42 s`, `3 min 07 s`, `2 h 05 min`, `3 d 4 h`. */
export function formatUptime(ms: number): string {
  if (ms < MINUTE_MS) return `${Math.floor(ms / SECOND_MS)} s`;
  if (ms < HOUR_MS) return formatElapsed(ms);
  if (ms < DAY_MS) return `${Math.floor(ms / HOUR_MS)} h ${String(Math.floor((ms % HOUR_MS) / MINUTE_MS)).padStart(2, '0')} min`;
  return `${Math.floor(ms / DAY_MS)} d ${Math.floor((ms % DAY_MS) / HOUR_MS)} h`;
}

/** Messages per second over `ms`, as a whole number; 0 when no time passed. */
export function ratePerSecond(count: number, ms: number): number {
  return ms <= 0 ? 0 : Math.round((count * SECOND_MS) / ms);
}

/** Bytes in binary units, as ActiveMQ's sizes are: `512 B`, `1.5 KiB`, `64.0 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < KiB) return `${bytes} B`;
  if (bytes < MiB) return `${(bytes / KiB).toFixed(1)} KiB`;
  if (bytes < GiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

/** The start of a body on one line: control characters escaped, cut at `chars` with an ellipsis. */
export function preview(text: string, chars: number): string {
  const oneLine = JSON.stringify(text).slice(1, -1);
  return oneLine.length > chars ? `${oneLine.slice(0, Math.max(0, chars - 1))}…` : oneLine;
}

/**
 * Columns of a table: the header row, then rows. Columns of numbers are right-aligned, as are those
 * `rightAligned` names (numbers already formatted, such as sizes); text is left-aligned.
 */
export function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>, rightAligned: readonly string[] = []): string[] {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const numeric = header.map((name, i) => rightAligned.includes(name) || (rows.length > 0 && rows.every((row) => typeof row[i] === 'number')));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells.map((row) => row
    .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
    .join('  ')
    .trimEnd());
}
