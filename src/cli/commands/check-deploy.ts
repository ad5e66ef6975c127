/**
 * `jipper check --deploy`: the histories of the processes in flight — every running, paused or parked process on the
 * task queue (a visibility query), or exported files (`--history`) — replayed against the workflow bundle and job
 * libraries about to be deployed (`src/worker/deploy-check.ts`). Exit code 1 when any run would break.
 */
import { readFile, stat } from 'node:fs/promises';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { PROCESS_NAME_KEY } from '../../shared/search-attributes';
import type { DeployRunResult, RunToCheck } from '../../worker/deploy-check';
import { checkDeployRuns } from '../../worker/deploy-check';
import { historyFromJson, historyToJson } from '../../worker/history-json';
import { historyWorkflowId } from '../../worker/replay';
import { loadRegistry } from '../../worker/libraries';
import { historyFiles } from '../../testing/replay';
import { oneLine } from '../../shared/text';
import { plural } from '../../shared/wording';
import { EXIT_FAILED, UsageError } from '../errors';
import { io, out, printJson } from '../io';
import { outputWidth, renderTable } from '../table';
import { cliConfig, requireValidDefinition, withClient } from '../context';
import { quote } from './list';

export interface DeployOptions {
  json?: boolean;
  history?: string[];
  query?: string;
  bundle?: string;
  definition?: string;
}

/** Exported histories: each file read and parsed, or a one-line UsageError naming the file. */
async function runsFromFiles(paths: readonly string[]): Promise<RunToCheck[]> {
  const files = await historyFiles(paths).catch((err: unknown) => {
    throw new UsageError(`--history ${oneLine(err)}`);
  });
  const runs: RunToCheck[] = [];
  for (const file of files) {
    try {
      runs.push({
        workflowId: historyWorkflowId(file),
        history: historyFromJson(JSON.parse(await readFile(file, 'utf8'))),
        source: file,
      });
    } catch (err) {
      throw new UsageError(`--history ${file}: not a history: ${oneLine(err)}`);
    }
  }
  return runs;
}

/** The default query: every open process on the task queue (running, paused, parked: all are Running executions). */
export function openProcessesQuery(taskQueue: string): string {
  return `${PROCESS_NAME_KEY.name} IS NOT NULL AND ExecutionStatus = 'Running' AND TaskQueue = ${quote(taskQueue)}`;
}

async function runsFromServer(client: Client, query: string): Promise<RunToCheck[]> {
  const runs: RunToCheck[] = [];
  try {
    for await (const info of client.workflow.list({ query })) {
      const history = await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
      // A round trip through the export format, so a run from the server is checked exactly as its exported file.
      runs.push({
        workflowId: info.workflowId,
        history: historyFromJson(JSON.parse(historyToJson(history))),
        source: 'server',
      });
    }
  } catch (err) {
    // The server refuses a malformed query as an invalid argument (gRPC code 3): the query is what is wrong.
    const cause = (err as Error & { cause?: { code?: number; details?: string } }).cause;
    if ((err as Error).name === 'ServiceError' && cause?.code === 3)
      throw new UsageError(`--query ${query}: ${cause.details ?? oneLine(err)}`);
    throw err;
  }
  if (!runs.length) throw new UsageError(`no open process matches the query: ${query}`);
  return runs;
}

const MARK = { ok: '✔ ok', changed: '△ changed', breaks: '✘ breaks' } as const;

function deployTable(results: readonly DeployRunResult[]): string {
  const rows = results.map((r) => [r.workflowId, r.process ?? '', MARK[r.verdict], r.reasons.join('\n')]);
  return renderTable({
    head: ['PROCESS ID', 'NAME', 'VERDICT', 'WHY'],
    rows,
    width: outputWidth(io().stdout),
    whole: [0],
  });
}

export async function checkDeploy(paths: readonly string[], options: DeployOptions): Promise<number | undefined> {
  if (paths.length)
    throw new UsageError('--deploy takes no definition paths (a revised definition goes in --definition)');
  if (options.history && options.query !== undefined) throw new UsageError('choose one of --history and --query');
  if (options.bundle !== undefined) {
    const info = await stat(options.bundle).catch(() => undefined);
    if (!info?.isFile()) throw new UsageError(`--bundle ${options.bundle}: no such file`);
  }
  const config = await cliConfig();
  const revised =
    options.definition !== undefined ? (await requireValidDefinition(options.definition, {})).definition : undefined;
  const registry = await loadRegistry(config);
  const runs = options.history
    ? await runsFromFiles(options.history)
    : await withClient((client) => runsFromServer(client, options.query ?? openProcessesQuery(config.taskQueue)));
  try {
    // A failing workflow task is what a breaking run does: the replay's own warnings about it are left out (the
    // verdicts say it), and errors go to stderr, so stdout holds only the verdicts.
    Runtime.install({
      logger: new DefaultLogger('ERROR', ({ level, message }) => process.stderr.write(`${level}: ${message}\n`)),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // Installed already (the command ran in this process before).
  }
  const results = await checkDeployRuns(runs, {
    registry,
    ...(options.bundle !== undefined ? { bundlePath: options.bundle } : {}),
    ...(config.dataConverter ? { dataConverter: config.dataConverter } : {}),
    ...(revised ? { revised } : {}),
  });
  const breaks = results.filter((r) => r.verdict === 'breaks').length;
  const changed = results.filter((r) => r.verdict === 'changed').length;
  if (options.json) printJson({ ok: breaks === 0, breaks, changed, runs: results });
  else {
    out(deployTable(results));
    out(`${plural(results.length, 'run')} checked: ${breaks} would break, ${changed} changed meaning`);
  }
  return breaks ? EXIT_FAILED : undefined;
}
