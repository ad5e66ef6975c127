/**
 * Time and run-once, without a server: the schedule block of a definition (what it accepts, and the one line it gives
 * for what it refuses), its translation into Temporal's spec and back into a readable line, the start request a start
 * and a schedule share, start delays, and the line that names a run holding a process id.
 */
import { JobRegistry } from '../../src/runtime/registry';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { buildStartRequest, startDelayOf } from '../../src/client/start';
import { describeExisting, DefinitionError, StartTimeError } from '../../src/client/errors';
import type { ExistingRun } from '../../src/client/errors';
import { planSchedule } from '../../src/client/schedules';
import { calendarToCron, compactDuration, describeSpec, temporalSpec } from '../../src/client/schedule-spec';
import { processDefinitionSchema, scheduleSchema } from '../../src/schema/definition';
import { isoTimeSchema } from '../../src/cli/time';
import { durationToMs } from '../../src/shared/text';
import { isWaiting } from '../../src/client/report';
import type { CalendarSpecDescription } from '@temporalio/client';

const registry = new JobRegistry([volumeLibrary({ root: '/nonexistent' })]);

const definition = {
  name: 'nightly-volume',
  description: 'A volume,\n  every night.',
  params: { volume: 'vol-1', sizeMb: 16 },
  steps: [
    { id: 'allocate', job: 'allocate-volume', args: { volume: { $param: 'volume' }, sizeMb: { $param: 'sizeMb' } } },
  ],
  schedule: { cron: '0 3 * * *', timezone: 'Europe/Paris', params: { volume: 'nightly' } },
};

const firstIssue = (value: unknown) => {
  const parsed = scheduleSchema.safeParse(value);
  return parsed.success ? undefined : `${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`;
};

describe('the schedule block', () => {
  test('takes cron (one or a list) or every, and the policies', () => {
    expect(firstIssue({ cron: '0 3 * * *' })).toBeUndefined();
    expect(firstIssue({ cron: ['0 3 * * *', '@hourly'], overlap: 'buffer-one', jitter: '5m' })).toBeUndefined();
    expect(firstIssue({ every: '6h', timezone: 'UTC', catchupWindow: '10m', pauseOnFailure: true })).toBeUndefined();
  });

  test.each([
    [{}, ': a schedule needs `cron` or `every` (one of the two)'],
    [{ cron: '0 3 * * *', every: '1h' }, ': a schedule needs `cron` or `every` (one of the two)'],
    [{ every: '500ms' }, 'every: a schedule runs at most once a second: expected "1s" or more'],
    [{ every: '1 hour' }, 'every: expected a duration such as "500ms", "30s", "5m" or "1h"'],
    [
      { cron: '  ' },
      'cron: expected a cron expression such as "0 3 * * *" (minute hour day-of-month month day-of-week)',
    ],
    [
      { cron: '@daily', overlap: 'terminate-other' },
      'overlap: expected one of skip, buffer-one, buffer-all, cancel-other, allow-all',
    ],
    [
      { cron: '@daily', timezone: 'Mars/Base' },
      'timezone: unknown time zone; expected an IANA name such as "Europe/Paris" or "UTC"',
    ],
    [
      { cron: '@daily', id: 'no spaces' },
      'id: a schedule id is letters, digits, ".", "-" and "_", starting with a letter or digit',
    ],
    [{ cron: '@daily', when: 'now' }, ': Unrecognized key: "when"'],
  ])('refuses %j with one line', (block, line) => {
    expect(firstIssue(block)).toBe(line);
  });

  test('is part of a definition, and a bad one is reported at its path', () => {
    expect(processDefinitionSchema.safeParse(definition).success).toBe(true);
    const bad = processDefinitionSchema.safeParse({
      ...definition,
      schedule: { cron: '@daily', overlap: 'sometimes' },
    });
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['schedule.overlap']);
  });
});

