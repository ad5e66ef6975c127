/**
 * Times and durations on the command line (`--start-at`, `--start-in`, `--from`, `--to`, `--every`, `--jitter`),
 * parsed where they enter with one clear message each; commander shows it as
 * `jipper: option '--start-at <time>' argument '...' is invalid. <message>`.
 */
import { z } from 'zod';
import { durationStringSchema } from '../schema/definition';
import { parseWith } from './args';

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * An ISO 8601 time with its zone (`2026-11-27T03:00:00Z`, `2026-11-27T04:00+01:00`): a time without one would mean
 * something else on another machine.
 */
export const isoTimeSchema = z
  .string()
  .regex(
    ISO_WITH_ZONE,
    'expected an ISO 8601 time with its zone, such as 2026-11-27T03:00:00Z or 2026-11-27T04:00+01:00'
  )
  .transform((text, ctx) => {
    const time = new Date(text);
    if (Number.isNaN(time.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'not a real date and time', input: text });
      return z.NEVER;
    }
    return time;
  });

/** A duration option (`30s`, `15m`, `2h`, `1d`), kept as written. */
export const parseDuration = parseWith(durationStringSchema);

/** An ISO time option, as a Date. */
export const parseIsoTime = parseWith(isoTimeSchema);
