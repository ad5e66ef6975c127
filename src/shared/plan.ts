/**
 * The one planner: from a checked definition and the facts of its jobs, each job's effective options and the order
 * the steps run in, as a graph. Pure and zod-free — the workflow plans with it, and so does every check of a
 * definition (`validateDefinition`), so the two cannot disagree.
 *
 * Order: a step waits for the steps it `needs`, for the steps its args take results from (`$from`) and the steps it
 * `uses`; a step without `needs` also waits for the step before it in the list, so a plain list runs in order. A
 * parallel group is one node of the graph: its members start together once the group's needs succeeded.
 */
import type { JobStep, ProcessDefinition, Step, TokenSpec } from '../schema/definition';
import type { WaitSpec } from '../core/waits';
import { CHILD_FACTS, childDefinition, isChildStep } from './children';
import type { EffectiveJobOptions, JobMeta } from './options';
import { mergeJobOptions } from './options';
import { findRefs } from './refs';
import { isGroupStep, stepJobs } from './steps';
import { isRecord } from './text';

/** A job at a step, as the engine runs it. */
export interface PlannedJob {
  stepId: string;
  job: string;
  /** The parallel group it belongs to (its id, or `parallel`). */
  group?: string;
  /** The step is the pivot (for a group member: its group is). */
  pivot?: boolean;
  hasRevert: boolean;
  /** The job has a probe (see `JobDefinition.probe`). */
  hasProbe?: boolean;
  /** The job's runs go through a rate-limited task queue of their own (see `JobDefinition.rateLimit`). */
  ratePerSecond?: number;
  options: EffectiveJobOptions;
  /** What the planning registry knew of the job (revert, default options), hashed; see `JobRegistry.fingerprint`. */
  fingerprint?: string;
  /** The earlier steps whose results its call carries (`$from` targets, `needs` that are jobs, `uses`). */
  uses?: string[];
  /** Resource tokens it holds (names not yet resolved). */
  tokens?: TokenSpec[];
  /** How long it waits for its tokens. */
  waitFor?: string | number;
  /** The step waits for an approval or an event instead of running a job (`job` is `$approval` / `$event`). */
  wait?: WaitSpec;
}

/** A node of the process's graph: a job step, or a parallel group with its members. */
export interface PlanNode {
  /** The step id of a job step, the id of a group, or `steps[i]` for a group without an id. */
  id: string;
  /** Its jobs' step ids, in definition order (one for a job step). */
  members: string[];
  group?: boolean;
  /** What it waits for: step ids of jobs or ids of groups, each of which must have succeeded. */
  needs: string[];
  /** For a group: how many members must succeed (`all` unless the group says otherwise). */
  succeedWhen?: 'all' | 'any' | number;
  pivot?: boolean;
}

/** One thing wrong with a definition, and where: a path such as `steps[2].parallel[0].args.sizeMb`. */
export interface Problem {
  path: string;
  message: string;
}

export interface Plan {
  problems: Problem[];
  /** The run's parameters: the definition's defaults overridden by the run's values. */
  params: Record<string, unknown>;
  /** Every job of the definition with its effective options, in definition order. */
  jobs: PlannedJob[];
  /** The steps as a graph, in definition order (absent in plans made before graphs: read them as a list). */
  nodes?: PlanNode[];
  /** The facts the plan was made from, by job name (absent when the worker planned). */
  facts?: Record<string, JobFacts>;
}

/** What the planner knows of a wait step: nothing to revert, no defaults of a job's own. */
const WAIT_FACTS: JobFacts = { name: 'wait', hasRevert: false, defaults: {}, fingerprint: 'wait' };

/** Formats paths like `steps[2].args.sizeMb` from zod/issue paths. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`))
    .join('');
}

/** One line per problem: `steps[1].job: unknown job "allocate-volum" (did you mean "allocate-volume"?)`. */
export function formatProblems(problems: readonly Problem[]): string {
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return (
    `${problems.length} ${noun}:\n` + problems.map((p) => `  - ${p.path || '(definition)'}: ${p.message}`).join('\n')
  );
}