describe("Temporal's spec, and back", () => {
  test('a block becomes cron expressions or an interval, with time zone and jitter in milliseconds', () => {
    expect(temporalSpec({ cron: '0 3 * * *', timezone: 'Europe/Paris', jitter: '5m' })).toEqual({
      cronExpressions: ['0 3 * * *'],
      timezone: 'Europe/Paris',
      jitter: 300_000,
    });
    expect(temporalSpec({ every: '1.5h' })).toEqual({ intervals: [{ every: 5_400_000 }] });
  });

  const range = <T>(start: T, end: T = start, step = 1) => ({ start, end, step });
  const calendar = (fields: Partial<CalendarSpecDescription>): CalendarSpecDescription => ({
    second: [range(0)],
    minute: [range(0)],
    hour: [range(0)],
    dayOfMonth: [range(1, 31)],
    month: [range('JANUARY' as const, 'DECEMBER' as const)],
    year: [],
    dayOfWeek: [range('SUNDAY' as const, 'SATURDAY' as const)],
    ...fields,
  });

  test.each([
    [calendar({ hour: [range(3)], dayOfWeek: [range('MONDAY' as const, 'FRIDAY' as const)] }), '0 3 * * MON-FRI'],
    [calendar({ minute: [range(0, 59, 15)], hour: [range(9, 17)] }), '*/15 9-17 * * *'],
    [calendar({}), '0 0 * * *'],
    [
      calendar({ minute: [range(0), range(30)], month: [range('JANUARY' as const), range('JULY' as const)] }),
      '0,30 0 * JAN,JUL *',
    ],
    [calendar({ year: [range(2030)] }), '0 0 * * * 2030'],
    [calendar({ second: [range(30)] }), '30 0 0 * * * *'],
  ])('a compiled calendar reads as cron: %#', (compiled, cron) => {
    expect(calendarToCron(compiled)).toBe(cron);
  });

  test('a description on one line', () => {
    expect(
      describeSpec({
        calendars: [calendar({ hour: [range(3)] })],
        intervals: [{ every: 3_600_000, offset: 900_000 }],
        timezone: 'Europe/Paris',
        jitter: 120_000,
      })
    ).toBe('cron "0 3 * * *" · every 1h (offset 15m) · time zone Europe/Paris · jitter 2m');
    expect(describeSpec({ calendars: [], intervals: [] })).toBe('no times (runs only when triggered)');
    expect([86_400_000, 5_400_000, 45_000, 1_500].map(compactDuration)).toEqual(['1d', '90m', '45s', '1500ms']);
  });
});

describe('the start request a start and a schedule share', () => {
  test('drops the schedule block, carries the job facts, names the process in memo, summary and search attributes', () => {
    const request = buildStartRequest(definition, { registry, params: { volume: 'v' } });
    const [input] = request.args;
    expect(input.definition).not.toHaveProperty('schedule');
    expect(Object.keys(input.jobs ?? {})).toEqual(['allocate-volume']);
    expect(input.params).toEqual({ volume: 'v' });
    expect(request.memo).toEqual({ process: 'nightly-volume', description: 'A volume,\n  every night.' });
    expect(request.staticSummary).toBe('nightly-volume: A volume, every night.');
    expect(request.typedSearchAttributes.map((p) => [p.key.name, p.value])).toEqual([
      ['JipperProcess', 'nightly-volume'],
      ['JipperStatus', 'running'],
    ]);
  });

  test("a schedule's runs: no job facts (each run is planned by its worker), a link to the schedule", () => {
    const planned = planSchedule(definition, { taskQueue: 'q', registry });
    expect(planned.scheduleId).toBe('nightly-volume');
    const action = planned.options.action;
    const [input] = action.args as [{ jobs?: unknown; params?: unknown }];
    expect(input.jobs).toBeUndefined();
    expect(input.params).toEqual({ volume: 'nightly' });
    expect(action.workflowId).toBe('nightly-volume');
    expect(action.memo).toMatchObject({ process: 'nightly-volume', schedule: 'nightly-volume' });
    expect(action.staticSummary).toBe('nightly-volume (schedule nightly-volume): A volume, every night.');
    expect(planned.options.spec).toEqual({ cronExpressions: ['0 3 * * *'], timezone: 'Europe/Paris' });
    expect(planned.options.policies).toEqual({ overlap: 'SKIP', pauseOnFailure: false });
  });

  test('the same definition and schedule give the same digest; any change gives another', () => {
    const digest = (def: unknown, schedule?: Parameters<typeof planSchedule>[1]['schedule']) =>
      planSchedule(def, { taskQueue: 'q', ...(schedule ? { schedule } : {}) }).digest;
    const base = digest(definition);
    expect(digest(structuredClone(definition))).toBe(base);
    expect(digest(definition, { jitter: '1m' })).not.toBe(base);
    expect(digest({ ...definition, params: { ...definition.params, sizeMb: 32 } })).not.toBe(base);
    expect(planSchedule(definition, { taskQueue: 'other' }).digest).not.toBe(base);
  });

  test('a schedule whose params fail the jobs is refused before anything is sent', () => {
    const bad = { ...definition, schedule: { ...definition.schedule, params: { sizeMb: 'big' } } };
    expect(() => planSchedule(bad, { taskQueue: 'q', registry })).toThrow(DefinitionError);
    expect(() => planSchedule(bad, { taskQueue: 'q', registry })).toThrow(/sizeMb/);
  });

  test("flags over the block: a cron flag replaces the block's every", () => {
    const planned = planSchedule(
      { ...definition, schedule: { every: '1h' } },
      { taskQueue: 'q', schedule: { cron: '@daily', every: undefined } }
    );
    expect(planned.options.spec).toEqual({ cronExpressions: ['@daily'] });
  });
});

