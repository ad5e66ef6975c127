/**
 * `jipper schedule ...`: processes that run by themselves, on Temporal Schedules. `create` makes one from a definition
 * and flags, `apply` creates or updates one from a definition's `schedule:` block (idempotent), `list` and `describe`
 * read them (next runs; recent runs with their Jipper status), `pause` / `unpause` with a note, `trigger` starts a run
 * now, `backfill` takes the runs of a past range, `delete` removes one (its runs so far are kept). Every run is an
 * ordinary process, `<schedule id>-<scheduled time>`: `jipper status`, `report`, `cancel` and `list --schedule` work
 * on it.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { ScheduleInfo } from '../../client/schedules';
import {
  applySchedule,
  backfillSchedule,
  createSchedule,
  describeSchedule,
  listSchedules,
  triggerSchedule,
} from '../../client/schedules';
import type { OverlapPolicy, ScheduleSpecInput } from '../../schema/definition';
import {
  cronSchema,
  overlapSchema,
  scheduleIdSchema,
  timeZoneSchema,
  everySchema,
  OVERLAP_POLICIES,
} from '../../schema/definition';
import { compactDuration } from '../../client/schedule-spec';
import { isRecord } from '../../shared/text';
import { loadDefinitionSource } from '../../client/definition-file';
import { EXIT_FAILED, UsageError } from '../errors';
import { err, io, out } from '../io';
import { colorsFor, paint, style } from '../style';
import { outputWidth, renderTable } from '../table';
import {
  action,
  cliConfig,
  collectSet,
  parseSets,
  printJson,
  requireValidDefinition,
  setTexts,
  withClient,
} from '../context';
import { parseDuration, parseIsoTime } from '../time';
import { parseWith } from '../args';
import { SET_HELP } from './validate';

const OVERLAP_HELP = `what to do when a run is due while the last one still runs: ${OVERLAP_POLICIES.join(', ')} (default skip; cancel-other cancels it, so it unwinds, before the new one starts)`;

interface CreateOptions {
  id?: string;
  cron: string[];
  every?: string;
  timezone?: string;
  set: string[];
  overlap?: OverlapPolicy;
  jitter?: string;
  catchupWindow?: string;
  pauseOnFailure?: boolean;
  paused?: boolean;
  note?: string;
  json?: boolean;
}

/** The file's `schedule:` block as written (checked later, with the rest of the definition). */
function blockOf(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) && isRecord(value.schedule) ? value.schedule : undefined;
}

/** The flags of `schedule create` as a schedule block laid over the file's. */
function overridesOf(options: CreateOptions, block: Record<string, unknown> | undefined): ScheduleSpecInput {
  if (options.cron.length && options.every !== undefined) throw new UsageError('choose one of --cron and --every');
  const hasTimes = options.cron.length > 0 || options.every !== undefined;
  if (!hasTimes && (block?.cron === undefined) === (block?.every === undefined)) {
    throw new UsageError('give --cron or --every (or a schedule: block with cron or every in the definition)');
  }
  const params = { ...(isRecord(block?.params) ? block.params : {}), ...parseSets(options.set) };
  return {
    ...(options.id !== undefined ? { id: options.id } : {}),
    // A time flag replaces the block's times, whichever kind they are.
    ...(options.cron.length
      ? { cron: options.cron.length === 1 ? options.cron[0] : options.cron, every: undefined }
      : {}),
    ...(options.every !== undefined ? { every: options.every, cron: undefined } : {}),
    ...(options.timezone !== undefined ? { timezone: options.timezone } : {}),
    ...(options.overlap !== undefined ? { overlap: options.overlap } : {}),
    ...(options.jitter !== undefined ? { jitter: options.jitter } : {}),
    ...(options.catchupWindow !== undefined ? { catchupWindow: options.catchupWindow } : {}),
    ...(options.pauseOnFailure ? { pauseOnFailure: true } : {}),
    ...(options.paused ? { paused: true } : {}),
    ...(options.note !== undefined ? { note: options.note } : {}),
    ...(Object.keys(params).length ? { params } : {}),
  };
}

const time = (iso: string | undefined) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');

