/**
 * The generic process workflow: runs any process definition (data) on the saga engine.
 *
 * 1. Check and plan. A client that has the job libraries (the `jipper` command, `startProcess` with a `registry`)
 *    checks the definition and sends what its registry knows about each job; the workflow plans from those facts
 *    (`planFromFacts`, the one planner). Otherwise — or when what arrived is malformed — the worker plans it, in the
 *    `jipper.plan` local activity, which lists every problem. A definition with problems ends the run `failed`; no job
 *    starts.
 * 2. Forward. The steps form a graph (`needs`, `$from`, `uses`; a plain list is a chain): every step whose needs have
 *    succeeded starts, as many side by side as the graph allows. Forward progress stops at the first failure (steps
 *    already running settle), at a cancellation, at the process's deadline, and waits while an operator has paused it.
 * 3. The end: `Engine.conclude` unwinds (or not: a pivot passed, a failure class not unwound) and ends the run.
 *
 * Long processes continue as new between steps and between waves of the unwinding, carrying the plan and the state.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  scheduleActivity,
  setHandler,
  isCancellation,
  log,
  scheduleLocalActivity,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/common';
import type { ProcessDefinition, Step } from '../schema/definition';
import { PLAN_ACTIVITY } from '../shared/calls';
import {
  DEADLINE_TYPE,
  INVALID_DEFINITION_TYPE,
  NOT_STARTED_TYPE,
  TOKEN_WAIT_TYPE,
  UNRESOLVED_REFERENCE_TYPE,
} from '../shared/errors';
import type { TokenClaim } from '../shared/tokens';
import { TOKENS_REQUEST_ACTIVITY, resolveTokens, tokenKeeperId } from '../shared/tokens';
import { tokensGrantedSignal, tokensRefusedSignal, tokensReleaseSignal, tokensWithdrawSignal } from './messages';
import { inputShapeProblems } from '../shared/input-shape';
import { CONTINUE_AS_NEW_AFTER_BYTES, DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS, MAX_CARRIED_CHARS } from '../shared/limits';
import { durationMs } from '../shared/options';
import type { JobFacts, Plan, PlanNode, PlannedJob } from '../shared/plan';
import { factsOf, formatProblems, paramProblems, planFromFacts, planNodes, planRows } from '../shared/plan';
import { canonicalJson, isRecord } from '../shared/text';
import { resolveRefs } from '../shared/refs';
import type { JobReport, ProcessReport } from '../shared/report';
import { isGroupStep } from '../shared/steps';
import type { EngineState } from './engine';
import { Engine, JobFailedError, initialReport, initialState, rejectWith } from './engine';
import { nowIso, nowMs } from './clock';
import type { ReviseRequest } from './messages';
import { reviseUpdate } from './messages';

export interface ProcessInput {
  definition: ProcessDefinition;
  /** Parameter values for this run; they override the definition's `params` defaults. */
  params?: Record<string, unknown>;
  /**
   * What the starting client's job registry knows about each job the definition uses (see `planFromFacts`). With it
   * the workflow plans the definition itself; without it the worker plans it (a local activity).
   */
  jobs?: Record<string, JobFacts>;
  /**
   * The start delay the client asked for (`startAt` / `startDelay`), in ms: the process begins that long after its
   * start time, and its start tolerance counts from then.
   */
  startDelayMs?: number;
  /** Set by continue-as-new only: where the previous run stopped. */
  carried?: CarriedState;
}

export interface CarriedState {
  plan: Plan;
  state: EngineState;
  /** Index of the first step not yet done (forward phase); kept for runs carried by older code. */
  cursor: number;
  /** The graph nodes that have succeeded (forward phase). */
  done?: string[];
  phase: 'forward' | 'unwinding';
  cancelled: boolean;
}

