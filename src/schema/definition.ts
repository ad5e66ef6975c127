/**
 * The process definition: the data an operator writes (JSON, YAML, or the same shape from TypeScript) to arrange jobs
 * into a process. Parsed with zod where it enters (the CLI, the client helper, the worker's plan activity); inside,
 * types flow from the schema.
 *
 * @example
 * ```yaml
 * name: provision-volume
 * params: { volume: vol-1, sizeMb: 64 }
 * options: { revertMode: sequential, onRevertFailure: continue }
 * steps:
 *   - id: alloc
 *     job: allocate-volume
 *     args: { name: { $param: volume }, sizeMb: { $param: sizeMb } }
 *     timeout: 30s
 *   - parallel:
 *       - { id: fs, job: create-filesystem, args: { volumePath: { $from: alloc.path } } }
 *       - { id: quota, job: set-quota, args: { volume: { $param: volume }, limitMb: 32 } }
 *   - { id: export, job: export-volume, args: { volume: { $param: volume } }, pivot: true }
 * ```
 */
import { z } from 'zod';
import { DURATION_PATTERN, durationToMs } from '../shared/text';
import type { WaitSpec } from '../core/waits';
import { APPROVAL_JOB, EVENT_JOB, isWaitJob, parseMatch } from '../core/waits';
import { asChildStep, childStepFields, useChildDefinitionSchema } from './child-step';

/** A Temporal duration: milliseconds as a number, or a string such as `500ms`, `30s`, `5m`, `1h`, `1d`. */
export const durationStringSchema = z
  .string()
  .regex(DURATION_PATTERN, 'expected a duration such as "500ms", "30s", "5m" or "1h"');
export const durationSchema = z.union([z.number().int().positive(), durationStringSchema]);
export type Duration = z.infer<typeof durationSchema>;

/** Temporal's retry policy, as written in a definition. Unset fields keep the job's (or Jipper's) default. */
export const retrySchema = z.strictObject({
  maximumAttempts: z.number().int().min(0).optional(),
  initialInterval: durationSchema.optional(),
  backoffCoefficient: z.number().min(1).optional(),
  maximumInterval: durationSchema.optional(),
  nonRetryableErrorTypes: z.array(z.string().min(1)).optional(),
});
export type RetrySpec = z.infer<typeof retrySchema>;

/** Options for one side (run or revert) of a job. */
export const callOptionsSchema = z.strictObject({
  /** Start-to-close timeout of one attempt. */
  timeout: durationSchema.optional(),
  /** A job that heartbeats is considered lost after this long without one (and retried on another worker). */
  heartbeatTimeout: durationSchema.optional(),
  retry: retrySchema.optional(),
});
export type CallOptions = z.infer<typeof callOptionsSchema>;

/**
 * Failure classes, for `revertOn`: `business` (the job's own non-retryable errors), `infrastructure` (retries
 * exhausted on other errors), `timeout` (an attempt timed out, or its worker was lost and its heartbeat stopped, and no
 * attempts were left), `cancel` (the process was cancelled while the job ran).
 */
export const FAILURE_CLASSES = ['business', 'infrastructure', 'timeout', 'cancel'] as const;
export const failureClassSchema = z.enum(FAILURE_CLASSES);
export type FailureClass = z.infer<typeof failureClassSchema>;

/** Temporal task-queue priority: 1 (most urgent) to 5. Jipper's default is 3, the server's own default. */
export const prioritySchema = z
  .number()
  .int()
  .min(1, 'a priority is 1 (most urgent) to 5')
  .max(5, 'a priority is 1 (most urgent) to 5');

