/**
 * `jipper start <definition>`: validates and starts a process; with `--wait`, follows it live to its report.
 * `--start-at` / `--start-in` delay its beginning (it is `waiting` till then); an `--id` already used is refused unless
 * `--rerun` is given and that run did not succeed.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { startProcess } from '../../client';
import { processId } from '../args';
import { EXIT_FAILED, UsageError } from '../errors';
import { EXIT_DETACHED, follow } from '../follow';
import { out, printJson } from '../io';
import { runLink, webUiLine } from '../links';
import { action, collectSet, parseSets, requireValidDefinition, setTexts, withClient } from '../context';
import { SET_HELP } from './validate';
import { parseDuration, parseIsoTime } from '../time';
import { formatDuration } from '../../shared/text';

interface StartOptions {
  id?: string;
  set?: string[];
  wait?: boolean;
  json?: boolean;
  rerun?: boolean;
  startAt?: Date;
  startIn?: string;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'Validate a definition file and start it as a process; print its id, run id and Web UI link. With --wait, show its progress live, then its report; the exit code is 0 only when it succeeded. Ctrl-C stops following (the process goes on; jipper watch <id> re-attaches).'
    )
    .argument('<definition>', 'definition file (.json, .yaml, .yml)')
    .option('--id <id>', 'workflow id (default: <process name>-<uuid>)', processId)
    .option('--set <key=value>', SET_HELP, collectSet)
    .option(
      '--rerun',
      'with --id of a run that ended without succeeding (reverted, failed, cancelled): start it again; a run that succeeded or is going on keeps its id'
    )
    .option(
      '--start-at <time>',
      'begin at this ISO time with its zone (2026-11-27T03:00:00Z); till then the process is waiting, and cancelling it unwinds nothing',
      parseIsoTime
    )
    .option('--start-in <duration>', 'begin after this long (30m, 2h, 1d); see --start-at', parseDuration)
    .option('--wait', 'follow the process until it ends, then print its report')
    .option('--json', 'print { workflowId, runId, webUi } (with --wait, also the final report) as JSON')
    .action(
      action(async (file: string, options: StartOptions) => {
        if (options.startAt && options.startIn) throw new UsageError('choose one of --start-at and --start-in');
        if (options.rerun && options.id === undefined) {
          throw new UsageError('--rerun reruns the process of an --id; give the id');
        }
        const sets = options.set ?? [];
        const { definition, registry, params } = await requireValidDefinition(file, parseSets(sets), setTexts(sets));
        return withClient(
          async (client, config, server) => {
            const handle = await startProcess(client, definition, {
              taskQueue: config.taskQueue,
              params,
              registry,
              source: file,
              ...(options.id !== undefined ? { id: options.id } : {}),
              ...(options.rerun ? { rerun: true } : {}),
              ...(options.startAt ? { startAt: options.startAt } : {}),
              ...(options.startIn ? { startDelay: options.startIn } : {}),
            });
            const { firstExecutionRunId: runId } = handle;
            const webUi = runLink(server.uiUrl, config.namespace, handle.workflowId, runId);
            const startsAt = options.startAt ?? (options.startIn ? await startTimeOf(handle) : undefined);
            const started = {
              workflowId: handle.workflowId,
              runId,
              webUi: webUi ?? null,
              ...(startsAt ? { startsAt: startsAt.toISOString() } : {}),
            };
            if (!options.json) {
              out(
                `started ${definition.name} as ${handle.workflowId}`,
                ...(startsAt
                  ? [
                      `  waiting to start at ${startsAt.toISOString()} (in ${formatDuration(startsAt.getTime() - Date.now())}); jipper cancel ${handle.workflowId} calls it off`,
                    ]
                  : []),
                `  run id: ${runId}`,
                `  ${webUiLine(webUi)}`
              );
            }
            if (!options.wait) {
              if (options.json) printJson(started);
              return undefined;
            }
            const followed = await follow(client, handle, {
              quiet: options.json === true,
              taskQueue: config.taskQueue,
              webUi: { base: server.uiUrl, namespace: config.namespace },
            });
            if (followed.detached) {
              if (options.json) printJson({ ...started, detached: true });
              return EXIT_DETACHED;
            }
            if (options.json) printJson({ ...started, report: followed.report });
            return followed.report.status === 'succeeded' ? undefined : EXIT_FAILED;
          },
          { startServer: true }
        );
      })
    );
}

/** When a delayed process begins, as the server set it (the start time plus the delay). */
async function startTimeOf(handle: WorkflowHandle): Promise<Date | undefined> {
  return (await handle.describe()).executionTime;
}