/** A schedule's description as text: state, times, policies, next and recent runs. */
export function formatSchedule(info: ScheduleInfo, color = false): string {
  const state = info.paused ? `paused${info.note ? `: ${info.note}` : ''}` : 'active';
  const lines = [
    `schedule ${info.scheduleId} · process ${info.process ?? '?'} · ${paint(state, info.paused ? 'parked' : 'succeeded', color)}`,
    `  when: ${info.spec}`,
    `  overlap: ${info.overlap} · catch-up window ${compactDuration(info.catchupWindow)} · pause on failure: ${info.pauseOnFailure ? 'yes' : 'no'}`,
    `  task queue: ${info.taskQueue}${info.params ? ` · params: ${JSON.stringify(info.params)}` : ''}`,
    `  next runs (UTC): ${info.nextRuns.length ? info.nextRuns.slice(0, 5).map(time).join(', ') : 'none'}`,
  ];
  if (info.recentRuns.length) {
    lines.push('  recent runs, newest first (scheduled time UTC, process id, status):');
    for (const run of info.recentRuns) {
      lines.push(`    ${time(run.scheduledAt)}  ${run.processId}  ${paint(run.status, run.status, color)}`);
    }
  } else lines.push('  recent runs: none yet');
  lines.push(
    `  runs taken ${info.actionsTaken} · skipped for overlap ${info.skippedForOverlap} · missed the catch-up window ${info.missedCatchupWindow}`
  );
  return lines.join('\n');
}

const useColor = () => colorsFor(io().stdout);

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description(
      'Processes that run by themselves, on Temporal Schedules: create, apply, list, describe, pause, unpause, trigger, backfill, delete. Each run is an ordinary process named <schedule id>-<scheduled time>.'
    );
  registerCreateCommand(schedule);
  registerApplyCommand(schedule);
  registerListCommand(schedule);
  registerDescribeCommand(schedule);
  registerTriggerCommand(schedule);
  registerBackfillCommand(schedule);
  registerDeleteCommand(schedule);
}

/** `jipper schedule create`. */
function registerCreateCommand(schedule: Command): void {
  schedule
    .command('create')
    .description(
      "Validate a definition and create a schedule that runs it: --cron or --every (or the file's schedule: block, which flags override). Refused when the id is taken."
    )
    .argument('<definition>', 'definition file (.json, .yaml, .yml)')
    .option('--id <id>', "schedule id (default: the block's id, else the process name)", parseWith(scheduleIdSchema))
    .option(
      '--cron <expression>',
      'when to run, as cron: "0 3 * * *" (minute hour day-of-month month day-of-week), "@daily"... (repeatable)',
      (value: string, previous: string[]) => [...previous, parseWith(cronSchema)(value)],
      []
    )
    .option('--every <duration>', 'run every this long (15m, 6h, 1d), counted from 00:00 UTC', parseWith(everySchema))
    .option('--timezone <zone>', 'IANA time zone the cron is read in (default UTC)', parseWith(timeZoneSchema))
    .option('--set <key=value>', SET_HELP, collectSet, [])
    .option('--overlap <policy>', OVERLAP_HELP, parseWith(overlapSchema))
    .option('--jitter <duration>', 'start each run up to this much later, at random (spreads load)', parseDuration)
    .option(
      '--catchup-window <duration>',
      "after the server was down, still take runs missed by at most this much (default Temporal's: 1 year)",
      parseDuration
    )
    .option('--pause-on-failure', 'pause the schedule when a run does not succeed, for a person to look')
    .option('--paused', 'create it paused (jipper schedule unpause starts it)')
    .option('--note <text>', "a note shown with the schedule's state")
    .option('--json', 'print the schedule as describe --json does')
    .action(
      action(async (file: string, options: CreateOptions) => {
        const source = await loadDefinitionSource(file, { processes: (await cliConfig()).processLibraries });
        const overrides = overridesOf(options, blockOf(source.value));
        const { definition, registry, params } = await requireValidDefinition(
          file,
          overrides.params ?? {},
          setTexts(options.set)
        );
        return withClient(
          async (client, config) => {
            const handle = await createSchedule(client, definition, {
              taskQueue: config.taskQueue,
              schedule: overrides.params ? { ...overrides, params } : overrides,
              registry,
              source: file,
            });
            const info = await describeSchedule(client, handle.scheduleId);
            if (options.json) return printJson(info);
            out(`created schedule ${info.scheduleId}`);
            out(formatSchedule(info, useColor()));
            out(`  its runs: jipper list --schedule ${info.scheduleId}`);
          },
          { startServer: true }
        );
      })
    );
}

