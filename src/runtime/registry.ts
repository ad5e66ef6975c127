/**
 * Job libraries and the registry a worker builds from them. Each job becomes two activities, `<name>.run` and
 * `<name>.revert`; the registry also provides Jipper's own plan and describe activities, which the workflows call to
 * check definitions and learn each job's options before anything runs.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { JobCall, LocalRunCall, RevertCall } from '../shared/calls';
import {
  LOCAL_RUN_ACTIVITY,
  DESCRIBE_ACTIVITY,
  PLAN_ACTIVITY,
  probeActivityName,
  revertActivityName,
  runActivityName,
} from '../shared/calls';
import { MISSING_JOB_TYPE, UNKNOWN_JOB_TYPE } from '../shared/errors';
import type { JobMeta } from '../shared/options';
import type { JobFacts } from '../shared/plan';
import { probeJob, revertJob, runJob } from './activities';
import { runLocalRun } from './local-run';
import type { HookSettings } from './hooks';
import { runHook } from './hooks';
import type { HookCall } from '../shared/hooks';
import { HOOK_ACTIVITY, HOOK_DEFAULTS_ACTIVITY } from '../shared/hooks';
import { tokenActivities } from './tokens';
import type { AnyJob } from '../jobs/job';
import { ratePerSecond } from '../jobs/job';
import type { JobLibrary } from '../jobs/library';
import { DuplicateJobError } from '../jobs/library';
import type { SecretProvider, SecretRoutes } from './secrets';
import { secretRouteProblems } from './secret-routes';
import { envSecrets } from './secrets';
import type { Validation } from '../checks/validate';
import { validateDefinition } from '../checks/validate';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Temporal's activity map holds functions of any signature
type ActivityFunction = (...args: any[]) => Promise<unknown>;

export class JobRegistry {
  private readonly jobs = new Map<string, { job: AnyJob; library: string }>();
  private readonly fingerprints = new Map<string, string>();

  constructor(libraries: readonly JobLibrary[]) {
    for (const library of libraries) {
      for (const job of library.jobs) {
        const existing = this.jobs.get(job.name);
        if (existing) {
          throw new DuplicateJobError(
            `job "${job.name}" is defined twice: in library "${existing.library}" and in library "${library.name}"`
          );
        }
        this.jobs.set(job.name, { job, library: library.name });
      }
    }
  }

  get(name: string): AnyJob | undefined {
    return this.jobs.get(name)?.job;
  }

  names(): string[] {
    return [...this.jobs.keys()].sort();
  }

  meta(name: string): JobMeta | undefined {
    const job = this.get(name);
    if (!job) return undefined;
    return {
      name: job.name,
      hasRevert: typeof job.revert === 'function',
      ...(typeof job.probe === 'function' ? { hasProbe: true } : {}),
      ...(job.rateLimit !== undefined ? { ratePerSecond: ratePerSecond(job.rateLimit, job.name) } : {}),
      defaults: job.options ?? {},
    };
  }

  /** The rate-limited jobs, with their runs per second (each gets a task queue of its own on the worker). */
  rateLimited(): { job: string; ratePerSecond: number }[] {
    return this.names().flatMap((name) => {
      const rate = this.meta(name)?.ratePerSecond;
      return rate === undefined ? [] : [{ job: name, ratePerSecond: rate }];
    });
  }

  /**
   * What a plan takes from this registry about a job — whether it has a revert, and its default options — as a short
   * hash. A client that plans a process (so the worker need not) sends it with the job's facts; the process's first
   * step carries the fingerprints of all its jobs, and its activity refuses to run when this worker's differ, rather
   * than let the process run with options or reverts the client assumed and the workers do not have.
   */
  fingerprint(name: string): string | undefined {
    const known = this.fingerprints.get(name);
    if (known !== undefined) return known;
    const meta = this.meta(name);
    if (!meta) return undefined;
    const hash = createHash('sha256')
      .update(
        JSON.stringify([
          meta.name,
          meta.hasRevert,
          meta.defaults,
          // Only when set, so the fingerprints of jobs without them stay what they were.
          ...(meta.hasProbe || meta.ratePerSecond !== undefined
            ? [meta.hasProbe ?? false, meta.ratePerSecond ?? 0]
            : []),
        ])
      )
      .digest('base64url')
      .slice(0, 16);
    this.fingerprints.set(name, hash);
    return hash;
  }

  /** What this registry knows about the named (registered) jobs, by name: for a client to send with a start request. */
  facts(names: readonly string[]): Record<string, JobFacts> {
    const facts: Record<string, JobFacts> = {};
    for (const name of names) {
      const meta = this.meta(name);
      const fingerprint = this.fingerprint(name);
      if (meta && fingerprint !== undefined) facts[name] = { ...meta, fingerprint };
    }
    return facts;
  }

  /**
   * The workers' secret routes (`JIPPER_SECRETS_JOBS`), when this side knows them: {@link validate} then refuses a
   * definition that sends a secret to a job not routed for it (`secret-routes.ts`).
   */
  secretRoutes?: SecretRoutes;

  validate(definition: unknown, params: Record<string, unknown> = {}, routes = this.secretRoutes): Validation {
    const validation = validateDefinition(definition, this, params);
    const routed = secretRouteProblems(definition, validation.params, routes);
    return routed.length ? { ...validation, problems: [...validation.problems, ...routed] } : validation;
  }

  /**
   * The activities a worker registers: every job's run and revert, plus Jipper's plan and describe. `secrets` resolves
   * the `$secret` references of job args (default: {@link envSecrets}, `JIPPER_SECRET_<NAME>`).
   */
  activities(options: { secrets?: SecretProvider; hooks?: HookSettings } = {}): Record<string, ActivityFunction> {
    const secrets = options.secrets ?? envSecrets();
    const activities: Record<string, ActivityFunction> = {
      [PLAN_ACTIVITY]: async (definition: unknown, params: Record<string, unknown>) => {
        const {
          problems,
          params: merged,
          jobs,
        } = this.validate(definition, params, secrets.routes ?? this.secretRoutes);
        return { problems, params: merged, jobs };
      },
      [DESCRIBE_ACTIVITY]: async (names: string[]) => {
        const unknown = names.filter((n) => !this.get(n));
        if (unknown.length) {
          throw ApplicationFailure.nonRetryable(
            `unknown job(s) ${unknown.map((n) => `"${n}"`).join(', ')}; known jobs: ${this.names().join(', ')}`,
            UNKNOWN_JOB_TYPE
          );
        }
        return names.map((n) => this.meta(n));
      },
    };
    // An activity this worker does not have would be retried until its attempts run out, and then unwind with a
    // generic error. Temporal hands unknown activity types to `default`: fail at once, naming the job and the queue.
    activities.default = async () => {
      const { activityType, taskQueue } = Context.current().info;
      const job = activityType.replace(/\.(run|revert|probe)$/, '');
      throw ApplicationFailure.create({
        type: MISSING_JOB_TYPE,
        message: `the workers on task queue "${taskQueue}" do not have job "${job}" (activity ${activityType}); their jobs: ${this.names().join(', ') || '(none)'} — run a worker with the job's library on that queue`,
        nonRetryable: true,
      });
    };
    Object.assign(activities, tokenActivities());
    const hooks = options.hooks ?? {};
    activities[HOOK_ACTIVITY] = (call: HookCall) => runHook(call, this, secrets, hooks);
    activities[HOOK_DEFAULTS_ACTIVITY] = async () => hooks.defaults ?? {};
    activities[LOCAL_RUN_ACTIVITY] = (run: LocalRunCall) =>
      runLocalRun(run, (name) => this.get(name), this, secrets, hooks.defaults);
    for (const { job } of this.jobs.values()) {
      activities[runActivityName(job.name)] = (call: JobCall) => runJob(job, call, this, secrets);
      if (job.revert) activities[revertActivityName(job.name)] = (call: RevertCall) => revertJob(job, call, secrets);
      if (job.probe) activities[probeActivityName(job.name)] = (call: JobCall) => probeJob(job, call, secrets);
    }
    return activities;
  }
}
