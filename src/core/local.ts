/**
 * What a local job may be. A local job (`local: true`) runs its run and its revert as Temporal local activities: in
 * the worker that runs the process's workflow task, recorded when that task completes, never through a task queue.
 * So it has no heartbeat the server watches, no task-queue routing (priority, rate limit) and no resource tokens held
 * around it; and an attempt must be short, since a crash re-runs every local job since the last completed task.
 */

/**
 * The longest timeout of one attempt of a local job: Temporal's default local retry threshold (backoffs longer than it
 * become server timers). Past it a local activity keeps its workflow task open by heartbeating the task (every 80% of
 * the workflow task timeout, 8 s by default), and a crash loses the whole attempt: use an ordinary job.
 */
export const MAX_LOCAL_TIMEOUT_MS = 60_000;

/** The facts about one step's job that decide whether it may run locally (timeouts in ms). */
export interface LocalJobFacts {
  runTimeoutMs: number;
  revertTimeoutMs: number;
  /** The job's revert runs (it has one). */
  hasRevert: boolean;
  runHeartbeat: boolean;
  revertHeartbeat: boolean;
  priority: boolean;
  tokens: boolean;
  rateLimited: boolean;
}

/** One reason a step may not be local: the option at fault (a path under the step) and what is wrong. */
export interface LocalJobProblem {
  field: string;
  message: string;
}

/** Why a job step marked `local: true` cannot run as a local activity; empty when it can. */
export function localJobProblems(facts: LocalJobFacts): LocalJobProblem[] {
  const problems: LocalJobProblem[] = [];
  const refuse = (field: string, why: string) =>
    problems.push({ field, message: `a local job ${why}; drop it or run the job as an ordinary one (no "local")` });
  if (facts.runHeartbeat)
    refuse('heartbeatTimeout', 'has no heartbeat timeout (the server never sees a local attempt)');
  if (facts.hasRevert && facts.revertHeartbeat) {
    refuse('revert.heartbeatTimeout', 'has no heartbeat timeout (the server never sees a local attempt)');
  }
  const limit = `${MAX_LOCAL_TIMEOUT_MS / 1000}s`;
  if (facts.runTimeoutMs > MAX_LOCAL_TIMEOUT_MS) refuse('timeout', `attempt may take at most ${limit}`);
  if (facts.hasRevert && facts.revertTimeoutMs > MAX_LOCAL_TIMEOUT_MS) {
    refuse('revert.timeout', `revert attempt may take at most ${limit}`);
  }
  if (facts.priority) refuse('priority', 'has no task-queue priority (it never goes through a task queue)');
  if (facts.tokens) refuse('tokens', 'holds no resource tokens');
  if (facts.rateLimited) refuse('local', 'has no rate limit, and this job has one (its own task queue)');
  return problems;
}
