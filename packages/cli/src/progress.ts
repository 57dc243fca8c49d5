/**
 * The progress bar of long produce and consume runs. `progressLine` is pure (counts and elapsed time in,
 * one line out); `ProgressBar` is its shell: it redraws that line on stderr a few times a second, and only
 * when stderr is a terminal, so pipes, files and CI logs get nothing but the final summary.
 */
import { formatElapsed, ratePerSecond } from './display.js';

/** Redraws per second are capped: a terminal cannot show more, and each one costs a write. */
export const PROGRESS_REDRAW_MS = 100;
/** A run shorter than this never shows a bar, so quick commands print only their summary. */
export const PROGRESS_DELAY_MS = 500;
/** Width of the bar itself, in characters, when the terminal is wide enough. */
const BAR_CHARS_MAX = 30;
/** Narrower terminals get the numbers without a bar. */
const BAR_COLUMNS_MIN = 60;

/** What the bar shows: `done` of `total` (null when there is no end, e.g. consume --count 0). */
export interface ProgressState {
  readonly verb: string;
  readonly done: number;
  readonly total: number | null;
  readonly elapsedMs: number;
}

/** One line, at most `columns` wide: `[#####-----]  250/500  50%  1234 msgs/s  0.20 s`. */
export function progressLine(state: ProgressState, columns: number): string {
  const rate = `${ratePerSecond(state.done, state.elapsedMs)} msgs/s`;
  const elapsed = formatElapsed(state.elapsedMs);
  if (state.total === null) return fit(`${state.verb} ${state.done}  ${rate}  ${elapsed}`, columns);
  const fraction = state.total === 0 ? 1 : Math.min(1, state.done / state.total);
  const numbers = `${state.verb} ${state.done}/${state.total}  ${Math.floor(fraction * 100)}%  ${rate}  ${elapsed}`;
  if (columns < BAR_COLUMNS_MIN) return fit(numbers, columns);
  const filled = Math.floor(fraction * BAR_CHARS_MAX);
  return fit(`[${'#'.repeat(filled)}${'-'.repeat(BAR_CHARS_MAX - filled)}] ${numbers}`, columns);
}

/** A line longer than the terminal would wrap, and `\r` could then no longer redraw it in place. */
function fit(line: string, columns: number): string {
  return line.length < columns ? line : line.slice(0, Math.max(0, columns - 1));
}

/** Where the bar is drawn: stderr in the binary. */
export interface ProgressOutput {
  readonly isTTY: boolean;
  readonly columns: number;
  write(text: string): void;
}

/** ANSI "erase to end of line", after the carriage return that moves back to the start of the line. */
const CLEAR_LINE = '\r\x1b[K';

/** Draws `progressLine` on a terminal until `stop`; does nothing when the output is not a terminal. */
export class ProgressBar {
  private done = 0;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  constructor(
    private readonly output: ProgressOutput,
    private readonly verb: string,
    private readonly total: number | null,
    private readonly now: () => number,
    private readonly startedAt: number = now(),
  ) {
    if (!output.isTTY) return;
    this.timer = setInterval(() => this.draw(), PROGRESS_REDRAW_MS);
    this.timer.unref(); // the bar must never be what keeps the process alive
  }

  /** Records progress; drawing happens on the timer, so this is cheap enough to call per message. */
  update(done: number): void {
    this.done = done;
  }

  /** Removes the bar so the summary line that follows starts on a clean line. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn) this.output.write(CLEAR_LINE);
    this.drawn = false;
  }

  private draw(): void {
    const elapsedMs = this.now() - this.startedAt;
    if (elapsedMs < PROGRESS_DELAY_MS) return;
    const line = progressLine({ verb: this.verb, done: this.done, total: this.total, elapsedMs }, this.output.columns);
    this.output.write(CLEAR_LINE + line);
    this.drawn = true;
  }
}
