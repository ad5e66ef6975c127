/**
 * Figures measured by the reliability tests (recovery times, kills survived, processes under load...), appended as
 * JSON lines to `.jipper/reliability-figures.jsonl` and echoed to stderr, for RELIABILITY.md.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const FIGURES_FILE = resolve(__dirname, '..', '..', '.jipper', 'reliability-figures.jsonl');

export function recordFigure(test: string, figures: Record<string, unknown>): void {
  mkdirSync(join(FIGURES_FILE, '..'), { recursive: true });
  const line = JSON.stringify({ at: new Date().toISOString(), test, ...figures });
  appendFileSync(FIGURES_FILE, line + '\n');
  process.stderr.write(`[figures] ${line}\n`);
}