/** What a step does when its job fails after the pivot succeeded (nothing is unwound past the pivot). */
export const afterPivotSchema = z.union([
  z.enum(['fail', 'retry', 'park']),
  z.strictObject({
    /** Run this job (a forward-recovery job) instead; the process succeeds if it does. */
    recover: z.strictObject({
      job: z.string().min(1),
      args: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
]);
export type AfterPivot = z.infer<typeof afterPivotSchema>;

/** Per-job options: a job's defaults (in its library), overridden per step. */
export const jobOptionsSchema = callOptionsSchema.extend({
  /** Revert this job even when it is the one that failed (its failure may have left partial effects). */
  revertOnFailure: z.boolean().optional(),
  /** Options for the job's revert: its own timeout and retry policy. */
  revert: callOptionsSchema.optional(),
  /** Which failures of this job unwind the process. Default: all four classes. */
  revertOn: z.array(failureClassSchema).optional(),
  /**
   * What a failure not listed in `revertOn` does: `fail` (default) ends the process `failed` with nothing reverted;
   * `park` waits for an operator's decision (retry the job, or unwind).
   */
  otherwise: z.enum(['fail', 'park']).optional(),
  /** After the pivot: `fail` (default) ends the process `failed`; `retry` runs the job again until it succeeds; `park` waits for a decision; `{ recover: { job, args } }` runs a forward-recovery job. */
  afterPivot: afterPivotSchema.optional(),
  /** Task-queue priority of the job's run (1 most urgent to 5). Its revert runs one level more urgent by default. */
  priority: prioritySchema.optional(),
  /**
   * How long the step may take, from its start, retries included. When reached the job is cancelled and the step
   * fails with an error of type `deadline`, which unwinds the process as any failure does.
   */
  deadline: durationSchema.optional(),
  /**
   * Run the job and its revert as Temporal local activities, in the workflow's worker: for short jobs (a row, a cache
   * entry, an internal call). No heartbeat timeout, priority, tokens or rate limit; attempts of at most 1 minute.
   * See docs/local-jobs.md.
   */
  local: z.boolean().optional(),
});
export type JobOptions = z.infer<typeof jobOptionsSchema>;

/**
 * A resource token a step (or a whole process) holds while its effect stands: a name (`volume/{volume}` fills
 * `{volume}` from the run's params; a `$param` or `$from` reference is allowed too), how many units it takes (default
 * 1), and the token's capacity (default 1: exclusive).
 */
export const tokenSpecSchema = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
    count: z.number().int().min(1).optional(),
    capacity: z.number().int().min(1).optional(),
  }),
]);
export type TokenSpec = z.infer<typeof tokenSpecSchema>;

export const stepIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/i, 'a step id is letters, digits, "-" and "_", starting with a letter or digit')
  .max(100);

const jobStepFields = jobOptionsSchema.extend({
  id: stepIdSchema,
  /** The job's registered name, e.g. `allocate-volume`. */
  job: z.string().min(1),
  /** The job's input. Any value may be a reference: `{ $param: name }` or `{ $from: "<stepId>.<path>" }`. */
  args: z.record(z.string(), z.unknown()).optional(),
  /** Point of no return: once this step succeeds, a later failure is not unwound. */
  pivot: z.boolean().optional(),
  /**
   * The steps (or groups) this one waits for: it starts once all of them succeeded, whatever their place in the list.
   * Without `needs` a step waits for the step before it. `$from` and `uses` add needs of their own.
   */
  needs: z.array(stepIdSchema).optional(),
  /** Earlier steps whose results the job reads from `ctx.results` (besides those its args take with `$from`). */
  uses: z.array(stepIdSchema).optional(),
  /** Resource tokens the step holds from before it runs until its effect is settled. */
  tokens: z.array(tokenSpecSchema).optional(),
  /** How long the step waits for its tokens; then it ends `not_run` and the process unwinds. Default 5m. */
  waitFor: durationSchema.optional(),
  ...childStepFields,
  /** Set by the parser on a wait step (`approve` / `waitFor: { event }`), whose job is then `$approval` / `$event`. */
  get wait() {
    return waitSpecSchema.optional();
  },
  /**
   * Options for the job's revert, or `none`: the step's effect is meant to stand (its job's revert, if it has one, is
   * never run); `none` needs a `reason`.
   */
  revert: z.union([z.literal('none'), callOptionsSchema]).optional(),
  /**
   * Why the step's effect may stand after a failure (`revert: none`, a later pivot, a failure class that does not
   * unwind): `jipper check` then counts its gaps as intended, not as findings.
   */
  reason: z.string().trim().min(1, 'a reason says why the effect may stand').max(500).optional(),
});
export const jobStepSchema = jobStepFields.refine((step) => step.revert !== 'none' || step.reason !== undefined, {
  message: '`revert: none` needs a `reason` (why the effect may stand)',
  path: ['reason'],
});
export type JobStep = z.infer<typeof jobStepSchema>;