describe('start delays', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  test('a time in the future, or a positive delay', () => {
    expect(startDelayOf({ startAt: new Date('2026-11-26T14:00:00Z') }, now)).toBe(7_200_000);
    expect(startDelayOf({ startDelay: '90m' }, now)).toBe(5_400_000);
    expect(startDelayOf({}, now)).toBeUndefined();
  });
  test.each([
    [{ startAt: new Date('2026-11-26T11:59:59Z') }, /2026-11-26T11:59:59.000Z is in the past/],
    [{ startAt: new Date(now) }, /is in the past/],
    [{ startDelay: '0s' }, /start delay "0s": expected more than zero/],
    [{ startDelay: 'soon' }, /start delay "soon": expected a duration/],
    [{ startAt: new Date('2026-11-27T00:00:00Z'), startDelay: '1h' }, /not both/],
  ])('refuses %j', (options, message) => {
    expect(() => startDelayOf(options, now)).toThrow(StartTimeError);
    expect(() => startDelayOf(options, now)).toThrow(message);
  });
  test('command-line times carry their zone', () => {
    expect(isoTimeSchema.parse('2026-11-27T04:00+01:00').toISOString()).toBe('2026-11-27T03:00:00.000Z');
    expect(isoTimeSchema.safeParse('2026-11-27T03:00:00').success).toBe(false);
    expect(isoTimeSchema.safeParse('2026-02-31T03:00:00Z').success).toBe(true); // JavaScript rolls it over, as Temporal would
    expect(isoTimeSchema.safeParse('2026-13-01T03:00:00Z').success).toBe(false);
    expect(durationToMs('1.5h')).toBe(5_400_000);
  });
});

describe('a run that has not begun (isWaiting)', () => {
  const running = { name: 'RUNNING' } as Parameters<typeof isWaiting>[0]['status'];
  const at = (ms: number) => new Date(Date.UTC(2026, 11, 7, 12, 0, 0, ms));

  it('is a run whose delayed start has not come', () => {
    expect(isWaiting({ status: running, startTime: at(0), executionTime: at(60_000) }, at(1_000).getTime())).toBe(true);
    expect(isWaiting({ status: running, startTime: at(0), executionTime: at(60_000) }, at(61_000).getTime())).toBe(
      false
    );
  });

  it('is never a run started without a delay, even when the server clock is ahead of this one', () => {
    expect(isWaiting({ status: running, startTime: at(5), executionTime: at(5) }, at(2).getTime())).toBe(false);
  });
});

describe('the line about a process id that is taken', () => {
  const run: ExistingRun = {
    processId: 'vol-7',
    runId: 'r1',
    process: 'provision-volume',
    status: 'reverted',
    live: false,
    startedAt: '2026-11-26T10:00:00.000Z',
    closedAt: '2026-11-26T10:01:00.000Z',
  };
  test.each([
    [
      run,
      false,
      'process id "vol-7" is used: provision-volume run r1 ended reverted at 2026-11-26T10:01:00.000Z; add --rerun to start it again',
    ],
    [
      { ...run, status: 'succeeded' },
      true,
      'process id "vol-7" is used: provision-volume run r1 ended succeeded at 2026-11-26T10:01:00.000Z; a process that succeeded is not run again, even on a rerun',
    ],
    [
      { ...run, status: 'waiting', live: true, closedAt: undefined },
      true,
      'process id "vol-7" is in use: provision-volume run r1 is waiting (since 2026-11-26T10:00:00.000Z)',
    ],
  ])('%#', (existing, rerun, line) => {
    expect(describeExisting(existing, rerun, 'add --rerun')).toBe(line);
  });
});
