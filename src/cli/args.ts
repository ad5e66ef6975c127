/**
 * Parsers for the command line's arguments and option values, each a zod schema at the edge: a value that does not fit
 * is refused by Commander with one line that names the argument and says what it expects (exit code 2).
 */
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { stepIdSchema } from '../schema/definition';

/** A Commander argument parser from a zod schema: the first issue's message is the error. */
export function parseWith<T>(schema: z.ZodType<T, unknown>): (value: string) => T {
  return (value) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid value');
    return parsed.data;
  };
}

/** Temporal's default limit on a workflow id's length. */
const MAX_ID_LENGTH = 1000;

/** A process (workflow) id: what `jipper start --id` takes and every command that acts on a run. */
export const processIdSchema = z
  .string()
  .min(1, 'expected a process id')
  .max(MAX_ID_LENGTH, `a process id has at most ${MAX_ID_LENGTH} characters`)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'a process id has no control characters');

export const processId = parseWith(processIdSchema);

/** A step id, as definitions spell them. */
export const stepId = parseWith(stepIdSchema);

/** A step id, or a path into child processes (`db/grant`): step ids joined by "/". */
export const stepPath = parseWith(
  z
    .string()
    .refine(
      (path) => path.split('/').every((id) => stepIdSchema.safeParse(id).success),
      'a step is a step id, or a path into child processes such as "db/grant" (step ids joined by "/")'
    )
);

/** A reason an operator gives (pause): one line, up to 500 characters. */
export const reason = parseWith(
  z
    .string()
    .trim()
    .min(1, 'expected a reason')
    .max(500, 'a reason has at most 500 characters')
    .regex(/^[^\n\r]*$/, 'a reason is one line')
);