/** A job step, or a child-process step (`process:`), which is read as a job step named `process:<name>`. */
export const memberStepSchema = z.preprocess(asChildStep, jobStepSchema);

/** What an expired wait does: `revert` (default) unwinds the process, `continue` goes on, `park` waits for a person. */
export const onTimeoutSchema = z.enum(['revert', 'continue', 'park']);

/** An approval: a person approves (`jipper approve`) or rejects (`jipper reject`) before `timeout`. */
export const approveSchema = z.strictObject({
  /** What the person is asked, shown with the command that settles it. */
  prompt: z.string().min(1),
  /** Who may decide (`--as`, else the config's identity): a guard against mistakes, not authorization. */
  approvers: z.array(z.string().min(1)).min(1).optional(),
  timeout: durationSchema,
  onTimeout: onTimeoutSchema.optional(),
});

/** An event wait: the step settles when an event of that name whose data satisfies `match` arrives. */
export const waitForEventSchema = z.strictObject({
  event: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'an event name is letters, digits, ".", "_", ":", "/", "-"')
    .max(200),
  /** An expression over `event`, `params` and `results` (`==`, `!=`, `&&`, `||`, `!`, literals, dotted paths). */
  match: z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      try {
        parseMatch(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `match does not parse: ${(err as Error).message}` });
      }
    })
    .optional(),
  timeout: durationSchema,
  onTimeout: onTimeoutSchema.optional(),
});

/** A wait as the planner carries it: the approval or event, with its kind. */
export const waitSpecSchema = z.union([
  approveSchema.extend({ kind: z.literal('approve') }),
  waitForEventSchema.extend({ kind: z.literal('event') }),
]);

/** A wait step as written: an id, `needs`, a deadline, and `approve` or `waitFor` (one of the two). */
export const waitStepSchema = z
  .strictObject({
    id: stepIdSchema,
    approve: approveSchema.optional(),
    waitFor: waitForEventSchema.optional(),
    needs: z.array(stepIdSchema).optional(),
    pivot: z.boolean().optional(),
    deadline: durationSchema.optional(),
  })
  .superRefine((step, ctx) => {
    if ((step.approve === undefined) === (step.waitFor === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a wait step has `approve` or `waitFor` (one of the two)', path: [] });
    }
  });

/** Whether a raw step is a wait step: no `job`, and an `approve` or an event `waitFor` (an object). */
function isRawWaitStep(value: object): boolean {
  if ('job' in value || 'parallel' in value) return false;
  const { waitFor } = value as { waitFor?: unknown };
  return 'approve' in value || (typeof waitFor === 'object' && waitFor !== null);
}

/** A wait step as a job step the planner and the engine know: its reserved job name and its `wait`. */
function plannedWaitStep(step: z.infer<typeof waitStepSchema>): JobStep {
  const { approve, waitFor, ...rest } = step;
  const wait: WaitSpec = approve ? { kind: 'approve', ...approve } : { kind: 'event', ...(waitFor as EventWaitInput) };
  return { ...rest, job: wait.kind === 'approve' ? APPROVAL_JOB : EVENT_JOB, wait };
}
type EventWaitInput = z.infer<typeof waitForEventSchema>;

export const groupStepSchema = z.strictObject({
  /** Optional name for the group, shown in reports and graphs. */
  id: stepIdSchema.optional(),
  /** Jobs started together; the next step starts once the group succeeded (see `succeedWhen`). */
  parallel: z.array(memberStepSchema).min(1, 'a parallel group needs at least one job'),
  pivot: z.boolean().optional(),
  /**
   * When the group has succeeded: `all` (default) of its members, `any` one, or a number of them. Members still
   * running then are cancelled, and any that finish anyway are reverted at once; failed members do not fail the group
   * while the policy can still be met.
   */
  succeedWhen: z.union([z.enum(['all', 'any']), z.number().int().min(1)]).optional(),
  /** As for a job step: the group starts once all of these succeeded. */
  needs: z.array(stepIdSchema).optional(),
});
export type GroupStep = z.infer<typeof groupStepSchema>;

/**
 * A step: a parallel group when it has `parallel`, else a job. Chosen by that key rather than by trying both shapes,
 * so a bad step is reported at its bad field (`steps[1].parallel[0].id: ...`), not as an unmatched union.
 */
export const stepSchema = z.unknown().transform((value, ctx): JobStep | GroupStep => {
  const grouped = typeof value === 'object' && value !== null && 'parallel' in value;
  if (typeof value === 'object' && value !== null && isRawWaitStep(value)) {
    const wait = waitStepSchema.safeParse(value);
    if (wait.success) return plannedWaitStep(wait.data);
    for (const issue of wait.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: value });
    return z.NEVER;
  }
  const parsed = grouped ? groupStepSchema.safeParse(value) : memberStepSchema.safeParse(value);
  if (parsed.success && !grouped && waitJobMismatch(parsed.data as JobStep)) {
    ctx.addIssue({
      code: 'custom',
      message: '`wait` is set by Jipper on wait steps only',
      path: ['wait'],
      input: value,
    });
    return z.NEVER;
  }
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues)
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: value });
  return z.NEVER;
});
export type Step = z.infer<typeof stepSchema>;

