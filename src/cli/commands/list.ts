/** `jipper list`: recent process runs, filtered by status and process name (a visibility query). */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { isWaiting } from '../../client/report';
import { SCHEDULED_BY_ATTRIBUTE, SCHEDULED_BY_KEY } from '../../client/schedules';
import { scheduleIdSchema } from '../../schema/definition';
import { FINAL_PROCESS_STATUSES, LIVE_PROCESS_STATUSES } from '../../shared/report';
import { PROCESS_NAME_KEY, PROCESS_STATUS_KEY } from '../../shared/search-attributes';
import { paint } from '../report-table';
import { action, printJson, withClient } from '../context';

const STATUSES = [...LIVE_PROCESS_STATUSES, ...FINAL_PROCESS_STATUSES] as const;

/** A visibility query string literal: quotes and backslashes escaped. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The visibility query for the filters: every Jipper run, by status, process name and the schedule that started it. */
export function listQuery(filters: { status?: string; process?: string; schedule?: string }): string {
  const clauses = [`${PROCESS_NAME_KEY.name} IS NOT NULL`];
  if (filters.status !== undefined) clauses.push(`${PROCESS_STATUS_KEY.name} = ${quote(filters.status)}`);
  if (filters.process !== undefined) clauses.push(`${PROCESS_NAME_KEY.name} = ${quote(filters.process)}`);
  if (filters.schedule !== undefined) clauses.push(`${SCHEDULED_BY_ATTRIBUTE} = ${quote(filters.schedule)}`);
  return clauses.join(' AND ');
}

function parseWith<T>(schema: z.ZodType<T>): (value: string) => T {
  return (value) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid value');
    return parsed.data;
  };
}

const statusSchema = z.enum(STATUSES, { error: `expected one of ${STATUSES.join(', ')}` });
const limitSchema = z.coerce.number({ error: 'expected a number' }).int('expected a whole number').min(1).max(1000);
const processSchema = z.string().min(1, 'expected a process name');

export interface ListedRun {
  id: string;
  runId: string;
  process: string | undefined;
  status: string;
  startedAt: string;
  /** A delayed start that has not begun: when it begins. */
  startsAt?: string;
  closedAt: string | undefined;
  /** The schedule that started it, if one did. */
  schedule?: string;
}

function toRun(info: WorkflowExecutionInfo): ListedRun {
  const memoProcess = typeof info.memo?.process === 'string' ? info.memo.process : undefined;
  const waiting = isWaiting(info);
  const schedule = info.typedSearchAttributes.get(SCHEDULED_BY_KEY);
  return {
    id: info.workflowId,
    runId: info.runId,
    process: info.typedSearchAttributes.get(PROCESS_NAME_KEY) ?? memoProcess,
    status: info.typedSearchAttributes.get(PROCESS_STATUS_KEY) ?? info.status.name.toLowerCase(),
    startedAt: info.startTime.toISOString(),
    ...(waiting && info.executionTime ? { startsAt: info.executionTime.toISOString() } : {}),
    closedAt: info.closeTime?.toISOString(),
    ...(schedule !== undefined ? { schedule } : {}),
  };
}

const time = (iso: string | undefined) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');

export function registerList(program: Command): void {
  program
    .command('list')
    .description('Recent process runs, newest first: id, process, status, start and close time (UTC).')
    .option('--status <status>', `only runs with this status: ${STATUSES.join(', ')}`, parseWith(statusSchema))
    .option('--process <name>', 'only runs of this process (its definition name)', parseWith(processSchema))
    .option('--schedule <id>', 'only runs started by this schedule', parseWith(scheduleIdSchema))
    .option('--limit <n>', 'at most this many runs (default 20)', parseWith(limitSchema), 20)
    .option('--json', 'print the runs as JSON')
    .action(
      action(async (options: { status?: string; process?: string; schedule?: string; limit: number; json?: boolean }) =>
        withClient(async (client) => {
          const runs: ListedRun[] = [];
          const query = listQuery(options);
          for await (const info of client.workflow.list({ query, pageSize: Math.min(options.limit, 100) })) {
            runs.push(toRun(info));
            if (runs.length >= options.limit) break;
          }
          if (options.json) return printJson(runs);
          if (!runs.length) return void console.log('no runs found');
          const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
          const table = new Table({
            head: ['id', 'process', 'status', 'started (UTC)', 'closed (UTC)'],
            style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
          });
          for (const run of runs) {
            table.push([
              run.id,
              run.process ?? '',
              paint(run.startsAt ? `${run.status} till ${time(run.startsAt)}` : run.status, run.status, color),
              time(run.startedAt),
              time(run.closedAt),
            ]);
          }
          console.log(table.toString());
        })
      )
    );
}