/**
 * What a client's job registry knows about a job, sent with the start request so the workflow can plan without asking
 * the worker: whether it has a revert (and a probe), its default options, and the fingerprint of all of it
 * (`JobRegistry.fingerprint`), which the job's activity checks against its own.
 */
export interface JobFacts extends JobMeta {
  fingerprint: string;
}

/** Facts as `JobRegistry.facts` makes them: a revert flag, a fingerprint, and default options as an object. */
function wellFormed(facts: unknown): facts is JobFacts {
  if (!isRecord(facts) || typeof facts.hasRevert !== 'boolean' || typeof facts.fingerprint !== 'string') return false;
  if (facts.hasProbe !== undefined && typeof facts.hasProbe !== 'boolean') return false;
  if (facts.ratePerSecond !== undefined && !(typeof facts.ratePerSecond === 'number' && facts.ratePerSecond > 0)) {
    return false;
  }
  const { defaults } = facts;
  return (
    isRecord(defaults) &&
    (defaults.retry === undefined || isRecord(defaults.retry)) &&
    (defaults.revert === undefined ||
      (isRecord(defaults.revert) && (defaults.revert.retry === undefined || isRecord(defaults.revert.retry))))
  );
}

/** The id of a step's graph node. */
export function nodeId(step: Step, index: number): string {
  return isGroupStep(step) ? (step.id ?? `steps[${index}]`) : step.id;
}

