/**
 * `jipper start <definition>`: validates and starts a process; with `--wait`, follows it live to its report.
 * `--start-at` / `--start-in` delay its beginning (it is `waiting` till then); an `--id` already used is refused unless
 * `--rerun` is given and that run did not succeed.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { watchProcess } from '../../client/watch';
import { runLink } from '../links';
import { liveView } from '../live-view';
import { startProcess } from '../../client';
import { formatReport } from '../report-table';
import { EXIT_FAILED } from '../errors';
import { action, collectSet, parseSets, printJson, requireValidDefinition, withClient } from '../context';
import { SET_HELP } from './validate';
import { parseDuration, parseIsoTime } from '../time';
import { UsageError } from '../errors';
import { formatDuration } from '../../shared/text';

interface StartOptions {
  id?: string;
  set: string[];
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
      'Validate a definition file and start it as a process; print its id, run id and Web UI link. With --wait, show its progress live, then its report; the exit code is 0 only when it succeeded.'
    )
    .argument('<definition>', 'definition file (.json, .yaml, .yml)')
    .option('--id <id>', 'workflow id (default: <process name>-<uuid>)')
    .option('--set <key=value>', SET_HELP, collectSet, [])
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
        const params = parseSets(options.set);
        const { definition, registry } = await requireValidDefinition(file, params);
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
            if (!options.json) {
              console.log(`started ${definition.name} as ${handle.workflowId}`);
              if (startsAt) {
                console.log(
                  `  waiting to start at ${startsAt.toISOString()} (in ${formatDuration(startsAt.getTime() - Date.now())}); jipper cancel ${handle.workflowId} calls it off`
                );
              }
              console.log(`  run id: ${runId}`);
              console.log(`  Web UI: ${webUi ?? '(unknown: set webUi in the config file, or --web-ui)'}`);
            }
            const startsAtField = startsAt ? { startsAt: startsAt.toISOString() } : {};
            if (!options.wait) {
              if (options.json) printJson({ workflowId: handle.workflowId, runId, webUi, ...startsAtField });
              return undefined;
            }
            const view = options.json ? undefined : liveView(process.stdout);
            const report = await watchProcess(client, handle, {
              onReport: (r) => view?.update(r),
              onNoWorker: () =>
                process.stderr.write(
                  `jipper: no worker has picked up ${handle.workflowId} yet; is one running on task queue "${config.taskQueue}"? (jipper worker)\n`
                ),
            });
            if (options.json) printJson({ workflowId: handle.workflowId, runId, webUi, ...startsAtField, report });
            else console.log(`\n${formatReport(report)}`);
            return report.status === 'succeeded' ? undefined : EXIT_FAILED;
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
