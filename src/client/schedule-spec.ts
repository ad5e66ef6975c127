/**
 * A definition's `schedule` block in Temporal's terms and back: the spec and policies a Temporal Schedule is created
 * with, and a one-line summary of what a schedule's description says (`cron "0 3 * * MON-FRI" · time zone
 * Europe/Paris · jitter 5m`), rebuilt from the server's own (compiled) spec so it never tells a stale story.
 */
import type {
  CalendarSpecDescription,
  Range,
  ScheduleOverlapPolicy,
  ScheduleSpec,
  ScheduleSpecDescription,
} from '@temporalio/client';
import type { OverlapPolicy, ScheduleSpecInput } from '../schema/definition';
import { durationToMs } from '../shared/text';

const TO_TEMPORAL: Record<OverlapPolicy, ScheduleOverlapPolicy> = {
  skip: 'SKIP',
  'buffer-one': 'BUFFER_ONE',
  'buffer-all': 'BUFFER_ALL',
  'cancel-other': 'CANCEL_OTHER',
  'allow-all': 'ALLOW_ALL',
};

/** Jipper's overlap policy name as Temporal's. */
export function temporalOverlap(policy: OverlapPolicy): ScheduleOverlapPolicy {
  return TO_TEMPORAL[policy];
}

/** Temporal's overlap policy as Jipper names it (`terminate-other`, which Jipper never sets, as itself). */
export function jipperOverlap(policy: ScheduleOverlapPolicy | undefined): string {
  const found = Object.entries(TO_TEMPORAL).find(([, temporal]) => temporal === (policy ?? 'SKIP'));
  return found ? found[0] : String(policy).toLowerCase().replace(/_/g, '-');
}

/** When the runs happen, as Temporal's spec. */
export function temporalSpec(schedule: ScheduleSpecInput): ScheduleSpec {
  const cron = schedule.cron === undefined ? undefined : Array.isArray(schedule.cron) ? schedule.cron : [schedule.cron];
  return {
    ...(cron ? { cronExpressions: cron } : {}),
    ...(schedule.every !== undefined ? { intervals: [{ every: durationToMs(schedule.every) }] } : {}),
    ...(schedule.timezone !== undefined ? { timezone: schedule.timezone } : {}),
    ...(schedule.jitter !== undefined ? { jitter: durationToMs(schedule.jitter) } : {}),
  };
}

/** A duration in the largest unit that divides it: `1d`, `6h`, `90m`, `45s`, `1500ms`. */
export function compactDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const FULL_RANGES: Record<string, [string | number, string | number]> = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  dayOfMonth: [1, 31],
  month: ['JANUARY', 'DECEMBER'],
  dayOfWeek: ['SUNDAY', 'SATURDAY'],
};

const short = (value: string | number): string => (typeof value === 'string' ? value.slice(0, 3) : String(value));

/** One cron field from Temporal's ranges: `*`, `*\/15`, `3`, `1-5`, `MON-FRI`, `0,30`. */
function cronField(name: string, ranges: Range<string | number>[]): string {
  if (!ranges.length) return '*';
  const full = FULL_RANGES[name];
  return ranges
    .map(({ start, end, step }) => {
      const last = end ?? start;
      const every = step > 1 ? `/${step}` : '';
      if (full && start === full[0] && last === full[1]) return `*${every}`;
      return last === start ? short(start) : `${short(start)}-${short(last)}${every}`;
    })
    .join(',');
}

/**
 * A compiled calendar as a cron expression: 5 fields, 6 when it names years, 7 when it names seconds (Temporal's own
 * forms). `@daily` comes back as `0 0 * * *`.
 */
export function calendarToCron(calendar: CalendarSpecDescription): string {
  type Field = Exclude<keyof CalendarSpecDescription, 'comment'>;
  const field = (name: Field) => cronField(name, calendar[name]);
  const five = [field('minute'), field('hour'), field('dayOfMonth'), field('month'), field('dayOfWeek')];
  const second = field('second');
  const year = field('year');
  if (second !== '0') return [second, ...five, year].join(' ');
  return (year === '*' ? five : [...five, year]).join(' ');
}

/** What a schedule's spec says, on one line. */
export function describeSpec(spec: ScheduleSpecDescription | undefined): string {
  if (!spec) return 'no spec';
  const parts = [
    ...(spec.calendars ?? []).map((calendar) => `cron "${calendarToCron(calendar)}"`),
    ...(spec.intervals ?? []).map(
      ({ every, offset }) => `every ${compactDuration(every)}${offset ? ` (offset ${compactDuration(offset)})` : ''}`
    ),
  ];
  if (spec.timezone) parts.push(`time zone ${spec.timezone}`);
  if (spec.jitter) parts.push(`jitter ${compactDuration(spec.jitter)}`);
  if (spec.startAt) parts.push(`from ${spec.startAt.toISOString()}`);
  if (spec.endAt) parts.push(`until ${spec.endAt.toISOString()}`);
  return parts.length ? parts.join(' · ') : 'no times (runs only when triggered)';
}