/** A job step whose `wait` and reserved job name disagree (a hand-written `wait`, or `$approval` without one). */
function waitJobMismatch(step: JobStep): boolean {
  const expected = step.wait === undefined ? undefined : step.wait.kind === 'approve' ? APPROVAL_JOB : EVENT_JOB;
  return expected !== undefined ? step.job !== expected : isWaitJob(step.job);
}

export const processOptionsSchema = z.strictObject({
  /** `sequential` (default): revert one completed step at a time, newest first. `parallel`: all reverts at once. */
  revertMode: z.enum(['sequential', 'parallel']).optional(),
  /**
   * What to do when a revert still fails after its retries. `continue` (default): go on unwinding the rest and end
   * `revert_failed`, naming the jobs that need a person. `park`: wait for an operator decision (retry, skip,
   * mark-reverted) sent to the running workflow.
   */
  onRevertFailure: z.enum(['continue', 'park']).optional(),
  /** Defaults for every step of this process (a step's own options win; the job's defaults lose). */
  defaults: jobOptionsSchema.optional(),
  /**
   * Continue as new once the run's history has this many events (Temporal warns at 10,240), or 8 MB. Default 8,000.
   * The revert stack, results and report are carried over, so a long process can still unwind fully.
   */
  continueAsNewAfterEvents: z.number().int().min(100).optional(),
  /**
   * How long the whole process may take to move forward, from its start. When reached, forward progress stops and the
   * process unwinds exactly as on a failure, with an error of type `deadline` (never a workflow timeout, which would
   * end the run without its reverts).
   */
  deadline: durationSchema.optional(),
  /**
   * Start tolerance: if the first job has not started this long after the process started (no worker, a backlog), the
   * process ends `failed` (error type `not-started`) with every job `not_run`.
   */
  startWithin: durationSchema.optional(),
  /** Task-queue priority of the process and its jobs (1 most urgent to 5; default 3). Reverts run one level more urgent. */
  priority: prioritySchema.optional(),
  /** Fairness key (e.g. a tenant): the server shares the task queue fairly between keys (where it supports fairness). */
  fairnessKey: z.string().min(1).max(64).optional(),
  /** Weight of the fairness key (default 1). */
  fairnessWeight: z.number().positive().max(1000).optional(),
  /** Resource tokens the whole process holds, acquired before its first step and released when it ends. */
  tokens: z.array(tokenSpecSchema).optional(),
  /** How long to wait for tokens by default (a step's `waitFor` wins). Default 5m. */
  waitFor: durationSchema.optional(),
});
export type ProcessOptions = z.infer<typeof processOptionsSchema>;

