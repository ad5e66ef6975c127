/** `jipper start <definition>`: validates and starts a process; with `--wait`, follows it live to its report. */
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Command } from 'commander';
import { watchProcess } from '../../client/watch';
import { runLink } from '../links';
import { liveView } from '../live-view';
import { startProcess } from '../../client';
import { formatReport } from '../report-table';
import { EXIT_FAILED } from '../errors';
import { action, collectSet, parseSets, printJson, requireValidDefinition, withClient } from '../context';
import { SET_HELP } from './validate';

interface StartOptions {
  id?: string;
  set: string[];
  wait?: boolean;
  json?: boolean;
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
    .option('--wait', 'follow the process until it ends, then print its report')
    .option('--json', 'print { workflowId, runId, webUi } (with --wait, also the final report) as JSON')
    .action(
      action(async (file: string, options: StartOptions) => {
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
            });
            const { firstExecutionRunId: runId } = handle as WorkflowHandleWithFirstExecutionRunId;
            const webUi = runLink(server.uiUrl, config.namespace, handle.workflowId, runId);
            if (!options.json) {
              console.log(`started ${definition.name} as ${handle.workflowId}`);
              console.log(`  run id: ${runId}`);
              console.log(`  Web UI: ${webUi ?? '(unknown: set webUi in the config file, or --web-ui)'}`);
            }
            if (!options.wait) {
              if (options.json) printJson({ workflowId: handle.workflowId, runId, webUi });
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
            if (options.json) printJson({ workflowId: handle.workflowId, runId, webUi, report });
            else console.log(`\n${formatReport(report)}`);
            return report.status === 'succeeded' ? undefined : EXIT_FAILED;
          },
          { startServer: true }
        );
      })
    );
}
