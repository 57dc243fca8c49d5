/**
 * The binary's pino logger: one JSON line per event on stdout, each carrying the broker name, its group
 * and its role, so the logs of several brokers on one machine can be merged and still be told apart
 * (ARCHITECTURE.md, Conventions). On a terminal the same events are pretty-printed instead.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './values.js';

/**
 * How the process runs: alone, or as a member of a replication group, whose master/slave role changes over
 * its life and so is logged per event (the `replication` field), not here.
 */
export type BrokerRole = 'standalone' | 'member';

export interface LoggerSettings {
  readonly brokerName: string;
  readonly group: string | null;
  readonly role: BrokerRole;
  readonly level: LogLevel;
  readonly pretty: boolean;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options = {
    level: settings.level,
    base: { pid: process.pid, brokerName: settings.brokerName, group: settings.group, role: settings.role },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // Synchronous writes in this thread: a line is out before the next statement runs, so nothing is lost
  // when the process exits right after its last line (a worker-thread transport could drop it), and a
  // parent process reading our stdout sees the "started" line as soon as it is logged.
  if (!settings.pretty) return pino(options, pino.destination({ dest: 1, sync: true }));
  // On a terminal there is one broker to read: its name leads each line, the other base fields are noise.
  // Colours follow the terminal and NO_COLOR (pino-pretty's default).
  return pino(options, pretty({
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,brokerName,group,role',
    messageFormat: '[{brokerName}] {msg}',
  }));
}

/** The listeners part of the "listening" log line: `STOMP on host:port, WebSocket on off`. */
export function listenersText(host: string, stompPort: number | null, wsPort: number | null): string {
  const at = (port: number | null) => (port === null ? 'off' : `${host}:${port}`);
  return `STOMP on ${at(stompPort)}, WebSocket on ${at(wsPort)}`;
}
