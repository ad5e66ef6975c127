/**
 * Small text and value helpers every room uses: one-line messages, clipping, durations, and the plain-object check.
 * Pure and sandbox-safe (workflow code may import them).
 */

/** Receives one human-readable progress line at a time (no trailing newline). */
export type LogLine = (line: string) => void;

/** An error's message on one line, for the one-line messages of Jipper's own errors. */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/** A plain object (not null, not an array): what JSON objects parse to. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `text` cut to `max` characters, with `…` when it was cut. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A duration for people: `850ms`, `4.2s`, `3m05s`, `2h07m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** The time between two ISO timestamps, formatted; `''` when either is missing. */
export function durationBetween(startedAt: string | undefined, endedAt: string | undefined): string {
  if (!startedAt || !endedAt) return '';
  return formatDuration(Date.parse(endedAt) - Date.parse(startedAt));
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A duration as a definition or the command line writes it: `<number><unit>`, unit `ms`, `s`, `m`, `h` or `d`. */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * A definition's duration in milliseconds: a number is milliseconds already; a string is `<number><unit>` with unit
 * `ms`, `s`, `m`, `h` or `d` (`500ms`, `30s`, `1.5h`). Throws on anything else (the schema rejects it first).
 */
export function durationToMs(duration: number | string): number {
  if (typeof duration === 'number') return duration;
  const match = DURATION_PATTERN.exec(duration);
  if (!match) throw new Error(`not a duration: "${duration}"`);
  return Number(match[1]) * (DURATION_UNITS_MS[match[2] as string] as number);
}

/** JSON with object keys sorted at every depth: two values that mean the same give the same text. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : isRecord(v)
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort(v[k])])
          )
        : v;
  return JSON.stringify(sort(value)) ?? 'undefined';
}
