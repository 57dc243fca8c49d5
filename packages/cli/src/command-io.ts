/**
 * What a client command needs from its surroundings: stdout for results, stderr for progress and notes,
 * a clock, and a signal that says "stop now" (SIGINT or SIGTERM in the binary). Tests pass their own, so a
 * command can run in-process against a fake broker.
 */
import type { ProgressOutput } from './progress.js';

export interface CommandIo {
  /** Results: the summary, the table, the JSON object, printed bodies. */
  out(text: string): void;
  /** Notes for a person: reconnects, progress. Never machine-readable output. */
  readonly err: ProgressOutput;
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Aborted when the user asks the command to stop (first SIGINT or SIGTERM). */
  readonly signal: AbortSignal;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** Columns assumed when stderr is a terminal that does not report its width. */
const DEFAULT_COLUMNS = 80;

/**
 * The binary's CommandIo. The first stop signal aborts `signal`, so the command can disconnect cleanly and
 * print what it did; the handlers are then removed, so a second signal kills the process at once.
 */
export function processIo(): { io: CommandIo; release(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    controller.abort();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  const stderr = process.stderr;
  const io: CommandIo = {
    out: (text) => process.stdout.write(text),
    err: {
      isTTY: stderr.isTTY === true,
      // 0 or undefined: a pseudo-terminal that does not report its size.
      get columns() { return stderr.columns || DEFAULT_COLUMNS; },
      write: (text) => stderr.write(text),
    },
    now: () => performance.now(),
    signal: controller.signal,
  };
  // Once the command is done, signals get their default meaning back.
  return { io, release: () => { for (const s of STOP_SIGNALS) process.off(s, onSignal); } };
}
