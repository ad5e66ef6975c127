/**
 * The fields of a child-process step (`process:`), and how such a step is read: as a job step named
 * `process:<child name>` whose `args` are the child's `params`. See src/shared/children.ts and docs/sub-processes.md.
 */
import { z } from 'zod';
import { CHILD_JOB_PREFIX, childJobName } from '../shared/children';
import { isRecord } from '../shared/text';

/** The process definition schema (set by definition.ts, which this file cannot import: it imports this one). */
let definitionSchema: z.ZodType | undefined;
/**
 * The step lists of the child definitions being parsed now, outermost first: a tree of objects that includes itself is
 * refused (by its `steps`, which parsing a record leaves as they are, where the record itself is copied).
 */
const parsing: unknown[] = [];

/** Tells the child steps which schema a child definition is parsed with. */
export function useChildDefinitionSchema(schema: z.ZodType): void {
  definitionSchema = schema;
}

/** Parses an embedded child definition as a definition (its own child steps read as job steps, defaults filled). */
function parseChild(value: Record<string, unknown>, ctx: z.core.$RefinementCtx): Record<string, unknown> {
  if (!definitionSchema) return value;
  if (parsing.includes(value.steps)) {
    ctx.addIssue({ code: 'custom', message: 'a process includes itself', input: value });
    return value;
  }
  parsing.push(value.steps);
  try {
    const parsed = definitionSchema.safeParse(value);
    if (parsed.success) return parsed.data as Record<string, unknown>;
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: value });
    }
    return value;
  } finally {
    parsing.pop();
  }
}

/** Fields a step has when it runs a child process. */
export const childStepFields = {
  /**
   * The child process: a definition file's path, relative to this definition's file (the loader reads it and puts the
   * child's definition here), or the child's definition itself.
   */
  process: z
    .union([z.string().min(1), z.record(z.string(), z.unknown()).transform(parseChild)], {
      error: 'expected a definition file\'s path (such as "./create-database.yaml") or a process definition',
    })
    .optional(),
};

/**
 * Reads a step with `process:` as a job step: its job is `process:<name>`, its args the child's `params`. A step that
 * names both a job and a process, or has both `params` and `args`, is refused at that field.
 */
export function asChildStep(value: unknown, ctx: z.core.$RefinementCtx): unknown {
  if (!isRecord(value) || value.process === undefined) return value;
  // A step read before (a parsed definition checked again) already has its `process:` job name.
  if (typeof value.job === 'string' && value.job.startsWith(CHILD_JOB_PREFIX)) return value;
  if (value.job !== undefined) {
    ctx.addIssue({ code: 'custom', message: 'a step runs a job or a process, not both', path: ['job'], input: value });
    return value;
  }
  if (value.params !== undefined && value.args !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: "a child step's params are its `params` (not `args` too)",
      path: ['args'],
      input: value,
    });
    return value;
  }
  const { params, ...rest } = value;
  if (params !== undefined && !isRecord(params)) {
    ctx.addIssue({ code: 'custom', message: 'expected an object of parameter values', path: ['params'], input: value });
    return value;
  }
  return { ...rest, job: childJobName(value.process), ...(params !== undefined ? { args: params } : {}) };
}
