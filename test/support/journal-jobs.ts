/**
 * A test job library whose jobs write what they do to an in-memory journal (the worker runs in the test process), so
 * tests can assert which runs and reverts happened, in what order, and with which idempotency keys. Each job's
 * behaviour comes from its input: the outcome a test wants is data, like any job's args.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/job';
import type { JobContext } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';

export interface JournalEntry {
  kind: 'run' | 'revert' | 'probe';
  stepId: string;
  key: string;
  attempt: number;
  input: unknown;
  result?: unknown;
  results?: Record<string, unknown>;
  afterFailure?: boolean;
  /** When it started and ended (ms since the epoch). */
  at?: number;
  end?: number;
}

/** Entries that ran at the same time as each other (their intervals overlap). */
export function overlap(a: JournalEntry | undefined, b: JournalEntry | undefined): boolean {
  if (!a?.at || !b?.at || !a.end || !b.end) return false;
  return a.at < b.end && b.at < a.end;
}

const outcome = z.enum(['succeed', 'fail', 'fail-nonretryable', 'fail-first-attempt', 'hang']).default('succeed');

/** Works for `ms`, heartbeating every 50 ms, so a cancellation reaches it. */
async function busy(ms: number, ctx: JobContext): Promise<void> {
  for (let waited = 0; waited < ms; waited += 50) {
    ctx.heartbeat();
    await ctx.sleep(50);
  }
}

const taskInput = z.object({
  value: z.unknown().optional(),
  outcome,
  revertOutcome: outcome,
  /** What the job's probe answers after an ambiguous failure. */
  probe: z.enum(['applied', 'not-applied', 'unknown']).default('not-applied'),
  /** How long the run takes, in ms (sleeps; cancellable through heartbeats). */
  durationMs: z.number().int().min(0).default(0),
  /** How long the revert takes, in ms (sleeps, heartbeating). */
  revertDurationMs: z.number().int().min(0).default(0),
  /** Pads the result with this many characters (a result too large for Temporal). */
  resultBytes: z.number().int().min(0).default(0),
  detail: z.string().optional(),
  /** Step ids whose results the run reads from its context (`ctx.results[id]`). */
  read: z.array(z.string()).default([]),
  /** The run fails (retryably) on attempts up to this one, then succeeds. */
  failUntilAttempt: z.number().int().min(0).default(0),
});

/**
 * `blocked` holds the things that currently cannot succeed — `<stepId>` for a run, `<stepId>/revert` for a revert —
 * like a dependency that is down until an operator fixes it: the test removes an entry to "fix" it. `<stepId>/hold`
 * keeps a run going (heartbeating, after its `durationMs`) until the test removes it: a worker slot held for exactly
 * as long as a test needs, however slow the machine.
 */
export function journalLibrary(journal: JournalEntry[], blocked: Set<string> = new Set()) {
  const record = (kind: JournalEntry['kind'], ctx: JobContext, input: unknown, extra: Partial<JournalEntry> = {}) => {
    const entry: JournalEntry = {
      kind,
      stepId: ctx.stepId,
      key: ctx.idempotencyKey,
      attempt: ctx.attempt,
      input,
      at: Date.now(),
      ...extra,
    };
    journal.push(entry);
    return entry;
  };

  const runTask = async (input: z.infer<typeof taskInput>, ctx: JobContext) => {
    const read = Object.fromEntries(input.read.map((id) => [id, ctx.results[id]]));
    await busy(input.durationMs, ctx);
    while (blocked.has(`${ctx.stepId}/hold`)) await busy(50, ctx);
    if (input.detail) ctx.setDetail(input.detail);
    if (input.outcome === 'hang') await ctx.sleep(3_600_000);
    if (blocked.has(ctx.stepId)) throw new Error(`task ${ctx.stepId} is blocked`);
    if (input.outcome === 'fail') throw new Error(`task ${ctx.stepId} failed`);
    if (input.outcome === 'fail-nonretryable')
      throw ApplicationFailure.nonRetryable(`task ${ctx.stepId} refused`, 'TaskRefused');
    if (input.outcome === 'fail-first-attempt' && ctx.attempt === 1) throw new Error(`task ${ctx.stepId} flaked`);
    if (ctx.attempt <= input.failUntilAttempt) throw new Error(`task ${ctx.stepId} not yet (attempt ${ctx.attempt})`);
    return {
      step: ctx.stepId,
      value: input.value ?? null,
      ...(input.read.length ? { read } : {}),
      ...(input.resultBytes ? { padding: 'x'.repeat(input.resultBytes) } : {}),
    };
  };

  const task = defineJob({
    name: 'task',
    input: taskInput,
    options: {
      timeout: '20s',
      heartbeatTimeout: '1s',
      retry: { maximumAttempts: 2, initialInterval: '50ms' },
      revert: { retry: { maximumAttempts: 2, initialInterval: '50ms' } },
    },
    async run(input, ctx) {
      const entry = record('run', ctx, input, { results: { ...ctx.results } });
      try {
        return await runTask(input, ctx);
      } finally {
        entry.end = Date.now();
      }
    },
    async revert(input, result, ctx) {
      const entry = record('revert', ctx, input, { result, afterFailure: ctx.afterFailure });
      try {
        await busy(input.revertDurationMs, ctx);
        if (blocked.has(`${ctx.stepId}/revert`)) throw new Error(`revert of ${ctx.stepId} is blocked`);
        if (input.revertOutcome === 'fail') throw new Error(`revert of ${ctx.stepId} failed`);
        if (input.revertOutcome === 'fail-first-attempt' && ctx.attempt === 1)
          throw new Error(`revert of ${ctx.stepId} flaked`);
        ctx.setDetail(`undid ${ctx.stepId}`);
      } finally {
        entry.end = Date.now();
      }
    },
  });

  /** Like `task`, with a probe that answers what its input says. */
  const probed = defineJob({
    ...task,
    name: 'probed',
    async probe(input, ctx) {
      record('probe', ctx, input, { end: Date.now() });
      return input.probe;
    },
  });

  /** Like `task`, at most 2 runs a second across every worker and process. */
  const limited = defineJob({
    name: 'limited',
    input: z.object({ value: z.unknown().optional() }),
    rateLimit: '2/s',
    async run(input, ctx) {
      record('run', ctx, input, { end: Date.now() });
      return { step: ctx.stepId };
    },
  });

  const oneWay = defineJob({
    name: 'one-way',
    description: 'A job with no revert.',
    input: z.object({ note: z.string().default('') }),
    async run(_input, ctx) {
      journal.push({ kind: 'run', stepId: ctx.stepId, key: ctx.idempotencyKey, attempt: ctx.attempt, input: _input });
      return { done: true };
    },
  });

  const typed = defineJob({
    name: 'typed',
    input: z.object({ count: z.number().int().min(1), label: z.string() }),
    output: z.object({ doubled: z.number() }),
    async run(input, ctx) {
      journal.push({ kind: 'run', stepId: ctx.stepId, key: ctx.idempotencyKey, attempt: ctx.attempt, input });
      return { doubled: input.count * 2 };
    },
  });

  return defineLibrary('journal', [task, probed, oneWay, typed, limited]);
}
