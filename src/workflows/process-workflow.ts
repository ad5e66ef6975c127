/**
 * The generic process workflow: runs any process definition (data) on the saga engine, whose rules are the saga core's
 * (`src/core`). It reads as plan, loop, end:
 *
 * 1. Check and plan. A client that has the job libraries (the `jipper` command, `startProcess` with a `registry`)
 *    checks the definition and sends what its registry knows about each job; the workflow plans from those facts
 *    (`planFromFacts`, the one planner). Otherwise — or when what arrived is malformed — the worker plans it, in the
 *    `jipper.plan` local activity, which lists every problem. A definition with problems ends the run `failed`; no job
 *    starts.
 * 2. Forward (`process-forward.ts`). The steps form a graph (`needs`, `$from`, `uses`; a plain list is a chain): every
 *    step whose needs have succeeded starts, as many side by side as the graph allows. Forward progress stops at the
 *    first failure (steps already running settle), at a cancellation, at the process's deadline (`process-time.ts`),
 *    and waits while an operator has paused it; an operator may revise the steps not yet started
 *    (`process-revise.ts`); steps and the process may hold resource tokens (`process-tokens.ts`).
 * 3. The end: `Engine.conclude` unwinds (or not: a pivot passed, a failure class not unwound) and ends the run.
 *
 * Long processes continue as new between steps and between waves of the unwinding, carrying the plan and the state
 * (`process-carry.ts`).
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  scheduleLocalActivity,
  workflowInfo,
} from '@temporalio/workflow';
import { initialState, restoreRowResult } from '../core';
import type { ProcessDefinition } from '../schema/definition';
import { PLAN_ACTIVITY } from '../shared/calls';
import { INVALID_DEFINITION_TYPE, TOKEN_WAIT_TYPE } from '../shared/errors';
import { inputShapeProblems } from '../shared/input-shape';
import type { Plan } from '../shared/plan';
import { formatProblems, planFromFacts, planRows } from '../shared/plan';
import type { ProcessReport } from '../shared/report';
import { isRecord } from '../shared/text';
import { resolveTokens } from '../shared/tokens';
import type { EngineSettings } from './engine';
import { Engine, initialReport } from './engine';
import { Carrier } from './process-carry';
import {
  Children,
  childResult,
  heldTokenHolders,
  releaseHolders,
  unwindForParent,
  unwindState,
} from './process-children';
import { Forward } from './process-forward';
import { ProcessHooks } from './process-hooks';
import { LocalRuns } from './process-local-run';
import type { ProcessContext, ProcessInput } from './process-input';
import { handleRevisions } from './process-revise';
import { ProcessDeadline, StartWindow } from './process-time';
import { TokenDesk } from './process-tokens';

export type { CarriedState, ProcessInput } from './process-input';

export async function jipperProcess(given: ProcessInput): Promise<ProcessReport> {
  const hooks = new ProcessHooks();
  return hooks.around(() => runProcess(given, hooks));
}

async function runProcess(given: ProcessInput, hooks: ProcessHooks): Promise<ProcessReport> {
  const info = workflowInfo();
  const shape = inputShapeProblems(given);
  // A raw start may send anything, `null` included: what is not an object is read as an empty one, so the run ends
  // failed with the shape problem rather than failing its workflow task forever.
  const input: ProcessInput = isRecord(given) ? given : ({} as ProcessInput);
  const { definition, carried } = input;
  const state =
    carried?.state ??
    unwindState(input) ??
    initialState(
      initialReport(
        info.workflowId,
        shape.length ? nameOf(definition) : definition.name,
        shape.length ? [] : planRows(definition)
      )
    );
  state.report.runId = info.runId;
  // A carried report's rows come without their results (carried once, in `results`): put them back.
  if (carried) for (const row of state.report.jobs) restoreRowResult(row, state.results);
  const options = shape.length ? undefined : definition.options;
  const engine: Engine = new Engine(state, engineSettings(options));

  // 1. Check and plan. Planning is not cancellable: a process cancelled before its first job still gets its report.
  const plan = carried?.plan ?? (await planProcess(input, shape));
  if (plan.problems.length) {
    state.report.error = { type: INVALID_DEFINITION_TYPE, message: formatProblems(plan.problems) };
    engine.finish('failed');
    throw ApplicationFailure.create({
      type: INVALID_DEFINITION_TYPE,
      message: `process ${state.report.name} rejected before any job ran: ${state.report.error.message}`,
      nonRetryable: true,
      details: [state.report, plan.problems],
    });
  }
  engine.register(plan.jobs, plan.nodes);
  engine.waits.params = plan.params;
  const ctx: ProcessContext = {
    workflowId: info.workflowId,
    taskQueue: info.taskQueue,
    definition,
    plan,
    state,
    options,
    ...(input.child ? { child: input.child } : {}),
  };
  hooks.attach(ctx, engine);
  engine.children = new Children(ctx, input);
  const carrier = new Carrier(ctx);
  if (input.child?.unwind || input.child?.reverting) return unwindForParent(ctx, engine, carrier);
  let cancelled = carried?.cancelled ?? false;
  if ((carried?.phase ?? 'forward') === 'unwinding')
    return engine.unwindAndEnd(
      cancelled,
      carrier.unwinding(() => cancelled)
    );

  // 2. Forward.
  const window = new StartWindow(ctx, info.startTime, input.startDelayMs);
  const tokens = new TokenDesk(ctx);
  const localRuns = new LocalRuns(ctx, engine, hooks);
  const forward = new Forward(ctx, engine, tokens, () => window.firstJobOptions(), carrier, carried, localRuns);
  const deadline = new ProcessDeadline(options?.deadline, state.report.startedAt, engine);
  handleRevisions(ctx, engine, forward);
  forward.stop = window.missed(carried !== undefined);
  // The process's own tokens, before its first step.
  if (forward.stop === undefined && !carried && options?.tokens?.length) {
    try {
      const claims = resolveTokens(options.tokens, plan.params, {}, 'options.tokens');
      await deadline.run(() =>
        tokens.acquire(`${info.workflowId}/(process)`, claims, options.waitFor, options.priority ?? 3)
      );
    } catch (err) {
      forward.stop = isCancellation(err)
        ? err
        : ApplicationFailure.create({ type: TOKEN_WAIT_TYPE, message: (err as Error).message, nonRetryable: true });
    }
  }
  await deadline.run(() =>
    forward.run(
      cancelled,
      () => deadline.reached,
      () => deadline.stop()
    )
  );
  deadline.cancelTimer();
  let stop = forward.stop;
  if (stop === undefined && forward.complete) {
    const report = engine.finish('succeeded');
    // A child's tokens (and its children's) stay held while its effects stand; the top of the tree gives them back.
    if (input.child) return childResult(report, ctx);
    if (tokens.asked) await tokens.release();
    await releaseHolders(heldTokenHolders(state));
    return report;
  }
  if (deadline.reached && (stop === undefined || isCancellation(stop))) stop = deadline.stop();
  cancelled = isCancellation(stop);

  // 3. The end. Tokens go back once the process has settled: after its reverts, never before.
  try {
    return await engine.conclude(
      stop,
      carrier.unwinding(() => cancelled)
    );
  } finally {
    if (tokens.asked) await tokens.release();
    await releaseHolders(heldTokenHolders(state));
  }
}

/** Plans the input: from the client's job facts when they came and the input is well formed, else on the worker. */
async function planProcess(input: ProcessInput, shape: ReturnType<typeof inputShapeProblems>): Promise<Plan> {
  if (!shape.length && input.jobs) return planFromFacts(input.definition, input.params ?? {}, input.jobs);
  try {
    const plan = await CancellationScope.nonCancellable(() =>
      scheduleLocalActivity<Plan>(PLAN_ACTIVITY, [input.definition, input.params ?? {}], {
        startToCloseTimeout: '30s',
        retry: { maximumAttempts: 3 },
      })
    );
    // The worker checks the definition and params only: a malformed input it does not see (`jobs` that are not an
    // object, `params` that are not one) is still a problem, or the run would go on without its report rows.
    const unseen = shape.filter((s) => !plan.problems.some((p) => p.path === s.path));
    return unseen.length ? { ...plan, problems: [...plan.problems, ...unseen] } : plan;
  } catch (err) {
    // The worker could not even read it: what the shape check found is the answer.
    if (shape.length) return { problems: shape, params: {}, jobs: [] };
    throw err;
  }
}

function engineSettings(options: ProcessDefinition['options']): EngineSettings {
  return {
    revertMode: options?.revertMode ?? 'sequential',
    onRevertFailure: options?.onRevertFailure ?? 'continue',
    ...(options?.priority !== undefined ? { priority: options.priority } : {}),
    ...(options?.fairnessKey !== undefined ? { fairnessKey: options.fairnessKey } : {}),
    ...(options?.fairnessWeight !== undefined ? { fairnessWeight: options.fairnessWeight } : {}),
  };
}

function nameOf(definition: unknown): string {
  const name = (definition as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? name : '(unnamed)';
}