/**
 * Temporal's overlap policies, as Jipper names them: what a schedule does when a run is due while the previous one is
 * still going. `skip` (the default) drops the new run; `buffer-one` starts it once the running one ends (one at most,
 * `buffer-all` every one); `cancel-other` cancels the running process (it unwinds, reverts and all) and then starts
 * the new one; `allow-all` runs them side by side. Temporal's `terminate-other` is left out on purpose: terminating a
 * process skips its reverts.
 */
export const OVERLAP_POLICIES = ['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'allow-all'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export const overlapSchema = z.enum(OVERLAP_POLICIES, { error: `expected one of ${OVERLAP_POLICIES.join(', ')}` });

export const scheduleIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'a schedule id is letters, digits, ".", "-" and "_", starting with a letter or digit'
  )
  .max(200);

/** A name the runtime's time-zone database knows (`UTC`, `Europe/Paris`). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone name the runtime knows (`UTC`, `Europe/Paris`). */
export const timeZoneSchema = z
  .string()
  .refine(isTimeZone, { message: 'unknown time zone; expected an IANA name such as "Europe/Paris" or "UTC"' });

/** A schedule's interval: a duration of one second or more. */
export const everySchema = durationSchema.refine(
  // Zod runs refinements after a failed union too: leave a value that is no duration to the union's own message.
  (d) => (typeof d === 'string' && !durationStringSchema.safeParse(d).success ? true : durationToMs(d) >= 1000),
  'a schedule runs at most once a second: expected "1s" or more'
);

export const cronSchema = z
  .string()
  .trim()
  .min(1, 'expected a cron expression such as "0 3 * * *" (minute hour day-of-month month day-of-week)');

/**
 * When a process runs by itself: a Temporal Schedule whose every run is an ordinary process of this definition.
 * `jipper schedule apply <file>` creates it, or brings it in line with the file (idempotent); the engine ignores it.
 *
 * @example
 * ```yaml
 * schedule:
 *   id: nightly-volume     # default: the process name
 *   cron: '0 3 * * *'      # or `every: 6h` (one of the two)
 *   timezone: Europe/Paris # default UTC
 *   jitter: 5m
 *   overlap: skip
 *   params: { volume: nightly }
 * ```
 */
