/**
 * Checks for single setting values, shared by the config file, connector URIs and the flags, so the same
 * setting is judged the same way wherever it comes from. Each check returns the typed value or throws a
 * CliError naming the setting and what was given: `maximumConnections must be a positive integer, got "abc"`.
 * `where` is appended as the JSON path of the setting in a config file (` (at $.destinationPolicy…)`).
 */
import { constants as bufferConstants } from 'node:buffer';
import { CliError } from './errors.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** A STOMP frame is held in one Buffer, so no frame limit can exceed what a Buffer holds. */
export const FRAME_BYTES_LIMIT = bufferConstants.MAX_LENGTH;
/** TCP ports are 16-bit; 0 asks the OS for any free one. */
export const PORT_MAX = 65_535;
/** Longest value quoted back in an error message; a pasted blob should not flood the terminal. */
const ECHO_CHARS_MAX = 80;

/** A setting's user-facing name and, for config files, the JSON path it was found at. */
export interface Setting {
  readonly name: string;
  readonly where?: string;
}

/** How a given value is quoted back in an error: JSON, so strings show their quotes. */
export function describeValue(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value);
  return text.length > ECHO_CHARS_MAX ? `${text.slice(0, ECHO_CHARS_MAX)}…` : text;
}

/** Throws the CliError for a setting whose value is not what it must be. */
export function invalid(setting: Setting, mustBe: string, value: unknown): never {
  throw new CliError('CLI_CONFIG_INVALID', `${setting.name} must be ${mustBe}, got ${describeValue(value)}${at(setting)}`);
}

/** ` (at $.a.b)` when the setting came from a config file, '' for flags. */
export function at(setting: Setting): string {
  return setting.where === undefined ? '' : ` (at ${setting.where})`;
}

/** An integer as JSON gives it, or as text from a URI or a flag (digits only: "1e3" and " 7" are refused). */
function toInteger(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && /^\d+$/.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}

export function positiveInteger(value: unknown, setting: Setting): number {
  const n = toInteger(value);
  if (n === null || n < 1) invalid(setting, 'a positive integer', value);
  return n;
}

export function nonNegativeInteger(value: unknown, setting: Setting): number {
  const n = toInteger(value);
  if (n === null || n < 0) invalid(setting, 'a non-negative integer', value);
  return n;
}

export function port(value: unknown, setting: Setting): number {
  const n = toInteger(value);
  if (n === null || n < 0 || n > PORT_MAX) invalid(setting, `a port number (0-${PORT_MAX}, 0 = any free port)`, value);
  return n;
}

export function nonEmptyString(value: unknown, setting: Setting): string {
  if (typeof value !== 'string' || value.trim() === '') invalid(setting, 'a non-empty string', value);
  return value;
}

export function boolean(value: unknown, setting: Setting): boolean {
  if (typeof value !== 'boolean') invalid(setting, 'true or false', value);
  return value;
}

/** Unit suffixes ActiveMQ accepts in sizes such as memoryLimit="64 mb"; like ActiveMQ, they are powers of 1024. */
const SIZE_UNITS: Readonly<Record<string, number>> = Object.freeze({
  '': 1, b: 1, k: KiB, kb: KiB, m: MiB, mb: MiB, g: GiB, gb: GiB,
});

/**
 * A size in bytes: a number, or ActiveMQ's strings "64 mb", "100 kb", "1 gb", "512" (case and space free).
 * `max` bounds it where something physical does (a frame must fit in a Buffer).
 */
export function size(value: unknown, setting: Setting, max: number = Number.MAX_SAFE_INTEGER): number {
  const mustBe = 'a size in bytes (a positive integer, or a string such as "64 mb", "100 kb", "1 gb")';
  let bytes: number | null = null;
  if (typeof value === 'number') {
    bytes = Number.isSafeInteger(value) ? value : null;
  } else if (typeof value === 'string') {
    const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(value);
    const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
    if (match && unit !== undefined) bytes = Number(match[1]) * unit;
  }
  if (bytes === null || !Number.isSafeInteger(bytes) || bytes < 1) invalid(setting, mustBe, value);
  if (bytes > max) invalid(setting, `at most ${max} bytes`, value);
  return bytes;
}

/** Units ActiveMQ's durations take (zkSessionTimeout="2s"); a bare number is milliseconds. */
const DURATION_UNITS: Readonly<Record<string, number>> = Object.freeze({ '': 1, ms: 1, s: 1000 });

/** A positive duration in milliseconds: a number of ms, or a string such as "2s", "2000ms", "2000" (case and space free). */
export function durationMs(value: unknown, setting: Setting): number {
  let ms: number | null = null;
  if (typeof value === 'number') {
    ms = Number.isSafeInteger(value) ? value : null;
  } else if (typeof value === 'string') {
    const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(value);
    const unit = match ? DURATION_UNITS[match[2]!.toLowerCase()] : undefined;
    if (match && unit !== undefined) ms = Number(match[1]) * unit;
  }
  if (ms === null || !Number.isSafeInteger(ms) || ms < 1) {
    invalid(setting, 'a duration (a positive number of milliseconds, or a string such as "2s" or "2000ms")', value);
  }
  return ms;
}

/** Log levels pino knows, quietest last; `silent` turns logging off. */
export const LOG_LEVELS = Object.freeze(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const);
export type LogLevel = (typeof LOG_LEVELS)[number];

export function logLevel(value: unknown, setting: Setting): LogLevel {
  if (typeof value !== 'string' || !(LOG_LEVELS as readonly string[]).includes(value)) {
    invalid(setting, `one of ${LOG_LEVELS.join(', ')}`, value);
  }
  return value as LogLevel;
}
