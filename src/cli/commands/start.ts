/** `jipper start <definition>`: validates and starts a process; with `--wait`, follows it live to its report. */
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Command } from 'commander';
import { startProcess } from '../../client';
import { processId } from '../args';
import { EXIT_FAILED } from '../errors';
import { EXIT_DETACHED, follow } from '../follow';
import { out, printJson } from '../io';
import { runLink } from '../links';
import { action, collectSet, parseSets, requireValidDefinition, withClient } from '../context';
import { SET_HELP } from './validate';

interface StartOptions {
  id?: string;
  set?: string[];
  wait?: boolean;
  json?: boolean;
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
    .option('--wait', 'follow the process until it ends, then print its report')
    .option('--json', 'print { workflowId, runId, webUi } (with --wait, also the final report) as JSON')
    .action(
      action(async (file: string, options: StartOptions) => {
        const params = parseSets(options.set ?? []);
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
            const started = { workflowId: handle.workflowId, runId, webUi: webUi ?? null };
            if (!options.json) {
              out(
                `started ${definition.name} as ${handle.workflowId}`,
                `  run id: ${runId}`,
                `  Web UI: ${webUi ?? '(unknown: set webUi in the config file, or --web-ui)'}`
              );
            }
            if (!options.wait) {
              if (options.json) printJson(started);
              return undefined;
            }
            const followed = await follow(client, handle, {
              quiet: options.json === true,
              taskQueue: config.taskQueue,
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
