/**
 * Stalls a chosen attempt of a chosen job, as a frozen worker would (a long GC pause, a stopped VM, a lock wait that
 * ends late), so a late attempt — one Temporal has timed out and retried while it still runs — can be made at will:
 * the attempt's run is held until the test lets it go, then goes on with the job's real code and context. The worker
 * runs in the test process; nothing of Temporal is mocked.
 *
 * ```ts
 * const stalls = new Stalls();
 * const tw = await startTestWorker([stalls.wrap(volumeLibrary({ root }))]);
 * const late = stalls.plan('p-1', 'alloc', 1);            // attempt 1 of step alloc of process p-1
 * const report = await runProcess(...);                  // Temporal times it out, retries, unwinds...
 * const outcome = await late.release();                  // ...then the late attempt goes on
 * ```
 *
 * `pastChecks` holds the attempt at a later moment: after the last check of its signal it would have made before its
 * write (the job then runs with a signal that does not abort, as one frozen between the check and the write sees).
 */
import { performance } from 'node:perf_hooks';
import type { AnyJob, JobContext } from '../../src/jobs/job';
import type { JobLibrary } from '../../src/jobs/library';
import { defineLibrary } from '../../src/jobs/library';

export interface StallOptions {
  /** Hold the attempt after its signal checks instead of before its run (see the module comment). */
  pastChecks?: boolean;
}

export interface LateOutcome {
  result?: unknown;
  error?: Error;
}

export interface StalledAttempt {
  /** Resolves once the attempt has reached its stall. */
  readonly reached: Promise<void>;
  /** When the attempt's `ctx.signal` aborted, in ms after it reached the stall, and why; undefined while it has not. */
  aborted(): { afterMs: number; reason: unknown } | undefined;
  /** Lets the attempt go on; resolves with how the job's run ended. */
  release(): Promise<LateOutcome>;
}

interface Planned {
  options: StallOptions;
  reached: () => void;
  gate: Promise<void>;
  open: () => void;
  outcome: Promise<LateOutcome>;
  settle: (outcome: LateOutcome) => void;
  aborted?: { afterMs: number; reason: unknown };
}

export class Stalls {
  private readonly planned = new Map<string, Planned>();

  /** Stalls attempt `attempt` of the run of step `stepId` of process `processId`. */
  plan(processId: string, stepId: string, attempt: number, options: StallOptions = {}): StalledAttempt {
    let reached!: () => void;
    const reachedP = new Promise<void>((resolve) => (reached = resolve));
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let settle!: (outcome: LateOutcome) => void;
    const outcome = new Promise<LateOutcome>((resolve) => (settle = resolve));
    const entry: Planned = { options, reached, gate, open, outcome, settle };
    this.planned.set(`${processId}/${stepId}#${attempt}`, entry);
    return {
      reached: reachedP,
      aborted: () => entry.aborted,
      release: async () => {
        await reachedP;
        entry.open();
        return entry.outcome;
      },
    };
  }

  /** Lets every stalled attempt go on (before a worker shuts down: it waits for its running attempts). */
  releaseAll(): void {
    for (const entry of this.planned.values()) entry.open();
  }

  /** The library with every job's run going through the planned stalls. */
  wrap(library: JobLibrary): JobLibrary {
    return defineLibrary(
      library.name,
      library.jobs.map((job): AnyJob => ({ ...job, run: (input, ctx) => this.run(job, input, ctx) }))
    );
  }

  private async run(job: AnyJob, input: unknown, ctx: JobContext): Promise<unknown> {
    const entry = this.planned.get(`${ctx.idempotencyKey}#${ctx.attempt}`);
    if (!entry) return job.run(input, ctx);
    const at = performance.now();
    const onAbort = () => (entry.aborted = { afterMs: performance.now() - at, reason: ctx.signal.reason });
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    entry.reached();
    await entry.gate;
    const goOn = entry.options.pastChecks ? { ...ctx, signal: new AbortController().signal } : ctx;
    try {
      const result: unknown = await job.run(input, goOn);
      entry.settle({ result });
      return result;
    } catch (error) {
      entry.settle({ error: error instanceof Error ? error : new Error(String(error)) });
      throw error;
    }
  }
}