/** The step ids a job step reads results of: its `$from` targets and its `uses`. */
export function resultTargets(step: JobStep): string[] {
  const fromArgs = findRefs(step.args ?? {})
    .filter((ref) => ref.kind === 'from')
    .map((ref) => ref.target);
  return unique([...fromArgs, ...(step.uses ?? [])]);
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/**
 * The graph of a definition's steps. Every name a node needs is returned as written; {@link graphProblems} says which
 * are unknown and whether there is a cycle.
 */
export function planNodes(definition: Pick<ProcessDefinition, 'steps'>): PlanNode[] {
  return definition.steps.map((step, i) => {
    const members = stepJobs(step);
    const reads = unique(members.flatMap(resultTargets)).filter((id) => !members.some((m) => m.id === id));
    const previous = i > 0 ? [nodeId(definition.steps[i - 1] as Step, i - 1)] : [];
    const needs = unique([...(step.needs ?? previous), ...reads]);
    const node: PlanNode = { id: nodeId(step, i), members: members.map((m) => m.id), needs };
    if (isGroupStep(step)) {
      node.group = true;
      node.succeedWhen = step.succeedWhen ?? 'all';
    }
    if (step.pivot) node.pivot = true;
    return node;
  });
}

/**
 * Problems of a graph, with paths: a need that names nothing, a member's `needs` (put them on its group), a `$from`
 * into its own group, and a cycle (named, e.g. `a → b → a`).
 */
export function graphProblems(
  definition: Pick<ProcessDefinition, 'steps'>,
  nodes: readonly PlanNode[],
  options: { cycles?: boolean } = {}
): Problem[] {
  const problems: Problem[] = [];
  const nodeOf = new Map<string, number>();
  nodes.forEach((node, i) => {
    nodeOf.set(node.id, i);
    for (const member of node.members) nodeOf.set(member, i);
  });
  definition.steps.forEach((step, i) => {
    step.needs?.forEach((name, j) => {
      if (!nodeOf.has(name))
        problems.push({ path: `steps[${i}].needs[${j}]`, message: `no step "${name}" in this process` });
      else if (nodeOf.get(name) === i)
        problems.push({ path: `steps[${i}].needs[${j}]`, message: `a step cannot need itself` });
    });
    if (isGroupStep(step)) {
      step.parallel.forEach((member, j) => {
        if (member.needs) {
          problems.push({
            path: `steps[${i}].parallel[${j}].needs`,
            message: 'a member of a parallel group cannot have needs of its own: put them on the group',
          });
        }
        member.uses?.forEach((name, k) => {
          if (!nodeOf.has(name)) {
            problems.push({
              path: `steps[${i}].parallel[${j}].uses[${k}]`,
              message: `no step "${name}" in this process`,
            });
          }
        });
      });
      const succeedWhen = step.succeedWhen;
      if (typeof succeedWhen === 'number' && succeedWhen > step.parallel.length) {
        problems.push({
          path: `steps[${i}].succeedWhen`,
          message: `${succeedWhen} of ${step.parallel.length} members can never succeed`,
        });
      }
    } else {
      step.uses?.forEach((name, k) => {
        if (!nodeOf.has(name))
          problems.push({ path: `steps[${i}].uses[${k}]`, message: `no step "${name}" in this process` });
      });
    }
  });
  const cycle = options.cycles === false ? undefined : findCycle(nodes, nodeOf);
  if (cycle) {
    const at = nodeOf.get(cycle[0] as string) ?? 0;
    problems.push({ path: `steps[${at}]`, message: `the steps wait for each other in a cycle: ${cycle.join(' → ')}` });
  }
  return problems;
}

/** A cycle of node ids (first = last), or undefined. Needs that name nothing are ignored. */
function findCycle(nodes: readonly PlanNode[], nodeOf: ReadonlyMap<string, number>): string[] | undefined {
  const state = new Map<number, 'open' | 'done'>();
  const path: number[] = [];
  const visit = (i: number): number[] | undefined => {
    if (state.get(i) === 'done') return undefined;
    if (state.get(i) === 'open') return [...path.slice(path.indexOf(i)), i];
    state.set(i, 'open');
    path.push(i);
    for (const name of (nodes[i] as PlanNode).needs) {
      const j = nodeOf.get(name);
      if (j === undefined) continue;
      const found = visit(j);
      if (found) return found;
    }
    path.pop();
    state.set(i, 'done');
    return undefined;
  };
  for (let i = 0; i < nodes.length; i++) {
    const found = visit(i);
    if (found) return found.map((n) => (nodes[n] as PlanNode).id);
  }
  return undefined;
}

/** The facts a plan was made from, by job name (to plan a revision with the same facts). */
export function factsOf(plan: Pick<Plan, 'facts'>): Record<string, JobFacts> {
  return plan.facts ?? {};
}

/** `$param` references to parameters that are not set, and `$from` references to steps that do not exist. */
export function paramProblems(
  definition: Pick<ProcessDefinition, 'steps'>,
  params: Record<string, unknown>
): Problem[] {
  const ids = new Set(definition.steps.flatMap(stepJobs).map((s) => s.id));
  const problems: Problem[] = [];
  definition.steps.forEach((step, i) =>
    stepJobs(step).forEach((jobStep, j) => {
      const path = isGroupStep(step) ? `steps[${i}].parallel[${j}]` : `steps[${i}]`;
      for (const ref of findRefs(jobStep.args ?? {})) {
        if (ref.kind === 'param' && !Object.hasOwn(params, ref.target)) {
          problems.push({ path: `${path}.args`, message: `parameter "${ref.target}" is not set` });
        } else if (ref.kind === 'from' && !ids.has(ref.target)) {
          problems.push({ path: `${path}.args`, message: `$from names no step "${ref.target}"` });
        }
      }
    })
  );
  return problems;
}

/** The report rows of a definition's jobs, in definition order: step, job, group and pivot. */
export function planRows(
  definition: Pick<ProcessDefinition, 'steps'>
): Pick<PlannedJob, 'stepId' | 'job' | 'group' | 'pivot'>[] {
  return definition.steps.flatMap((step) =>
    stepJobs(step).map((job) => ({
      stepId: job.id,
      job: job.job,
      ...(isGroupStep(step) ? { group: step.id ?? 'parallel' } : {}),
      ...((isGroupStep(step) ? step.pivot : job.pivot) ? { pivot: true } : {}),
    }))
  );
}

/** The jobs a definition runs: its steps' jobs and the forward-recovery jobs their `afterPivot` names. */
export function jobNames(definition: Pick<ProcessDefinition, 'steps' | 'options'>): string[] {
  const recoveries = [definition.options?.defaults, ...definition.steps.flatMap(stepJobs)].flatMap((options) => {
    const afterPivot = options?.afterPivot;
    return typeof afterPivot === 'object' ? [afterPivot.recover.job] : [];
  });
  const steps = definition.steps.flatMap(stepJobs);
  const own = steps.filter((step) => !isChildStep(step) && step.wait === undefined).map((step) => step.job);
  const children = steps.flatMap((step) => {
    const child = isChildStep(step) ? childDefinition(step) : undefined;
    return child?.steps ? jobNames(child) : [];
  });
  return unique([...own, ...recoveries, ...children]);
}

/**
 * Plans a definition from the facts of its jobs: each job's effective options (Jipper's defaults, the job's, the
 * process's `options.defaults`, the step's), the graph of its steps, and the run's parameters. Pure and zod-free (it
 * runs in the workflow); it reports what it cannot plan (a job without facts, a step id used twice, a need that names
 * nothing, a cycle) and checks nothing else: the client checked the rest, and each job checks its args when it runs.
 */
export function planFromFacts(
  definition: ProcessDefinition,
  params: Record<string, unknown>,
  facts: Readonly<Record<string, JobFacts>>
): Plan {
  const problems: Problem[] = [];
  const jobs: PlannedJob[] = [];
  const seen = new Set<string>();
  const processDefaults = definition.options?.defaults;
  const rows = planRows(definition);
  let row = 0;
  definition.steps.forEach((step, i) => {
    const group = isGroupStep(step);
    if (group && step.id !== undefined) {
      if (seen.has(step.id)) problems.push({ path: `steps[${i}].id`, message: `duplicate step id "${step.id}"` });
      seen.add(step.id);
    }
    stepJobs(step).forEach((jobStep, j) => {
      row += 1;
      const path = group ? `steps[${i}].parallel[${j}]` : `steps[${i}]`;
      if (seen.has(jobStep.id)) problems.push({ path: `${path}.id`, message: `duplicate step id "${jobStep.id}"` });
      seen.add(jobStep.id);
      const job = jobStep.wait
        ? WAIT_FACTS
        : isChildStep(jobStep)
          ? CHILD_FACTS
          : Object.hasOwn(facts, jobStep.job)
            ? facts[jobStep.job]
            : undefined;
      if (!job) {
        problems.push({
          path: `${path}.job`,
          message: `no facts about job "${jobStep.job}" came with the start request`,
        });
        return;
      }
      // Facts come with the start request, which anyone may send: their shape is checked too (no zod in a workflow).
      if (!wellFormed(job)) {
        problems.push({
          path: `${path}.job`,
          message: `the facts about job "${jobStep.job}" that came with the start request are malformed`,
        });
        return;
      }
      const uses = resultTargets(jobStep);
      const planned: PlannedJob = {
        ...(rows[row - 1] as Pick<PlannedJob, 'stepId' | 'job' | 'group' | 'pivot'>),
        // A step that says `revert: none` means its effect to stand: its job's revert is not run.
        hasRevert: job.hasRevert && jobStep.revert !== 'none',
        ...(job.hasProbe ? { hasProbe: true } : {}),
        ...(job.ratePerSecond !== undefined ? { ratePerSecond: job.ratePerSecond } : {}),
        options: mergeJobOptions(job.defaults, processDefaults, jobStep),
        // A child step or a wait is no job of a library: the worker has nothing to match it against.
        ...(isChildStep(jobStep) || jobStep.wait ? {} : { fingerprint: job.fingerprint }),
        ...(uses.length ? { uses } : {}),
        ...(jobStep.tokens?.length ? { tokens: jobStep.tokens } : {}),
        ...(jobStep.waitFor !== undefined ? { waitFor: jobStep.waitFor } : {}),
        ...(jobStep.wait ? { wait: jobStep.wait } : {}),
      };
      jobs.push(planned);
    });
  });
  const nodes = planNodes(definition);
  problems.push(...graphProblems(definition, nodes));
  const given = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
  const used: Record<string, JobFacts> = {};
  for (const name of jobNames(definition)) if (Object.hasOwn(facts, name)) used[name] = facts[name] as JobFacts;
  return { problems, params: { ...(definition.params ?? {}), ...given }, jobs, nodes, facts: used };
}
