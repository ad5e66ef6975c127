/**
 * What a local job may be. A local job (`local: true`) runs its run and its revert as Temporal local activities: in
 * the worker that runs the process's workflow task, recorded when that task completes, never through a task queue.
 * So it has no heartbeat the server watches, no task-queue routing (priority, rate limit) and no resource tokens held
 * around it; and an attempt must be short, since a crash re-runs every local job since the last completed task.
 */
import { isReady } from './graph';

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

/** The most jobs one local run holds: a crash re-runs a whole run, and its marker records it only when it ends. */
export const MAX_LOCAL_RUN = 20;

/**
 * A run of local jobs from `head`: the steps that, one after another, would each start alone the moment the one before
 * it succeeded — a chain in the graph, with nothing else ready beside it. Such a run goes to the worker as one local
 * activity, which runs its jobs in order and stops at the first failure; the workflow records each job as if it had
 * run on its own. `mayJoin` says whether a step may join the run so far (a local job that reads none of the run's
 * results, say); `head` is assumed to be one. Returns the run's nodes, `head` first; a run of one is no run.
 */
export function localRun<N extends { id: string; needs: string[]; members: readonly string[]; group?: boolean }>(
  head: N,
  nodes: readonly N[],
  started: ReadonlySet<string>,
  satisfied: ReadonlySet<string>,
  mayJoin: (node: N, run: readonly N[]) => boolean,
  max = MAX_LOCAL_RUN
): N[] {
  const run = [head];
  const nowStarted = new Set(started).add(head.id);
  const nowSatisfied = new Set(satisfied);
  while (run.length < max) {
    const last = run[run.length - 1] as N;
    nowSatisfied.add(last.id);
    last.members.forEach((id) => nowSatisfied.add(id));
    const ready = nodes.filter((node) => isReady(node, nowStarted, nowSatisfied));
    const next = ready.length === 1 ? ready[0] : undefined;
    if (!next || next.group || !mayJoin(next, run)) break;
    run.push(next);
    nowStarted.add(next.id);
  }
  return run;
}
