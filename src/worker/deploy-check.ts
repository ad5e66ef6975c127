/**
 * The deploy check (`jipper check --deploy`, and `checkDeploy` in `jipper/testing`): the histories of processes in
 * flight replayed against the workflow code and job libraries about to be deployed, before they are. For each run:
 *
 * - `breaks` — the new workflow code does not reproduce its history (a determinism violation, or another replay
 *   failure), or a job it was planned with is gone from the new libraries: the run would get stuck;
 * - `changed` — it replays, but a job it was planned with changed under it (its revert or default options differ from
 *   the fingerprint recorded when it started, see `JobRegistry.fingerprint`): its next steps (or reverts) mean other
 *   things than when it started;
 * - `ok` — neither.
 *
 * With a revised definition of the same process, each run also gets its revert plan now and under the revision: what a
 * failure of its next step would revert (`previewPlan`, the saga core's own rules). Histories of encrypted runs are
 * decrypted with the key ring of the data converter given.
 */
import type { DataConverter, Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { encryptsFailures } from '../codec/data-converter';
import type { ProcessDefinition } from '../schema/definition';
import type { Plan } from '../shared/plan';
import { planFromFacts } from '../shared/plan';
import { PLAN_ACTIVITY } from '../shared/calls';
import { previewPlan } from '../shared/revert-plan';
import { oneLine } from '../shared/text';
import type { ProcessInput } from '../workflows/process-input';
import type { JobRegistry } from '../runtime/registry';
import { workflowCode } from './worker';
import { keyRingOf, payloadsOf } from './replay';
import { missingKeyProblem } from '../codec/encryption-codec';

/** The bundle about to be deployed does not load (a missing file, a syntax error): one line. */
export class BundleLoadError extends Error {
  override readonly name = 'BundleLoadError';
}

export interface RunToCheck {
  /** The workflow id the history is replayed as. */
  workflowId: string;
  history: History;
  /** Where it came from: a file, or `server`. */
  source?: string;
}

/** How each in-flight run's revert plan changes under a revised definition: what a failure of its next step reverts. */
export interface RevertPlanChange {
  /** The step whose failure is previewed: the first of the run's steps that has not succeeded. */
  failAt?: string;
  before: string[];
  after: string[];
  changed: boolean;
}

export interface DeployRunResult {
  workflowId: string;
  source?: string;
  process?: string;
  verdict: 'ok' | 'changed' | 'breaks';
  /** One line per reason (empty when `ok`). */
  reasons: string[];
  revertPlan?: RevertPlanChange;
}

export interface DeployCheckOptions {
  /** The workflow bundle about to be deployed. Default: this build's (as `jipper worker` would run). */
  bundlePath?: string;
  /** The job libraries about to be deployed, as a registry. Without it job versions are not compared. */
  registry?: Pick<JobRegistry, 'fingerprint' | 'get' | 'validate'>;
  /** Decrypts the histories of encrypted runs. */
  dataConverter?: DataConverter;
  /** A revised definition: each run of the same process gets its revert plan before and after. */
  revised?: ProcessDefinition;
}

/** One payload of a history, decrypted with the data converter's codecs and converted. */
async function decodePayload<T>(payload: Payload, dataConverter: DataConverter | undefined): Promise<T | undefined> {
  const codecs = dataConverter?.payloadCodecs ?? [];
  let decoded: Payload[] = [payload];
  for (const codec of [...codecs].reverse()) decoded = await codec.decode(decoded);
  return decoded[0] ? defaultPayloadConverter.fromPayload<T>(decoded[0]) : undefined;
}

/** The run's start input (decrypted), if its first event is a Jipper process start. */
async function startInput(
  history: History,
  dataConverter: DataConverter | undefined
): Promise<ProcessInput | undefined> {
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const input = payload ? await decodePayload<ProcessInput>(payload, dataConverter) : undefined;
  return input && typeof input === 'object' && 'definition' in input ? input : undefined;
}

/**
 * The plan the run was made from and the fingerprint of each of its jobs, by job name: from the facts of its start
 * request, else from the plan the worker made (the `jipper.plan` local activity's result, recorded in a marker).
 */
async function plannedRun(
  input: ProcessInput,
  history: History,
  dataConverter: DataConverter | undefined
): Promise<{ fingerprints: Record<string, string>; plan?: Plan }> {
  if (input.jobs) {
    const fingerprints = Object.fromEntries(Object.entries(input.jobs).map(([name, f]) => [name, f.fingerprint]));
    return { fingerprints, plan: planFromFacts(input.definition, input.params ?? {}, input.jobs) };
  }
  for (const event of history.events ?? []) {
    const details = event.markerRecordedEventAttributes?.details;
    const data = details?.data?.payloads?.[0];
    const result = details?.result?.payloads?.[0];
    if (!data || !result) continue;
    const marker = await decodePayload<{ activity_type?: string }>(data, undefined).catch(() => undefined);
    if (marker?.activity_type !== PLAN_ACTIVITY) continue;
    const plan = await decodePayload<Plan>(result, dataConverter);
    const fingerprints: Record<string, string> = {};
    for (const job of plan?.jobs ?? []) if (job.fingerprint !== undefined) fingerprints[job.job] = job.fingerprint;
    return { fingerprints, ...(plan ? { plan } : {}) };
  }
  return { fingerprints: {} };
}

/** The steps whose run completed in this history (the engine's activity ids are `<stepId>.run`). */
function succeededSteps(history: History): Set<string> {
  const scheduled = new Map<string, string>();
  const done = new Set<string>();
  for (const event of history.events ?? []) {
    const id = event.activityTaskScheduledEventAttributes?.activityId;
    if (id && event.eventId !== undefined && event.eventId !== null) scheduled.set(String(event.eventId), id);
    const completed = event.activityTaskCompletedEventAttributes?.scheduledEventId;
    const activity = completed !== undefined && completed !== null ? scheduled.get(String(completed)) : undefined;
    if (activity?.endsWith('.run')) done.add(activity.slice(0, -'.run'.length));
  }
  return done;
}

/** Jobs of the run whose recorded fingerprint the new libraries do not have: gone (breaks) or changed. */
function jobDrift(
  planned: Record<string, string>,
  registry: DeployCheckOptions['registry']
): { gone: string[]; changed: string[] } {
  const gone: string[] = [];
  const changed: string[] = [];
  if (!registry) return { gone, changed };
  for (const [name, fingerprint] of Object.entries(planned)) {
    if (!registry.get(name)) gone.push(name);
    else if (registry.fingerprint(name) !== fingerprint) changed.push(name);
  }
  return { gone, changed };
}

/** `job "a"`, `jobs "a", "b"`. */
function jobNames(names: readonly string[]): string {
  return `${names.length === 1 ? 'job' : 'jobs'} ${names.map((n) => `"${n}"`).join(', ')}`;
}

/** What a failure of the run's next step reverts under `plan`. */
function revertsAt(definition: ProcessDefinition, plan: Plan, failAt: string | undefined): string[] {
  if (failAt === undefined || !plan.jobs.some((j) => j.stepId === failAt)) return [];
  const settings = {
    revertMode: definition.options?.revertMode ?? 'sequential',
    onRevertFailure: definition.options?.onRevertFailure ?? 'continue',
  } as const;
  return previewPlan(plan, definition, settings, { failAt }).revertOrder;
}

function revertPlanChange(
  input: ProcessInput,
  before: Plan | undefined,
  history: History,
  revised: ProcessDefinition,
  registry: DeployCheckOptions['registry']
): RevertPlanChange | undefined {
  if (input.definition.name !== revised.name || !before?.jobs.length) return undefined;
  const params = before.params;
  const after = registry ? registry.validate(revised, params) : planFromFacts(revised, params, input.jobs ?? {});
  const done = succeededSteps(history);
  const failAt = after.jobs.find((job) => !done.has(job.stepId))?.stepId;
  const was = revertsAt(input.definition, before, failAt);
  const will = revertsAt(revised, after, failAt);
  return {
    ...(failAt !== undefined ? { failAt } : {}),
    before: was,
    after: will,
    changed: was.join() !== will.join(),
  };
}

/** Replays the runs against the bundle; each run that does not replay gets its one-line reason. */
async function replayFailures(runs: readonly RunToCheck[], options: DeployCheckOptions): Promise<Map<string, string>> {
  const failures = new Map<string, string>();
  const histories: HistoryAndWorkflowId[] = runs.map((run) => ({ workflowId: run.workflowId, history: run.history }));
  const replayOptions = {
    ...workflowCode(options.bundlePath, encryptsFailures(options.dataConverter)),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  };
  try {
    for await (const replay of Worker.runReplayHistories(replayOptions, histories)) {
      if (!replay.error) continue;
      const kind = replay.error.name === 'DeterminismViolationError' ? 'determinism violation' : 'replay failed';
      failures.set(replay.workflowId, `${kind}: ${oneLine(replay.error)}`);
    }
  } catch (err) {
    const what = options.bundlePath !== undefined ? `bundle ${options.bundlePath}` : 'the workflow code';
    throw new BundleLoadError(`${what} does not load: ${oneLine(err)}`, { cause: err });
  }
  return failures;
}

/** Checks each run against the code about to be deployed. Never throws for a run; throws when the bundle does not load. */
export async function checkDeployRuns(
  runs: readonly RunToCheck[],
  options: DeployCheckOptions = {}
): Promise<DeployRunResult[]> {
  // A run the key ring cannot decrypt is not replayed (the replayer would log the SDK's errors for it): one line.
  const undecryptable = new Map<string, string>();
  for (const run of runs) {
    const missing = missingKeyProblem(await payloadsOf(run.history), keyRingOf(options.dataConverter), 'this check');
    if (missing !== undefined) undecryptable.set(run.workflowId, `cannot decrypt: ${missing}`);
  }
  const replayable = runs.filter((run) => !undecryptable.has(run.workflowId));
  const failures = replayable.length ? await replayFailures(replayable, options) : new Map<string, string>();
  for (const [id, why] of undecryptable) failures.set(id, why);
  const results: DeployRunResult[] = [];
  for (const run of runs) {
    const reasons: string[] = [];
    let verdict: DeployRunResult['verdict'] = 'ok';
    const failure = failures.get(run.workflowId);
    if (failure !== undefined) {
      reasons.push(failure);
      verdict = 'breaks';
    }
    const input = await startInput(run.history, options.dataConverter).catch(() => undefined);
    const planned: { fingerprints: Record<string, string>; plan?: Plan } = input
      ? await plannedRun(input, run.history, options.dataConverter).catch(() => ({ fingerprints: {} }))
      : { fingerprints: {} };
    const drift = jobDrift(planned.fingerprints, options.registry);
    if (drift.gone.length) {
      reasons.push(`${jobNames(drift.gone)} ${drift.gone.length === 1 ? 'is' : 'are'} not in the new job libraries`);
      verdict = 'breaks';
    }
    if (drift.changed.length) {
      reasons.push(`${jobNames(drift.changed)} changed since the run started (its revert or default options differ)`);
      if (verdict === 'ok') verdict = 'changed';
    }
    const revertPlan =
      input && options.revised
        ? revertPlanChange(input, planned.plan, run.history, options.revised, options.registry)
        : undefined;
    if (revertPlan?.changed && verdict === 'ok') verdict = 'changed';
    if (revertPlan?.changed) {
      reasons.push(
        `revised definition: a failure of ${revertPlan.failAt ?? '?'} would revert ${revertPlan.after.join(', ') || 'nothing'} (was ${revertPlan.before.join(', ') || 'nothing'})`
      );
    }
    results.push({
      workflowId: run.workflowId,
      ...(run.source !== undefined ? { source: run.source } : {}),
      ...(input ? { process: input.definition.name } : {}),
      verdict,
      reasons,
      ...(revertPlan ? { revertPlan } : {}),
    });
  }
  return results;
}
