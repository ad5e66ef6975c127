/**
 * Colour, decided the way Node decides it: through `stream.hasColors()` on a terminal (which honours `NO_COLOR`,
 * `NODE_DISABLE_COLORS`, `FORCE_COLOR` and `TERM`), and on anything else (a pipe, a file) only when `FORCE_COLOR`
 * asks for it (`FORCE_COLOR=0` or `false` turns colour off). Text is styled with `util.styleText`.
 */
import { WriteStream } from 'node:tty';
import { styleText } from 'node:util';
import type { OutStream } from './io';

type Format = Parameters<typeof styleText>[0];

/**
 * Whether to colour what goes to `stream`. `FORCE_COLOR` wins over `NO_COLOR` when both are set (as Node has it; the
 * environment Node reads is given without `NO_COLOR` then, so it does not print a warning about it).
 */
export function colorsFor(stream: OutStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const read = { ...env };
  if (read.FORCE_COLOR !== undefined) delete read.NO_COLOR;
  if (stream.isTTY === true && typeof stream.hasColors === 'function') return stream.hasColors(16, read);
  if (read.FORCE_COLOR === undefined) return false;
  // Not a terminal: Node's own reading of FORCE_COLOR (`''`, `1`, `2`, `3`, `true` on; `0`, `false` off).
  return WriteStream.prototype.hasColors.call(WriteStream.prototype, 16, read);
}

/** `text` in `format` when `on`, else as it is. */
export function style(format: Format, text: string, on: boolean): string {
  return on && text ? styleText(format, text, { validateStream: false }) : text;
}

const STATUS_FORMATS: Record<string, Format> = {
  succeeded: 'green',
  reverted: 'cyan',
  running: 'yellow',
  reverting: 'yellow',
  unwinding: 'yellow',
  parked: 'magenta',
  paused: 'blue',
  pending: 'gray',
  waiting: 'gray',
  not_run: 'gray',
  skipped: 'gray',
  failed: 'red',
  revert_failed: 'red',
  cancelled: 'yellow',
  terminated: 'red',
  timed_out: 'red',
};

/** `text` in the colour of a process or job status. */
export function paint(text: string, status: string, on: boolean): string {
  const format = STATUS_FORMATS[status];
  return format ? style(format, text, on) : text;
}
