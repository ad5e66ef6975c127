/**
 * Replaying recorded histories (`jipper history <id> -o file.json`, kept as fixtures) against the current workflow
 * code: a change that running processes could not survive fails a test before it ships.
 *
 * @example
 * ```ts
 * test('recorded runs replay on the current code', async () => {
 *   await expectReplays('test/histories');
 * });
 * ```
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReplayFileResult, ReplayOptions } from '../worker/replay';
import { replayHistoryFiles } from '../worker/replay';

export type { ReplayFileResult, ReplayOptions };

/** History files named by `paths`: files as given, directories as their `.json` files, sorted. */
export async function historyFiles(paths: string | readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of typeof paths === 'string' ? [paths] : paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new Error(`${path}: no such file or directory`);
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const found = (await readdir(path)).filter((name) => name.endsWith('.json')).sort();
    if (!found.length) throw new Error(`${path}: no .json histories in this directory`);
    files.push(...found.map((name) => join(path, name)));
  }
  return files;
}

/** Replays every history of `paths` (files or directories); each file gets its result, none throws. */
export async function replayHistories(
  paths: string | readonly string[],
  options: ReplayOptions = {}
): Promise<ReplayFileResult[]> {
  return replayHistoryFiles(await historyFiles(paths), options);
}

/** Thrown by {@link expectReplays}: some history does not replay on the current code. */
export class ReplayMismatchError extends Error {
  override readonly name = 'ReplayMismatchError';
}

/** Replays every history of `paths` and throws {@link ReplayMismatchError}, naming each failure, unless all replay. */
export async function expectReplays(paths: string | readonly string[], options: ReplayOptions = {}): Promise<void> {
  const results = await replayHistories(paths, options);
  const failed = results.filter((result) => result.error !== undefined);
  if (failed.length) {
    throw new ReplayMismatchError(
      `${failed.length} of ${results.length} histories do not replay on the current workflow code:\n` +
        failed.map((result) => `  - ${result.file}: ${result.error}`).join('\n')
    );
  }
}
