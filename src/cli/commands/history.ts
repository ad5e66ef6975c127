/**
 * `jipper history <id>`: exports a run's event history as JSON (what `Worker.runReplayHistory` takes).
 * `jipper replay <file|dir>...`: replays such histories against the current workflow code.
 */
import { open, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Command } from 'commander';
import { z } from 'zod';
import { decodeHistory } from '../../codec/history';
import { ConfigError } from '../../config/errors';
import { plural } from '../../shared/wording';
import { historyToJson } from '../../worker/history-json';
import { replayHistoryFiles } from '../../worker/replay';
import { parseWith, processId } from '../args';
import { err, out, printJson } from '../io';
import { EXIT_FAILED, UsageError } from '../errors';
import { action, cliConfig, withClient } from '../context';

const runId = parseWith(
  z.string().regex(/^[0-9a-f-]{36}$/i, 'a run id is a UUID such as 01a2183c-51ab-7203-82eb-984c0e725fe2')
);

/** Why a file could not be written, in the words an operator needs (exit code 2: the path given is wrong). */
function writeError(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOENT: 'its directory does not exist',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    EROFS: 'read-only file system',
  };
  return code && why[code] ? new UsageError(`-o ${path}: ${why[code]}`) : (error as Error);
}

/**
 * Writes plaintext (a decoded history) readable by its owner only: 0600 from the first byte, an existing file too
 * (its mode is narrowed before it is written).
 */
export async function writePrivate(path: string, text: string): Promise<void> {
  const file = await open(path, 'w', 0o600);
  try {
    if ((await file.stat()).isFile()) await file.chmod(0o600);
    await file.writeFile(text);
  } finally {
    await file.close();
  }
}

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description("Export a run's event history as JSON, for `jipper replay` and Worker.runReplayHistory.")
    .argument('<id>', 'workflow id of the process', processId)
    .option('--run-id <runId>', 'a specific run (default: the latest)', runId)
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--json', 'with -o: print { id, runId, events, file } as JSON (the history itself is always JSON)')
    .option(
      '--decode',
      'decrypt every payload with the configured key ring (the export is then plaintext); by default an encrypted run is exported as stored, encrypted, and `jipper replay` decrypts it'
    )
    .action(
      action(async (id: string, options: { runId?: string; output?: string; json?: boolean; decode?: boolean }) =>
        withClient(async (client, config) => {
          if (options.decode && !config.dataConverter?.payloadCodecs) {
            throw new ConfigError(
              '--decode needs a key ring: set JIPPER_ENCRYPTION_KEYS or JIPPER_ENCRYPTION_KEYS_FILE'
            );
          }
          const handle = client.workflow.getHandle(id, options.runId);
          const description = await handle.describe();
          let history = await handle.fetchHistory();
          if (options.decode) history = await decodeHistory(history, config.dataConverter?.payloadCodecs ?? []);
          const json = `${historyToJson(history)}\n`;
          if (options.output === undefined) return void out(json.trimEnd());
          const write = options.decode ? writePrivate : writeFile;
          await write(options.output, json).catch((error: unknown) => {
            throw writeError(options.output as string, error);
          });
          const events = history.events?.length ?? 0;
          if (options.json) printJson({ id, runId: description.runId, events, file: options.output });
          else err(`wrote ${plural(events, 'event')} of ${id} to ${options.output}`);
        })
      )
    );

  program
    .command('replay')
    .description(
      'Replay exported histories (files, or directories of .json files) against the current workflow code; a history the code no longer reproduces is a determinism violation. Encrypted histories are decrypted with the configured key ring. Exit code 1 on any failure.'
    )
    .argument('<paths...>', 'history files or directories')
    .option('--bundle <file>', 'a workflow bundle to replay against (default: dist/workflow-bundle.js when built)')
    .option('--json', 'print [{ file, ok, error }] as JSON')
    .action(
      action(async (paths: string[], options: { bundle?: string; json?: boolean }) => {
        const files = await historyFiles(paths);
        if (options.bundle !== undefined) {
          const info = await stat(options.bundle).catch(() => undefined);
          if (!info?.isFile()) throw new UsageError(`--bundle ${options.bundle}: no such file`);
        }
        Runtime.install({ logger: new DefaultLogger('WARN') });
        const { dataConverter } = await cliConfig();
        const results = await replayHistoryFiles(files, {
          ...(options.bundle === undefined ? {} : { bundlePath: options.bundle }),
          ...(dataConverter ? { dataConverter } : {}),
        });
        const failed = results.filter((r) => r.error).length;
        if (options.json) {
          printJson(results.map((r) => ({ file: r.file, ok: !r.error, ...(r.error ? { error: r.error } : {}) })));
        } else {
          for (const result of results) {
            out(result.error ? `FAIL  ${result.file}: ${result.error}` : `ok    ${result.file}`);
          }
          out(`${plural(results.length, 'history', 'histories')} replayed, ${failed} failed`);
        }
        return failed ? EXIT_FAILED : undefined;
      })
    );
}

/** The history files named: files as given, directories as their `.json` files, sorted. */
async function historyFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`${path}: no such file or directory`);
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const found = (await readdir(path)).filter((name) => name.endsWith('.json')).sort();
    if (!found.length) throw new UsageError(`${path}: no .json histories in this directory`);
    files.push(...found.map((name) => join(path, name)));
  }
  return files;
}
