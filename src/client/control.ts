/**
 * An operator acting on a running process: cancel it, settle a parked job with a decision, pause and resume its
 * forward progress, or revise the steps it has not started yet. Each refusal from the process (a step that is not
 * parked, a process that is not running, a revision that breaks the rules) is an {@link OperatorActionRejectedError}
 * carrying the process's reason.
 */
import type { Client } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { JobRegistry } from '../runtime/registry';
import { processDefinitionSchema } from '../schema/definition';
import { formatPath, jobNames } from '../shared/plan';
import type { Decision } from '../shared/report';
import type { DecideResponse } from '../workflows/messages';
import { decideUpdate, pauseUpdate, resumeUpdate, reviseUpdate } from '../workflows/messages';
import { decisionTarget } from './children';
import { DecisionRejectedError, DefinitionError, OperatorActionRejectedError } from './errors';

/** Runs an update; a refusal by the process becomes `reject(reason)`. */
async function update<T>(run: () => Promise<T>, reject: (reason: string) => Error): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause) throw reject(err.cause.message);
    throw err;
  }
}

/**
 * Sends an operator's decision to a parked job. Throws {@link DecisionRejectedError} with the process's reason when
 * that step is not parked or the decision does not fit.
 */
export async function decide(
  client: Client,
  processId: string,
  stepId: string,
  decision: Decision
): Promise<DecideResponse> {
  // A step inside a child process (`db/grant`): the child decides; the answer names the path asked.
  const target = stepId.includes('/') ? await decisionTarget(client, processId, stepId) : { processId, stepId };
  const response = await update(
    () =>
      client.workflow
        .getHandle(target.processId)
        .executeUpdate(decideUpdate, { args: [{ stepId: target.stepId, decision }] }),
    (reason) => new DecisionRejectedError(reason)
  );
  return { ...response, stepId };
}

/** Requests cancellation: forward progress stops and the process unwinds as after a failure. */
export async function cancelProcess(client: Client, processId: string): Promise<void> {
  await client.workflow.getHandle(processId).cancel();
}

/** Pauses forward progress: no further step starts, running jobs settle, then the status is `paused`. */
export async function pauseProcess(client: Client, processId: string, reason?: string): Promise<void> {
  await update(
    () => client.workflow.getHandle(processId).executeUpdate(pauseUpdate, { args: [reason ? { reason } : {}] }),
    (why) => new OperatorActionRejectedError(why)
  );
}

/** Resumes a paused process's forward progress. */
export async function resumeProcess(client: Client, processId: string): Promise<void> {
  await update(
    () => client.workflow.getHandle(processId).executeUpdate(resumeUpdate, { args: [] }),
    (why) => new OperatorActionRejectedError(why)
  );
}

export interface ReviseOptions {
  /** The workers' job libraries: the new steps are checked against them and their facts sent (new jobs need them). */
  registry: JobRegistry;
  /** The run's parameters, to check the new steps' `$param`s. */
  params?: Record<string, unknown>;
  reason?: string;
  /** Where the definition came from, for messages. */
  source?: string;
}

/**
 * Revises a running process: `definition` (the whole definition, as a file would hold it) gives the new list of steps.
 * Checked here against the job libraries (every problem at once, {@link DefinitionError}), then by the process
 * against its progress: steps that started must stay as they are ({@link OperatorActionRejectedError} otherwise).
 * Returns the step ids added and removed.
 */
export async function reviseProcess(
  client: Client,
  processId: string,
  definition: unknown,
  options: ReviseOptions
): Promise<{ added: string[]; removed: string[] }> {
  const checked = options.registry.validate(definition, options.params ?? {});
  if (checked.problems.length || !checked.definition) {
    const problems = checked.problems.length ? checked.problems : [{ path: '', message: 'not a definition' }];
    throw new DefinitionError(problems, options.source);
  }
  const parsed = processDefinitionSchema.safeParse(checked.definition);
  if (!parsed.success) {
    throw new DefinitionError(
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
      options.source
    );
  }
  const jobs = options.registry.facts(jobNames(parsed.data));
  return update(
    () =>
      client.workflow.getHandle(processId).executeUpdate(reviseUpdate, {
        args: [{ steps: parsed.data.steps, jobs, ...(options.reason ? { reason: options.reason } : {}) }],
      }),
    (why) => new OperatorActionRejectedError(why)
  );
}