/** `jipper schedule apply`. */
function registerApplyCommand(schedule: Command): void {
  schedule
    .command('apply')
    .description(
      "Create the schedule of a definition's schedule: block, or bring it in line with the file (spec, policies, params, definition); unchanged when it already matches. An existing schedule keeps its pause state and note."
    )
    .argument('<definition>', 'definition file with a schedule: block (.json, .yaml, .yml)')
    .option('--json', 'print { scheduleId, process, outcome, paused, note } as JSON')
    .action(
      action(async (file: string, options: { json?: boolean }) => {
        const source = await loadDefinitionSource(file, { processes: (await cliConfig()).processLibraries });
        const block = blockOf(source.value);
        if (!block) {
          throw new UsageError(
            `${file}: no schedule: block; add one (cron or every), or use jipper schedule create with --cron or --every`
          );
        }
        const params = isRecord(block.params) ? block.params : {};
        const { definition, registry } = await requireValidDefinition(file, params);
        return withClient(
          async (client, config) => {
            const applied = await applySchedule(client, definition, {
              taskQueue: config.taskQueue,
              registry,
              source: file,
            });
            if (options.json) return printJson(applied);
            const state = applied.paused ? `paused${applied.note ? ` (${applied.note})` : ''}` : 'active';
            out(`schedule ${applied.scheduleId}: ${applied.outcome} · process ${applied.process} · ${state}`);
            if (applied.outcome !== 'created' && applied.paused !== (block.paused === true)) {
              out(
                `  the file says paused: ${block.paused === true}; an existing schedule keeps its state: jipper schedule ${applied.paused ? 'unpause' : 'pause'} ${applied.scheduleId}`
              );
            }
          },
          { startServer: true }
        );
      })
    );
}

/** `jipper schedule list`. */
function registerListCommand(schedule: Command): void {
  schedule
    .command('list')
    .description("Jipper's schedules: id, process, state, when, next and last run (UTC).")
    .option('--process <name>', 'only schedules of this process')
    .option(
      '--limit <n>',
      'at most this many (default 100)',
      parseWith(z.coerce.number({ error: 'expected a number' }).int('expected a whole number').min(1).max(1000))
    )
    .option('--json', 'print the schedules as JSON')
    .action(
      action(async (options: { process?: string; limit?: number; json?: boolean }) =>
        withClient(async (client) => {
          const listed = await listSchedules(client, {
            ...(options.process !== undefined ? { process: options.process } : {}),
            ...(options.limit !== undefined ? { limit: options.limit } : {}),
          });
          if (options.json) return printJson(listed);
          if (!listed.length) return void out('no schedules found');
          const color = useColor();
          const width = outputWidth(io().stdout);
          const table = renderTable({
            head: ['id', 'process', 'state', 'when', 'next run (UTC)', 'last run (UTC)'],
            rows: listed.map((s) => [
              s.scheduleId,
              s.process ?? '',
              s.paused ? 'paused' : 'active',
              s.spec,
              time(s.nextRun),
              time(s.lastRun),
            ]),
            ...(width !== undefined ? { width } : {}),
            paint: (row, column, text) => {
              if (row < 0) return style('bold', text, color);
              return column === 2 ? paint(text, listed[row]?.paused ? 'parked' : 'succeeded', color) : text;
            },
          });
          out(table);
        })
      )
    );
}

