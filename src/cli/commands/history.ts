/**
 * `jipper history <id>`: exports a run's event history as JSON (what `Worker.runReplayHistory` takes).
 * `jipper replay <file|dir>...`: replays such histories against the current workflow code.
 */
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Command } from 'commander';
import { decodeHistory } from '../../codec/history';
import { loadConfig } from '../../config/config';
import { ConfigError } from '../../config/errors';
import { historyToJson } from '../history-json';
import { replayHistoryFiles } from '../replay';
import { EXIT_FAILED, UsageError } from '../errors';
import { action, withClient } from '../context';

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description("Export a run's event history as JSON, for `jipper replay` and Worker.runReplayHistory.")
    .argument('<id>', 'workflow id of the process')
    .option('--run-id <runId>', 'a specific run (default: the latest)')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option(
      '--decode',
      'decrypt every payload with the configured key ring (the export is then plaintext); by default an encrypted run is exported as stored, encrypted, and `jipper replay` decrypts it'
    )
    .action(
      action(async (id: string, options: { runId?: string; output?: string; decode?: boolean }) =>
        withClient(async (client, config) => {
          if (options.decode && !config.dataConverter?.payloadCodecs) {
            throw new ConfigError(
              '--decode needs a key ring: set JIPPER_ENCRYPTION_KEYS or JIPPER_ENCRYPTION_KEYS_FILE'
            );
          }
          const handle = client.workflow.getHandle(id, options.runId);
          await handle.describe();
          let history = await handle.fetchHistory();
          if (options.decode) history = await decodeHistory(history, config.dataConverter?.payloadCodecs ?? []);
          const json = `${historyToJson(history)}\n`;
          if (options.output === undefined) return void process.stdout.write(json);
          await writeFile(options.output, json);
          console.error(`wrote ${history.events?.length ?? 0} events of ${id} to ${options.output}`);
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
    .action(
      action(async (paths: string[], options: { bundle?: string }) => {
        const files = await historyFiles(paths);
        Runtime.install({ logger: new DefaultLogger('WARN') });
        const { dataConverter } = loadConfig();
        const results = await replayHistoryFiles(files, {
          ...(options.bundle === undefined ? {} : { bundlePath: options.bundle }),
          ...(dataConverter ? { dataConverter } : {}),
        });
        for (const result of results) {
          console.log(result.error ? `FAIL  ${result.file}: ${result.error}` : `ok    ${result.file}`);
        }
        const failed = results.filter((r) => r.error).length;
        console.log(`${results.length} histories replayed, ${failed} failed`);
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
