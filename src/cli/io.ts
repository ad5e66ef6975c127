/**
 * Where the `jipper` command writes: data on stdout, messages on stderr. Commands write through {@link out} and
 * {@link err} rather than `console`, so the command can run in-process with other streams (tests fuzz it that way).
 * One command runs per process, so the streams are module state, set by `runCli`.
 */

/** What the command needs of an output stream: a terminal's width and colours when it is one. */
export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  hasColors?(count?: number, env?: NodeJS.ProcessEnv): boolean;
}

export interface CliIo {
  stdout: OutStream;
  stderr: OutStream;
}

let current: CliIo = { stdout: process.stdout, stderr: process.stderr };

export function io(): CliIo {
  return current;
}

/** Sets the streams the command writes to; returns the previous ones. */
export function setIo(next: CliIo): CliIo {
  const previous = current;
  current = next;
  return previous;
}

/** Writes lines to stdout. */
export function out(...lines: string[]): void {
  current.stdout.write(lines.map((line) => `${line}\n`).join(''));
}

/** Writes lines to stderr. */
export function err(...lines: string[]): void {
  current.stderr.write(lines.map((line) => `${line}\n`).join(''));
}

/** Prints a value as JSON on stdout. */
export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** Prints a value as one line of JSON on stdout (a stream of objects, one per line: `watch --json`). */
export function printJsonLine(value: unknown): void {
  out(JSON.stringify(value));
}
