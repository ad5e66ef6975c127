/**
 * An operator acting on a process, and following it: `jipper watch <id>` (the live view, from any terminal),
 * `jipper cancel <id>` and `jipper decide <id> <step> <decision>`, each with `--wait` to follow the process to its
 * end. Ctrl-C while following detaches: the process goes on.
 */
import type { Command } from 'commander';
import { Argument } from 'commander';
import type { Decision, ProcessReport } from '../../shared/report';
import { cancelProcess, decide, getReport, isWaiting, pauseProcess, resumeProcess } from '../../client';
import { processId, reason, stepPath } from '../args';
import { EXIT_FAILED, UsageError } from '../errors';
import { EXIT_DETACHED, follow } from '../follow';
import { out, printJson } from '../io';
import { action, withClient } from '../context';

const DECISIONS: readonly Decision[] = ['retry', 'skip', 'mark-reverted'];

/** The exit code of a followed process: 0 when it ended as `wanted`, 1 otherwise. */
const endedAs = (report: ProcessReport, wanted: ProcessReport['status']) =>
  report.status === wanted ? undefined : EXIT_FAILED;

export function registerControl(program: Command): void {
  registerWatch(program);
  registerCancel(program);
  registerPause(program);
  registerResume(program);
  registerDecide(program);
}

/** `jipper watch`. */
function registerWatch(program: Command): void {
  program
    .command('watch')
    .description(
      'Follow a process from any terminal: the live view (a line per change when not a terminal), then its report; a process that already ended shows its report. Exit code 0 only when it succeeded; Ctrl-C stops watching (the process goes on).'
    )
    .argument('<id>', 'workflow id of the process', processId)
    .option('--json', 'print the report as one JSON object per line, each time it changes (the last one final)')
    .action(
      action(async (id: string, options: { json?: boolean }) =>
        withClient(async (client, config, server) => {
          const handle = client.workflow.getHandle(id);
          await handle.describe();
          const followed = await follow(client, handle, {
            json: options.json === true,
            taskQueue: config.taskQueue,
            webUi: { base: server.uiUrl, namespace: config.namespace },
          });
          return followed.detached ? EXIT_DETACHED : endedAs(followed.report, 'succeeded');
        })
      )
    );
}

/** `jipper cancel`. */
function registerCancel(program: Command): void {
  program
    .command('cancel')
    .description(
      'Cancel a process: forward progress stops and it unwinds as after a failure (reverts still run). A process waiting for a delayed start ends cancelled with nothing to unwind. With --wait, follow it to its end (exit code 0 when it ended cancelled).'
    )
    .argument('<id>', 'workflow id of the process', processId)
    .option('--wait', 'follow the process until it has unwound, then print its report')
    .option('--json', 'print { id, cancelRequested } (with --wait, also the final report) as JSON')
    .action(
      action(async (id: string, options: { wait?: boolean; json?: boolean }) =>
        withClient(async (client, config, server) => {
          const handle = client.workflow.getHandle(id);
          const description = await handle.describe();
          const { status } = description;
          if (status.name !== 'RUNNING') {
            const report = await getReport(client, id).catch(() => undefined);
            throw new UsageError(
              `${id} has already ended (${report?.status ?? status.name.toLowerCase()}); nothing to cancel`
            );
          }
          await cancelProcess(client, id);
          if (!options.json) {
            out(
              isWaiting(description)
                ? `cancellation requested: ${id} had not started; it ends cancelled, nothing to unwind`
                : `cancellation requested: ${id} stops and unwinds (jipper watch ${id})`
            );
          }
          if (!options.wait) return void (options.json && printJson({ id, cancelRequested: true }));
          const followed = await follow(client, handle, {
            quiet: options.json === true,
            taskQueue: config.taskQueue,
            webUi: { base: server.uiUrl, namespace: config.namespace },
          });
          if (followed.detached) return EXIT_DETACHED;
          if (options.json) printJson({ id, cancelRequested: true, report: followed.report });
          return endedAs(followed.report, 'cancelled');
        })
      )
    );
}

/** `jipper pause`. */
function registerPause(program: Command): void {
  program
    .command('pause')
    .description(
      'Pause a running process: no further step starts; the jobs already running settle, then its status is paused (jipper list --status paused). jipper resume goes on; jipper cancel unwinds it.'
    )
    .argument('<id>', 'workflow id of the process', processId)
    .option('--reason <text>', 'why, for the report and the Web UI', reason)
    .option('--json', 'print { id, pauseRequested, status } as JSON')
    .action(
      action(async (id: string, options: { reason?: string; json?: boolean }) =>
        withClient(async (client) => {
          await pauseProcess(client, id, options.reason);
          const report = await getReport(client, id);
          const running = report.jobs.filter((j) => j.status === 'running').map((j) => j.stepId);
          if (options.json) return printJson({ id, pauseRequested: true, status: report.status, settling: running });
          out(
            report.status === 'paused' || !running.length
              ? `${id} is paused: no further step starts (jipper resume ${id})`
              : `${id} pauses once ${running.join(', ')} settle${running.length === 1 ? 's' : ''}: no further step starts (jipper resume ${id})`
          );
        })
      )
    );
}

/** `jipper resume`. */
function registerResume(program: Command): void {
  program
    .command('resume')
    .description('Resume a paused process: its steps start again where it paused.')
    .argument('<id>', 'workflow id of the process', processId)
    .option('--json', 'print { id, resumed } as JSON')
    .action(
      action(async (id: string, options: { json?: boolean }) =>
        withClient(async (client) => {
          await resumeProcess(client, id);
          if (options.json) return printJson({ id, resumed: true });
          out(`${id} resumed (jipper watch ${id})`);
        })
      )
    );
}

/** `jipper decide`. */
function registerDecide(program: Command): void {
  program
    .command('decide')
    .description(
      'Settle a parked job: retry it (or its revert), skip it, or record that a person reverted it by hand (mark-reverted). With --wait, follow the process to its end (exit code 0 only when it succeeded).'
    )
    .argument('<id>', 'workflow id of the process', processId)
    .argument('<step>', 'step id of the parked job (in a child process: its path, db/grant)', stepPath)
    .addArgument(new Argument('<decision>', 'what to do').choices(DECISIONS))
    .option('--wait', 'follow the process until it ends, then print its report')
    .option('--json', 'print { id, stepId, decision, accepted } (with --wait, also the final report) as JSON')
    .action(
      action(async (id: string, step: string, decision: Decision, options: { wait?: boolean; json?: boolean }) =>
        withClient(async (client, config, server) => {
          const response = await decide(client, id, step, decision);
          const accepted = { id, stepId: response.stepId, decision: response.decision, accepted: true };
          if (!options.json) out(`${id}: ${decision} accepted for step ${step}`);
          if (!options.wait) return void (options.json && printJson(accepted));
          const handle = client.workflow.getHandle(id);
          const followed = await follow(client, handle, {
            quiet: options.json === true,
            taskQueue: config.taskQueue,
            webUi: { base: server.uiUrl, namespace: config.namespace },
          });
          if (followed.detached) return EXIT_DETACHED;
          if (options.json) printJson({ ...accepted, report: followed.report });
          return endedAs(followed.report, 'succeeded');
        })
      )
    );
}