export const scheduleSchema = z
  .strictObject({
    /** The schedule's id, and the prefix of its runs' ids (`<id>-<scheduled time>`). Default: the process name. */
    id: scheduleIdSchema.optional(),
    /**
     * Cron expressions (one, or a list): 5 fields (minute hour day-of-month month day-of-week), 6 (… year) or 7
     * (second …), or `@daily`, `@hourly`, `@every 90m`... Temporal's server checks them when the schedule is applied.
     */
    cron: z.union([cronSchema, z.array(cronSchema).min(1, 'expected at least one cron expression')]).optional(),
    /** A run every this long (`15m`, `6h`, `1d`), counted from the Unix epoch (`6h` runs at 00:00, 06:00... UTC). */
    every: everySchema.optional(),
    /** IANA time zone the cron expressions are read in. Default UTC. */
    timezone: timeZoneSchema.optional(),
    /** Each run starts up to this much later than its time, at random (spreads many schedules' load). Default none. */
    jitter: durationSchema.optional(),
    /** What to do when a run is due while the previous one still runs (see {@link OVERLAP_POLICIES}). Default skip. */
    overlap: overlapSchema.optional(),
    /**
     * After the server was down, runs missed by at most this much are still taken (by the overlap policy); older ones
     * are dropped. Default: Temporal's (one year).
     */
    catchupWindow: durationSchema.optional(),
    /**
     * Pause the schedule when a run does not succeed (its note says which), so a person looks before the next run
     * starts. Default false.
     */
    pauseOnFailure: z.boolean().optional(),
    /** Create the schedule paused. Applies when it is created; `jipper schedule pause|unpause` change it later. */
    paused: z.boolean().optional(),
    /** A note shown with the schedule's state (why it is paused...). Applies when it is created. */
    note: z.string().max(1_000).optional(),
    /** Parameter values for every run (they override the definition's `params`). */
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((schedule, ctx) => {
    if ((schedule.cron === undefined) === (schedule.every === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a schedule needs `cron` or `every` (one of the two)', path: [] });
    }
  });
export type ScheduleSpecInput = z.infer<typeof scheduleSchema>;

/**
 * The outcomes a process's hooks run on (`on:`): its final statuses, `parked` (as soon as a step parks for a
 * decision) and `deadline` (the process stopped at its deadline; its status hooks run too).
 */
export const HOOK_OUTCOMES = [
  'succeeded',
  'reverted',
  'revert_failed',
  'failed',
  'cancelled',
  'parked',
  'deadline',
] as const;
export type HookOutcome = (typeof HOOK_OUTCOMES)[number];

/** A hook: a job run after an outcome, never reverted; its own failure is retried by `retry`, then reported. */
export const hookStepSchema = z.strictObject({
  /** A registered job's name (Jipper's standard ones: `http-request`, `send-email`). */
  job: z.string().min(1),
  /** The job's input: literal values, `$param`, `$secret`, and `$report` (what the report says: see docs). */
  args: z.record(z.string(), z.unknown()).optional(),
  /** Start-to-close timeout of one attempt. Default 30s. */
  timeout: durationSchema.optional(),
  /** Its retry policy. Default: 5 attempts, 1s doubling up to 30s. */
  retry: retrySchema.optional(),
});
export type HookStep = z.infer<typeof hookStepSchema>;

/** `on:` — hooks by outcome; `defaults: false` leaves out the worker's default hooks for this process. */
export const hooksSchema = z
  .record(z.string(), z.unknown())
  .transform((value, ctx): Partial<Record<HookOutcome, HookStep[]>> & { defaults?: boolean } => {
    const out: Partial<Record<HookOutcome, HookStep[]>> & { defaults?: boolean } = {};
    for (const [key, entry] of Object.entries(value)) {
      const known = key === 'defaults' || (HOOK_OUTCOMES as readonly string[]).includes(key);
      const parsed = !known
        ? undefined
        : key === 'defaults'
          ? z.boolean().safeParse(entry)
          : z.array(hookStepSchema).safeParse(entry);
      if (!parsed) {
        const message = `unknown outcome "${key}"; hooks run on: ${HOOK_OUTCOMES.join(', ')} (and \`defaults: false\` opts out of the worker's)`;
        ctx.addIssue({ code: 'custom', message, path: [key], input: entry });
      } else if (!parsed.success) {
        for (const issue of parsed.error.issues)
          ctx.addIssue({ code: 'custom', message: issue.message, path: [key, ...issue.path], input: entry });
      } else Object.assign(out, { [key]: parsed.data });
    }
    return out;
  });
export type Hooks = z.infer<typeof hooksSchema>;

export const processDefinitionSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'a process name is letters, digits, ".", "-" and "_"')
    .max(200),
  description: z.string().optional(),
  /** Parameters with their default values; `--set name=value` (or the client's `params`) overrides them per run. */
  params: z.record(z.string(), z.unknown()).optional(),
  /**
   * What this process gives a parent that runs it as a child (`process:`): a map of values, `$from` references into its
   * steps' results allowed. Without it a parent's `$from` reads the child's step results by step id.
   */
  outputs: z.record(z.string(), z.unknown()).optional(),
  options: processOptionsSchema.optional(),
  steps: z.array(stepSchema).min(1, 'a process needs at least one step'),
  /** When the process runs by itself (a Temporal Schedule, see {@link scheduleSchema}). Ignored by the engine. */
  schedule: scheduleSchema.optional(),
  /** Outcome hooks: jobs that run after the process's outcome, or as soon as it parks (see {@link hooksSchema}). */
  on: hooksSchema.optional(),
});
export type ProcessDefinition = z.infer<typeof processDefinitionSchema>;

useChildDefinitionSchema(processDefinitionSchema);

/** Defines a process in TypeScript: the same shape as a JSON/YAML definition, type-checked. Identity at run time. */
export function defineProcess(definition: ProcessDefinition): ProcessDefinition {
  return definition;
}
