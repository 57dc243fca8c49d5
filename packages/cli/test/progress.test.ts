/**
 * Goal: the progress bar shows counts, percentage and rate on one line that fits the terminal, appears
 * only on a terminal and only for runs long enough to need it, and leaves a clean line for the summary;
 * the display helpers write numbers as the summaries promise. Method: progressLine and the helpers are
 * pure; ProgressBar runs with fake timers, a fake clock and a recorded output.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatBytes, formatElapsed, formatUptime, preview, ratePerSecond, table } from '../src/display.js';
import { PROGRESS_DELAY_MS, PROGRESS_REDRAW_MS, ProgressBar, progressLine } from '../src/progress.js';

describe('progressLine', () => {
  it('with a total: bar, count, percentage, rate and elapsed time', () => {
    expect(progressLine({ verb: 'sent', done: 250, total: 500, elapsedMs: 500 }, 120))
      .toBe('[###############---------------] sent 250/500  50%  500 msgs/s  0.50 s');
  });

  it('without a total: the count and rate only', () => {
    expect(progressLine({ verb: 'received', done: 42, total: null, elapsedMs: 2000 }, 120)).toBe('received 42  21 msgs/s  2.00 s');
  });

  it('a narrow terminal drops the bar; nothing is ever wider than the terminal', () => {
    expect(progressLine({ verb: 'sent', done: 1, total: 4, elapsedMs: 1000 }, 50)).toBe('sent 1/4  25%  1 msgs/s  1.00 s');
    for (const columns of [5, 20, 40, 61, 80]) {
      expect(progressLine({ verb: 'sent', done: 123456, total: 999999, elapsedMs: 12345 }, columns).length).toBeLessThan(columns);
    }
  });

  it('more done than the total (redeliveries) stays at 100%', () => {
    expect(progressLine({ verb: 'received', done: 12, total: 10, elapsedMs: 1 }, 120)).toContain('100%');
  });
});

describe('ProgressBar', () => {
  afterEach(() => { vi.useRealTimers(); });

  function terminal(isTTY: boolean) {
    const writes: string[] = [];
    return { writes, output: { isTTY, columns: 100, write: (text: string) => { writes.push(text); } } };
  }

  it('on a terminal: nothing before PROGRESS_DELAY_MS, then redraws in place, and stop() clears the line', () => {
    vi.useFakeTimers();
    let now = 0;
    const { writes, output } = terminal(true);
    const bar = new ProgressBar(output, 'sent', 10, () => now);
    bar.update(3);
    now = PROGRESS_DELAY_MS - 1;
    vi.advanceTimersByTime(PROGRESS_REDRAW_MS);
    expect(writes).toEqual([]);
    now = PROGRESS_DELAY_MS + 500;
    vi.advanceTimersByTime(PROGRESS_REDRAW_MS);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^\r\x1b\[K\[.*\] sent 3\/10  30%/);
    bar.stop();
    expect(writes.at(-1)).toBe('\r\x1b[K');
    vi.advanceTimersByTime(10 * PROGRESS_REDRAW_MS);
    expect(writes).toHaveLength(2);
  });

  it('not a terminal: writes nothing at all', () => {
    vi.useFakeTimers();
    let now = 0;
    const { writes, output } = terminal(false);
    const bar = new ProgressBar(output, 'sent', 10, () => now);
    now = 60_000;
    bar.update(5);
    vi.advanceTimersByTime(60_000);
    bar.stop();
    expect(writes).toEqual([]);
  });

  it('a short run never drew, so stop() writes nothing either', () => {
    vi.useFakeTimers();
    const { writes, output } = terminal(true);
    new ProgressBar(output, 'sent', 10, () => 0).stop();
    expect(writes).toEqual([]);
  });
});

describe('display helpers', () => {
  it.each([[840, '0.84 s'], [12_340, '12.3 s'], [245_000, '4 min 05 s']])('formatElapsed(%d) = %s', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });

  it.each([[42_900, '42 s'], [187_000, '3 min 07 s'], [7_500_000, '2 h 05 min'], [273_600_000, '3 d 4 h']])('formatUptime(%d) = %s', (ms, text) => {
    expect(formatUptime(ms)).toBe(text);
  });

  it.each([[512, '512 B'], [1536, '1.5 KiB'], [64 * 1024 * 1024, '64.0 MiB'], [3 * 1024 ** 3, '3.0 GiB']])('formatBytes(%d) = %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it('ratePerSecond is whole messages per second, 0 when no time passed', () => {
    expect(ratePerSecond(500, 840)).toBe(595);
    expect(ratePerSecond(5, 0)).toBe(0);
  });

  it('preview keeps a body on one line and cuts it', () => {
    expect(preview('a\nb\tc', 10)).toBe('a\\nb\\tc');
    expect(preview('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('table right-aligns numbers and the columns asked for', () => {
    expect(table(['Name', 'N', 'Size'], [['/queue/a', 5, '1 B'], ['/queue/bb', 120, '10 KiB']], ['Size'])).toEqual([
      'Name         N    Size',
      '/queue/a     5     1 B',
      '/queue/bb  120  10 KiB',
    ]);
  });
});