/** `jipper schedule describe`, and `pause` / `unpause`. */
function registerDescribeCommand(schedule: Command): void {
  schedule
    .command('describe')
    .description(
      'A schedule: its state and note, when it runs, its policies and params, the next runs, and its recent runs with their Jipper status.'
    )
    .argument('<id>', 'schedule id')
    .option('--json', 'print the description as JSON')
    .action(
      action(async (id: string, options: { json?: boolean }) =>
        withClient(async (client) => {
          const info = await describeSchedule(client, id);
          if (options.json) printJson(info);
          else out(formatSchedule(info, useColor()));
        })
      )
    );

  for (const verb of ['pause', 'unpause'] as const) {
    schedule
      .command(verb)
      .description(
        verb === 'pause'
          ? 'Pause a schedule: no run starts until it is unpaused (runs going on go on). The note says why.'
          : 'Unpause a schedule: runs start again at their times (missed ones are not made up; see backfill).'
      )
      .argument('<id>', 'schedule id')
      .option('--note <text>', `why (default: "${verb}d with jipper schedule ${verb}")`)
      .option('--json', `print { scheduleId, paused, note } as JSON`)
      .action(
        action(async (id: string, options: { note?: string; json?: boolean }) =>
          withClient(async (client) => {
            const note = options.note ?? `${verb}d with jipper schedule ${verb}`;
            const handle = client.schedule.getHandle(id);
            await (verb === 'pause' ? handle.pause(note) : handle.unpause(note));
            if (options.json) return printJson({ scheduleId: id, paused: verb === 'pause', note });
            out(`${verb}d schedule ${id}: ${note}`);
          })
        )
      );
  }
}

/** `jipper schedule trigger`. */
function registerTriggerCommand(schedule: Command): void {
  schedule
    .command('trigger')
    .description('Start a run of a schedule now, whatever its times say; prints the new process id.')
    .argument('<id>', 'schedule id')
    .option(
      '--overlap <policy>',
      `overlap policy for this run: ${OVERLAP_POLICIES.join(', ')} (default allow-all: it runs even beside another)`,
      parseWith(overlapSchema)
    )
    .option('--json', 'print { scheduleId, processId } as JSON (processId null when no run started)')
    .action(
      action(async (id: string, options: { overlap?: OverlapPolicy; json?: boolean }) =>
        withClient(async (client) => {
          const processId = await triggerSchedule(client, id, options.overlap ? { overlap: options.overlap } : {});
          if (options.json) {
            printJson({ scheduleId: id, processId: processId ?? null });
            return processId ? undefined : EXIT_FAILED;
          }
          if (processId) {
            out(`triggered schedule ${id}: started ${processId} (jipper status ${processId})`);
            return undefined;
          }
          err(
            `jipper: triggered schedule ${id}, but no run started (its overlap policy may have skipped it: jipper schedule describe ${id})`
          );
          return EXIT_FAILED;
        })
      )
    );
}

/** `jipper schedule backfill`. */
function registerBackfillCommand(schedule: Command): void {
  schedule
    .command('backfill')
    .description(
      'Take the runs a schedule would have taken between two past times, now (after an outage, or for a new schedule).'
    )
    .argument('<id>', 'schedule id')
    .requiredOption(
      '--from <time>',
      'start of the range, an ISO time with its zone (2026-11-20T00:00:00Z)',
      parseIsoTime
    )
    .requiredOption('--to <time>', 'end of the range, an ISO time with its zone, not in the future', parseIsoTime)
    .option('--overlap <policy>', `overlap policy for these runs (default: the schedule's)`, parseWith(overlapSchema))
    .option('--json', 'print { scheduleId, from, to } as JSON')
    .action(
      action(async (id: string, options: { from: Date; to: Date; overlap?: OverlapPolicy; json?: boolean }) =>
        withClient(async (client) => {
          await backfillSchedule(client, id, {
            from: options.from,
            to: options.to,
            ...(options.overlap ? { overlap: options.overlap } : {}),
          });
          if (options.json) {
            return printJson({ scheduleId: id, from: options.from.toISOString(), to: options.to.toISOString() });
          }
          out(
            `backfill of schedule ${id} from ${options.from.toISOString()} to ${options.to.toISOString()} requested; its runs start now (jipper list --schedule ${id})`
          );
        })
      )
    );
}

/** `jipper schedule delete`. */
function registerDeleteCommand(schedule: Command): void {
  schedule
    .command('delete')
    .description('Delete a schedule: no more runs start; its runs so far (and any going on) are kept.')
    .argument('<id>', 'schedule id')
    .option('--json', 'print { scheduleId, deleted } as JSON')
    .action(
      action(async (id: string, options: { json?: boolean }) =>
        withClient(async (client) => {
          await client.schedule.getHandle(id).delete();
          if (options.json) return printJson({ scheduleId: id, deleted: true });
          out(`deleted schedule ${id}; its runs are kept (jipper list --schedule ${id})`);
        })
      )
    );
}