export async function jipperProcess(given: ProcessInput): Promise<ProcessReport> {
  const info = workflowInfo();
  const shape = inputShapeProblems(given);
  // A raw start may send anything, `null` included: what is not an object is read as an empty one, so the run ends
  // failed with the shape problem rather than failing its workflow task forever.
  const input: ProcessInput = isRecord(given) ? given : ({} as ProcessInput);
  const definition = input.definition;
  const carried = input.carried;
  const state =
    carried?.state ??
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
  const engine: Engine = new Engine(state, {
    revertMode: options?.revertMode ?? 'sequential',
    onRevertFailure: options?.onRevertFailure ?? 'continue',
    ...(options?.priority !== undefined ? { priority: options.priority } : {}),
    ...(options?.fairnessKey !== undefined ? { fairnessKey: options.fairnessKey } : {}),
    ...(options?.fairnessWeight !== undefined ? { fairnessWeight: options.fairnessWeight } : {}),
  });

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
  let nodes: readonly PlanNode[] = plan.nodes ?? planNodes(definition);
  engine.register(plan.jobs, plan.nodes);

  const limit = options?.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;
  let carryTooLarge = false;
  /**
   * Whether to continue as new now: at `limit` events, or at {@link CONTINUE_AS_NEW_AFTER_BYTES} of history. Not at
   * Temporal's suggestion (4,096 events): each continue-as-new writes the whole carried state into the history twice,
   * so continuing early makes a long process's history grow with the square of its steps.
   */
  const shouldContinueAsNew = () => {
    if (carryTooLarge) return false;
    const now = workflowInfo();
    return now.historyLength >= limit || now.historySize >= CONTINUE_AS_NEW_AFTER_BYTES;
  };
  /**
   * Continues as new, carrying the state. Not cancellable: a cancelled process that continues as new while unwinding
   * must still carry its revert stack. When the state is too large for one payload, Temporal would refuse the
   * continue-as-new, and keep refusing: the run goes on in this history instead (and says so in its log).
   */
  const carryOn = async (next: Omit<CarriedState, 'plan' | 'state'>): Promise<void> => {
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    const report = {
      ...state.report,
      continuedAsNew: (state.report.continuedAsNew ?? 0) + 1,
      jobs: state.report.jobs.map((row) => withoutCarriedResult(row, state.results)),
    };
    const carriedState: CarriedState = { plan, state: { ...state, report }, ...next };
    const chars = JSON.stringify({ definition, carried: carriedState }).length;
    if (chars > MAX_CARRIED_CHARS) {
      carryTooLarge = true;
      log.warn('the process state is too large to continue as new; going on in this run', {
        chars,
        limit: MAX_CARRIED_CHARS,
      });
      return;
    }
    await continueAsNew<typeof jipperProcess>({ definition, carried: carriedState });
  };

  let cancelled = carried?.cancelled ?? false;
  if ((carried?.phase ?? 'forward') === 'unwinding') {
    return engine.unwindAndEnd(cancelled, {
      shouldPause: shouldContinueAsNew,
      carry: () => carryOn({ cursor: definition.steps.length, phase: 'unwinding', cancelled }),
    });
  }

  // 2. Forward.
  const done = new Set<string>(carried?.done ?? nodes.slice(0, carried?.cursor ?? 0).map((node) => node.id));
  const satisfied = new Set<string>();
  for (const node of nodes) {
    if (done.has(node.id)) [node.id, ...node.members].forEach((id) => satisfied.add(id));
  }
  for (const row of state.report.jobs)
    if (row.status === 'succeeded' || row.status === 'skipped') satisfied.add(row.stepId);

  const stepOf = new Map<string, Step>();
  const mapSteps = () => {
    stepOf.clear();
    definition.steps.forEach((step, i) => stepOf.set(nodes[i]?.id ?? '', step));
  };
  mapSteps();

  /** A job's args with references resolved; a reference that cannot be resolved fails the job (throws). */
  const resolveArgs = (stepId: string, args: Record<string, unknown> | undefined): unknown => {
    try {
      return resolveRefs(args ?? {}, plan.params, state.results, `steps.${stepId}.args`);
    } catch (err) {
      const error = { type: UNRESOLVED_REFERENCE_TYPE, message: (err as Error).message };
      const row = engine.jobReport(stepId);
      Object.assign(row, { status: 'failed', error });
      throw new JobFailedError(stepId, error);
    }
  };

  // Start tolerance: the first jobs must start within `startWithin` of the process's start (a delayed start's end).
  const startWithinMs = options?.startWithin !== undefined ? durationMs(options.startWithin) : undefined;
  const dueAt = info.startTime.getTime() + (typeof input.startDelayMs === 'number' ? input.startDelayMs : 0);
  const firstJobOptions = (): Partial<ActivityOptions> => {
    if (startWithinMs === undefined || state.completedCount > 0) return {};
    const left = startWithinMs - (nowMs() - dueAt);
    return { scheduleToStartTimeout: Math.max(1, left) };
  };

  // Resource tokens: asked of the task queue's keeper, granted (or refused) by its signal, held until the process ends.
  const grants = new Map<string, number>();
  const refusals = new Map<string, string>();
  setHandler(tokensGrantedSignal, ({ requestId, waitedMs }) => void grants.set(requestId, waitedMs));
  setHandler(tokensRefusedSignal, ({ requestId, reason }) => void refusals.set(requestId, reason));
  let tokensAsked = false;
  const keeper = () => getExternalWorkflowHandle(tokenKeeperId(info.taskQueue));
  /** Asks for tokens and waits for them (at most `waitFor`); returns how long it waited, or throws why not. */
  const acquireTokens = async (
    requestId: string,
    claims: TokenClaim[],
    waitFor: string | number | undefined,
    priority: number
  ): Promise<number> => {
    tokensAsked = true;
    await scheduleActivity(
      TOKENS_REQUEST_ACTIVITY,
      [{ taskQueue: info.taskQueue, request: { requestId, processId: info.workflowId, claims, priority } }],
      {
        startToCloseTimeout: '30s',
        retry: { maximumAttempts: 10 },
        summary: `ask for tokens ${claims.map((c) => c.name).join(', ')}`,
      }
    );
    const waitMs = durationMs(waitFor ?? options?.waitFor ?? '5m');
    const withdraw = () => CancellationScope.nonCancellable(() => keeper().signal(tokensWithdrawSignal, { requestId }));
    let answered: boolean;
    try {
      answered = await condition(() => grants.has(requestId) || refusals.has(requestId), waitMs);
    } catch (err) {
      await withdraw();
      throw err;
    }
    const names = claims.map((c) => (c.count > 1 ? `${c.name}×${c.count}` : c.name)).join(', ');
    const refused = refusals.get(requestId);
    if (refused !== undefined) throw new Error(`tokens ${names} refused: ${refused}`);
    if (!answered) {
      await withdraw();
      throw new Error(`tokens ${names} not available within ${String(waitFor ?? options?.waitFor ?? '5m')}`);
    }
    return grants.get(requestId) ?? 0;
  };
  const tokenFailure = (stepId: string, err: unknown): JobFailedError =>
    new JobFailedError(stepId, { type: TOKEN_WAIT_TYPE, message: (err as Error).message });

  /**
   * Starts a step's job: its tokens first when it claims any, then its run. A job without tokens starts at once, with
   * no promise of its own (the common path: every workflow promise costs the SDK a captured stack).
   */
  const startJob = (stepId: string, args: Record<string, unknown> | undefined, unit?: string[]): Promise<unknown> => {
    const planned = engine.plannedOf(stepId);
    if (planned?.tokens?.length) return startJobWithTokens(stepId, args, planned, unit);
    try {
      return engine.runJob(stepId, resolveArgs(stepId, args), unit, firstJobOptions());
    } catch (err) {
      return rejectWith(err);
    }
  };
  const startJobWithTokens = async (
    stepId: string,
    args: Record<string, unknown> | undefined,
    planned: PlannedJob,
    unit: string[] | undefined
  ): Promise<unknown> => {
    let claims: TokenClaim[];
    try {
      claims = resolveTokens(planned.tokens ?? [], plan.params, state.results, `steps.${stepId}.tokens`);
    } catch (err) {
      throw tokenFailure(stepId, err);
    }
    const priority = planned.options.priority ?? options?.priority ?? 3;
    let waitedMs: number;
    try {
      waitedMs = await acquireTokens(`${info.workflowId}/${stepId}`, claims, planned.waitFor, priority);
    } catch (err) {
      if (isCancellation(err)) throw err;
      throw tokenFailure(stepId, err);
    }
    engine.tokensWaited(stepId, waitedMs);
    return engine.runJob(stepId, resolveArgs(stepId, args), unit, firstJobOptions());
  };

  const runNode = (node: PlanNode): Promise<unknown> => {
    const step = stepOf.get(node.id) as Step;
    if (!isGroupStep(step)) return startJob(step.id, step.args);
    const group = step;
    const needed =
      group.succeedWhen === undefined || group.succeedWhen === 'all'
        ? group.parallel.length
        : group.succeedWhen === 'any'
          ? 1
          : group.succeedWhen;
    return engine.runGroup(
      group.parallel.map((job) => (unit: string[]) => startJob(job.id, job.args, unit)),
      group.pivot,
      needed < group.parallel.length ? { needed, stepIds: group.parallel.map((m) => m.id) } : undefined
    );
  };

  // The process's deadline: when it is reached, forward progress stops and the process unwinds. Only a process with
  // a deadline runs its forward pass in a cancellation scope: the first scope a workflow runs switches Node's async
  // hooks on for its whole thread, and every promise after that costs more.
  const deadline = options?.deadline;
  let deadlineReached = false;
  let forward: CancellationScope | undefined;
  let deadlineScope: CancellationScope | undefined;
  if (deadline !== undefined) {
    const scope = (forward = new CancellationScope());
    const left = durationMs(deadline) - (nowMs() - Date.parse(state.report.startedAt));
    void (deadlineScope = new CancellationScope())
      .run(() => sleep(Math.max(1, left)))
      .then(
        () => {
          deadlineReached = true;
          engine.cutRunning(`the process's deadline (${String(deadline)}) was reached`);
          scope.cancel();
        },
        () => undefined
      );
  }
  const inForward = <T>(fn: () => Promise<T>): Promise<T> => (forward ? forward.run(fn) : fn());

  // The forward pass is driven by settlements: a step that settles starts the steps it made ready, at once and in the
  // same activation; the forward loop below wakes only when nothing runs (to finish, stop, pause or continue as new)
  // or when a revision changed the steps.
  let stop: unknown;
  let running = 0;
  let wake: (() => void) | undefined;
  const nudge = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const mayStart = () => stop === undefined && !engine.pausedByOperator;
  /** Starts every step whose needs are met. */
  const startReady = (): void => {
    for (const node of nodes) {
      if (!ready(node)) continue;
      started.add(node.id);
      start(node);
    }
  };
  const settled = () => {
    running -= 1;
    if (mayStart() && !(running === 0 && shouldContinueAsNew())) startReady();
    if (running === 0) nudge();
  };
  const start = (node: PlanNode) => {
    running += 1;
    void runNode(node).then(
      () => {
        done.add(node.id);
        satisfied.add(node.id);
        for (const member of node.members) {
          const status = engine.jobReport(member).status;
          if (status === 'succeeded' || status === 'skipped') satisfied.add(member);
        }
        settled();
      },
      (err: unknown) => {
        // The first failure decides; a cancellation wins over a failure that came with it.
        if (stop === undefined || (isCancellation(err) && !(stop instanceof JobFailedError))) stop = err;
        settled();
      }
    );
  };
  const started = new Set<string>(done);
  const ready = (node: PlanNode) => !started.has(node.id) && node.needs.every((name) => satisfied.has(name));

  // An operator's revision of the steps not yet started (a validated update; the history records each).
  setHandler(
    reviseUpdate,
    (request) => {
      const revised = planRevision(request);
      const before = new Set(plan.jobs.map((job) => job.stepId));
      const after = new Set(revised.jobs.map((job) => job.stepId));
      const added = [...after].filter((id) => !before.has(id));
      const removed = [...before].filter((id) => !after.has(id));
      for (const id of removed) engine.unplan(id);
      definition.steps = request.steps;
      Object.assign(plan, { jobs: revised.jobs, nodes: revised.nodes });
      nodes = revised.nodes ?? planNodes(definition);
      mapSteps();
      engine.register(revised.jobs, revised.nodes);
      for (const job of revised.jobs) if (added.includes(job.stepId)) engine.plan(job);
      // Rows in the revised definition's order.
      const order = new Map(planRows(definition).map((row, i) => [row.stepId, i]));
      state.report.jobs.sort((a, b) => (order.get(a.stepId) ?? 0) - (order.get(b.stepId) ?? 0));
      (state.report.revisions ??= []).push({
        at: nowIso(),
        ...(request.reason ? { reason: request.reason } : {}),
        added,
        removed,
      });
      engine.publish();
      nudge();
      return { added, removed };
    },
    { validator: (request: ReviseRequest) => void planRevision(request) }
  );
  /** Plans a revision, or throws why it cannot be made (the update's validator: nothing changes then). */
  const planRevision = (request: ReviseRequest): Plan => {
    const status = state.report.status;
    if (status !== 'running' && status !== 'paused') {
      throw new Error(`process ${info.workflowId} is ${status}: only a process going forward can be revised`);
    }
    if (!isRecord(request) || !Array.isArray(request.steps)) throw new Error('a revision needs the new list of steps');
    const revisedDefinition = { ...definition, steps: request.steps };
    const shapeProblems = inputShapeProblems({ definition: revisedDefinition });
    if (shapeProblems.length) throw new Error(`the revised steps are malformed: ${formatProblems(shapeProblems)}`);
    // The run's own parameters (a continued run's input carries none: they are in its plan).
    const revised = planFromFacts(revisedDefinition, plan.params, { ...factsOf(plan), ...(request.jobs ?? {}) });
    const problems = [...revised.problems, ...paramProblems(revisedDefinition, revised.params)];
    const revisedNodes = revised.nodes ?? [];
    for (const node of nodes) {
      if (!started.has(node.id)) continue;
      const i = revisedNodes.findIndex((n) => n.id === node.id);
      // Compared by meaning: the same keys in another order are the same step.
      const now = canonicalJson(revisedDefinition.steps[i]);
      if (i < 0 || now !== canonicalJson(stepOf.get(node.id))) {
        problems.push({ path: `steps`, message: `step "${node.id}" has started: it must stay as it is` });
      }
    }
    if (problems.length) throw new Error(`the revision is refused: ${formatProblems(problems)}`);
    return revised;
  };

  if (startWithinMs !== undefined && !carried && nowMs() - dueAt > startWithinMs) {
    stop = notStarted(options?.startWithin);
  }
  // The process's own tokens, before its first step.
  if (stop === undefined && !carried && options?.tokens?.length) {
    try {
      const claims = resolveTokens(options.tokens, plan.params, {}, 'options.tokens');
      await inForward(() =>
        acquireTokens(`${info.workflowId}/(process)`, claims, options.waitFor, options.priority ?? 3)
      );
    } catch (err) {
      stop = isCancellation(err)
        ? err
        : ApplicationFailure.create({ type: TOKEN_WAIT_TYPE, message: (err as Error).message, nonRetryable: true });
    }
  }
  await inForward(async () => {
    for (;;) {
      if (mayStart()) {
        if (running === 0 && shouldContinueAsNew()) {
          await carryOn({ cursor: firstPending(nodes, done), done: [...done], phase: 'forward', cancelled });
        }
        startReady();
      }
      if (done.size === nodes.length || (stop !== undefined && running === 0)) return;
      if (running === 0 && mayStart()) {
        const waiting = nodes.filter((node) => !started.has(node.id)).map((node) => node.id);
        stop = ApplicationFailure.create({
          type: UNRESOLVED_REFERENCE_TYPE,
          message: `no step can start: ${waiting.join(', ')} wait for steps that did not succeed`,
          nonRetryable: true,
        });
        return;
      }
      if (running > 0) {
        // Settlements start what they make ready; wake when nothing runs any more, or the steps were revised.
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      try {
        await engine.whilePaused();
      } catch (err) {
        if (!isCancellation(err)) throw err;
        stop = deadlineReached ? deadlineStop(deadline) : err;
        return;
      }
    }
  });
  deadlineScope?.cancel();
  const releaseTokens = () =>
    CancellationScope.nonCancellable(() => keeper().signal(tokensReleaseSignal, { processId: info.workflowId }));
  if (stop === undefined && done.size === nodes.length) {
    const report = engine.finish('succeeded');
    if (tokensAsked) await releaseTokens();
    return report;
  }
  if (deadlineReached && (stop === undefined || isCancellation(stop))) stop = deadlineStop(deadline);
  cancelled = isCancellation(stop);

  // 3. The end. Tokens go back once the process has settled: after its reverts, never before.
  try {
    return await engine.conclude(stop, {
      shouldPause: shouldContinueAsNew,
      carry: () => carryOn({ cursor: definition.steps.length, phase: 'unwinding', cancelled }),
    });
  } finally {
    if (tokensAsked) await releaseTokens();
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

/** A report row to carry: without its result when `results` carries that very value (the next run restores it). */
function withoutCarriedResult(row: JobReport, results: Record<string, unknown>): JobReport {
  if (row.result === undefined || row.result !== results[row.stepId]) return row;
  const { result: _carriedInResults, ...rest } = row;
  return rest;
}

function restoreRowResult(row: JobReport, results: Record<string, unknown>): void {
  if (row.result === undefined && Object.hasOwn(results, row.stepId) && row.status !== 'pending') {
    row.result = results[row.stepId];
  }
}

function nameOf(definition: unknown): string {
  const name = (definition as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? name : '(unnamed)';
}

function firstPending(nodes: readonly PlanNode[], done: ReadonlySet<string>): number {
  const index = nodes.findIndex((node) => !done.has(node.id));
  return index < 0 ? nodes.length : index;
}

/** The stop of a process whose first job did not start within `startWithin`: every job `not_run`, nothing to undo. */
function notStarted(startWithin: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: NOT_STARTED_TYPE,
    message: `the first job had not started within ${String(startWithin)} of the process's start (no worker, or a backlog)`,
    nonRetryable: true,
  });
}

function deadlineStop(deadline: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type: DEADLINE_TYPE,
    message: `the process's deadline (${String(deadline)}) was reached`,
    nonRetryable: true,
  });
}
