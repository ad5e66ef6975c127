/**
 * Checks a whole process definition against a job registry before any job runs, and collects every problem with its
 * location: schema errors, duplicate step ids, unknown jobs (with a suggestion), references to parameters that are not
 * set or to steps that do not run earlier, args that fail the job's input schema — and typos that would otherwise run
 * silently: a run parameter the process has no use for, an arg the job's schema does not know (zod would drop it and
 * use the default), and a `$from` path that is not in the result the earlier job's output schema describes. Each
 * typo comes with a "did you mean" when a known name is close.
 */
import type { z } from 'zod';
import type { JobOptions, JobStep, ProcessDefinition, Step, TokenSpec } from '../schema/definition';
import {
  jobOptionsSchema,
  memberStepSchema,
  processDefinitionSchema,
  processOptionsSchema,
  stepSchema,
} from '../schema/definition';
import { MAX_JOBS } from '../shared/limits';
import type { JobFacts, Plan, Problem } from '../shared/plan';
import { formatPath, graphProblems, jobNames, planFromFacts, planNodes } from '../shared/plan';
import { durationMs, mergeJobOptions } from '../shared/options';
import { localStepProblems } from '../shared/local-jobs';
import { tokenTemplateParams } from '../shared/tokens';
import { SECRET_NAME_PATTERN, findRefs, getPath, isSecretRef, mapRefs } from '../shared/refs';
import { isGroupStep, stepJobs } from '../shared/steps';
import { isRecord } from '../shared/text';
import type { AnyJob } from '../jobs/job';
import { hookProblems } from './hooks';
import { isChildStep } from '../shared/children';
import { childOutputProblems, childProblems, nestingProblems } from './children';
import { missingOutputPath, unknownKeys } from './schema-walk';

/**
 * What checking a definition needs to know of the job libraries (a `JobRegistry` is one): the job names, each job's
 * input schema and whether it has a revert, and the facts the planner plans from.
 */
export interface JobCatalog {
  names(): string[];
  get(name: string): Pick<AnyJob, 'name' | 'input' | 'revert' | 'options' | 'output'> | undefined;
  facts(names: readonly string[]): Record<string, JobFacts>;
}

export interface Validation extends Plan {
  /** The parsed definition, when its shape is valid. */
  definition?: ProcessDefinition;
}

function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[] = []): Problem[] {
  return error.issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]), message: issue.message }));
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const temp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = temp;
    }
  }
  return row[b.length] as number;
}

/** The known name closest to `name`, when one is close enough to be a typo of it. */
export function closest(name: string, known: readonly string[]): string | undefined {
  return known
    .map((k) => ({ k, d: distance(name, k) }))
    .sort((x, y) => x.d - y.d)
    .find((c) => c.d <= Math.max(2, Math.floor(name.length / 4)))?.k;
}

/** ` (did you mean "region"?)` when a known name is close to `name`, else `''`. */
export function suggestion(name: string, known: readonly string[]): string {
  const best = closest(name, known);
  return best !== undefined ? ` (did you mean "${best}"?)` : '';
}

/**
 * What is wrong with `$from: <step>.<path>` when the step's job declares an output schema and the path is not in the
 * result it describes; `undefined` when the path may be there (or the job declares no output schema).
 */
function fromPathProblem(
  stepId: string,
  resultPath: readonly string[],
  jobName: string | undefined,
  catalog: JobCatalog
): string | undefined {
  const output = jobName === undefined ? undefined : catalog.get(jobName)?.output;
  if (!output || !resultPath.length) return undefined;
  const missing = missingOutputPath(output, resultPath);
  if (!missing) return undefined;
  const ref = `$from "${[stepId, ...resultPath].join('.')}"`;
  const where = missing.at.length ? ` at "${missing.at.join('.')}"` : '';
  const result = `the result of step "${stepId}" (job "${jobName}")`;
  if (missing.kind) return `${ref}: ${result} is ${missing.kind}${where}; it has no "${missing.segment}"`;
  return `${ref}: ${result} has no "${missing.segment}"${where}${suggestion(missing.segment, missing.known)}; it has: ${missing.known.join(', ') || 'nothing'}`;
}

/** Every parameter a raw definition uses: `$param` references anywhere, and `{param}` placeholders in token names. */
export function usedParams(raw: unknown): Set<string> {
  const used = new Set(findRefs(raw).flatMap((ref) => (ref.kind === 'param' ? [ref.target] : [])));
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!isRecord(value)) return;
    for (const [key, v] of Object.entries(value)) {
      if (key === 'tokens' && Array.isArray(v)) {
        for (const token of v as unknown[]) {
          const name = isRecord(token) ? token.name : token;
          if (typeof name === 'string') tokenTemplateParams(name).forEach((p) => used.add(p));
        }
      }
      visit(v);
    }
  };
  visit(raw);
  return used;
}

/** The step ids a raw (possibly malformed) step declares, for references from other steps. */
function declaredIds(step: unknown): string[] {
  if (!isRecord(step)) return [];
  const members = Array.isArray(step.parallel) ? step.parallel : [step];
  return members.flatMap((m) => (isRecord(m) && typeof m.id === 'string' ? [m.id] : []));
}

/**
 * What can still be checked against the registry in a definition whose shape is wrong somewhere: its params and
 * step defaults when they parse, and every step that parses on its own (`undefined` for the others).
 */
function salvage(raw: unknown): {
  params: Record<string, unknown>;
  defaults?: JobOptions;
  tokens?: TokenSpec[];
  steps: (Step | undefined)[];
} {
  const record = isRecord(raw) ? raw : {};
  const params = isRecord(record.params) ? record.params : {};
  const defaults = isRecord(record.options) ? jobOptionsSchema.safeParse(record.options.defaults).data : undefined;
  const tokens = isRecord(record.options)
    ? processOptionsSchema.shape.tokens.safeParse(record.options.tokens).data
    : undefined;
  const steps = Array.isArray(record.steps) ? record.steps.map(salvageStep) : [];
  return { params, ...(defaults ? { defaults } : {}), ...(tokens ? { tokens } : {}), steps };
}

/** A step as parsed; for a group that does not parse as a whole, the group with the members that do (holes for the rest). */
function salvageStep(raw: unknown): Step | undefined {
  const parsed = stepSchema.safeParse(raw).data;
  if (parsed || !isRecord(raw) || !Array.isArray(raw.parallel)) return parsed;
  const parallel = raw.parallel.map((member) => memberStepSchema.safeParse(member).data);
  return { ...(typeof raw.id === 'string' ? { id: raw.id } : {}), parallel: parallel as JobStep[] };
}

/**
 * Validates `raw` (anything: parsed JSON/YAML, or a TypeScript object) as a definition for `registry`, with the
 * run's parameter values `params`. Never throws for bad input: every problem is returned — the shape's, and, for every
 * step whose own shape is right, the registry's (unknown jobs, args, references), so one round of fixes is enough.
 */
export function validateDefinition(
  raw: unknown,
  catalog: JobCatalog,
  params: Record<string, unknown> = {}
): Validation {
  // A tree of child processes that includes itself or nests too deep is refused before it is walked.
  const nesting = isRecord(raw) && Array.isArray(raw.steps) ? nestingProblems(raw as ProcessDefinition) : [];
  if (nesting.length) return { problems: nesting, params: {}, jobs: [] };
  const parsed = processDefinitionSchema.safeParse(raw);
  const definition = parsed.data;
  const problems: Problem[] = parsed.success ? [] : zodProblems(parsed.error);
  const source = definition
    ? {
        params: definition.params ?? {},
        defaults: definition.options?.defaults,
        tokens: definition.options?.tokens,
        steps: definition.steps as (Step | undefined)[],
      }
    : salvage(raw);
  // A parameter set to undefined is not set (it would not survive the trip to the worker as JSON).
  const given = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
  const allParams: Record<string, unknown> = { ...source.params, ...given };
  const rawSteps: unknown[] = definition
    ? definition.steps
    : isRecord(raw) && Array.isArray(raw.steps)
      ? raw.steps
      : [];

  problems.push(...unknownParamProblems(raw, source.params, given));

  // A process whose steps say what they need is a graph: a $from may name any step outside its own group (a cycle
  // is reported below). Otherwise it is a list: a $from may name only steps of earlier top-level steps.
  const graph = source.steps.some((step) => step?.needs !== undefined);
  const everyId = new Set(rawSteps.flatMap(declaredIds));
  /** The job each step that parsed runs, by step id: to check `$from` paths against its output schema. */
  const jobAt = new Map<string, string>();
  for (const step of source.steps) {
    for (const job of step ? stepJobs(step) : []) if (job) jobAt.set(job.id, job.job);
  }
  const seen = new Map<string, string>();
  const earlier = new Set<string>();
  source.steps.forEach((step: Step | undefined, i) => {
    if (!step) {
      for (const id of declaredIds(rawSteps[i])) earlier.add(id);
      return;
    }
    const stepPath = `steps[${i}]`;
    const ids = isGroupStep(step) && step.id ? [{ id: step.id, path: `${stepPath}.id` }] : [];
    // In a salvaged group, members that do not parse are holes: their problems are already listed.
    const members = stepJobs(step).flatMap((job: JobStep | undefined, j) =>
      job ? [{ job, path: isGroupStep(step) ? `${stepPath}.parallel[${j}]` : stepPath }] : []
    );
    for (const { job, path } of members) ids.push({ id: job.id, path: `${path}.id` });
    for (const { id, path } of ids) {
      const first = seen.get(id);
      if (first) problems.push({ path, message: `duplicate step id "${id}" (first used at ${first})` });
      else seen.set(id, path);
    }

    for (const { job: jobStep, path } of members) {
      // A wait step runs no job: its schema (and its `match`) is all there is to check.
      if (jobStep.wait) continue;
      if (isChildStep(jobStep)) {
        const scope = { path, members, graph, everyId, earlier, jobAt, allParams };
        problems.push(...childStepProblems(jobStep, path, scope, catalog));
        continue;
      }
      const job = catalog.get(jobStep.job);
      problems.push(...jobProblems(jobStep, job, path, isGroupStep(step), catalog));
      if (!job) continue;
      const refs = findRefs(jobStep.args ?? {});
      problems.push(...refProblems(refs, { path, members, graph, everyId, earlier, jobAt, allParams }, catalog));
      problems.push(...optionProblems(jobStep, path, source.defaults, catalog));
      problems.push(...argsProblems(jobStep, job, path, refs, allParams));
    }
    for (const id of declaredIds(rawSteps[i])) earlier.add(id);
  });

  if (definition) problems.push(...graphProblems(definition, planNodes(definition), { cycles: graph }));
  if (definition) problems.push(...childOutputProblems(definition, suggestion));
  problems.push(...allTokenProblems(source, allParams));
  problems.push(
    ...hookProblems(raw, catalog, allParams, {
      args: (step, job, path, refs) => argsProblems(step, job, path, refs, allParams),
      suggestion,
    })
  );

  const jobCount = rawSteps.flatMap(declaredIds).length;
  if (jobCount > MAX_JOBS) {
    problems.push({
      path: 'steps',
      message: `${jobCount} jobs; a process may have at most ${MAX_JOBS} (a long process carries its whole state from run to run when it continues as new, in one payload Temporal caps at 2 MB): split it into several processes`,
    });
  }
  if (problems.length || !definition) return { problems, params: allParams, jobs: [] };
  // A valid definition is planned by the one planner the workflow also uses, from the facts the catalog gives.
  const plan = planFromFacts(definition, given, catalog.facts(jobNames(definition)));
  return plan.problems.length ? { ...plan, params: allParams } : { ...plan, definition };
}

/** A child step's problems: its params' references (told at `params`), and the child's own (see src/checks/children.ts). */
function childStepProblems(jobStep: JobStep, path: string, scope: RefScope, catalog: JobCatalog): Problem[] {
  const refs = refProblems(findRefs(jobStep.args ?? {}), scope, catalog).map((p) => ({
    ...p,
    path: p.path.replace(`${path}.args`, `${path}.params`),
  }));
  const validate = (raw: unknown, params: Record<string, unknown>) => validateDefinition(raw, catalog, params);
  const local = jobStep.local
    ? [{ path: `${path}.local`, message: 'a child process runs as a child workflow, never locally; drop "local"' }]
    : [];
  return [...refs, ...local, ...childProblems(jobStep, path, scope.allParams, validate)];
}

/**
 * A problem with a step's args from the job's input schema. An arg that is missing is said so, at the step (its
 * `args` has no line for it): `missing required argument "customer" (job "reserve-seat")`; a key missing inside an
 * arg, at that arg.
 */
function argProblem(issue: z.core.$ZodIssue, stepPath: string, jobName: string, missing: boolean): Problem {
  const [name, ...rest] = issue.path;
  if (!missing || issue.code !== 'invalid_type' || name === undefined) {
    return { path: formatPath([`${stepPath}.args`, ...issue.path]), message: issue.message };
  }
  if (!rest.length) {
    return { path: stepPath, message: `missing required argument "${String(name)}" (job "${jobName}")` };
  }
  const parent = issue.path.slice(0, -1);
  return {
    path: formatPath([`${stepPath}.args`, ...parent]),
    message: `missing required key "${String(issue.path.at(-1))}" in args.${formatPath(parent)} (job "${jobName}")`,
  };
}

/** Problems with a step's job itself: a pivot on a group's member, a job that does not exist, a revert it lacks. */
function jobProblems(
  jobStep: JobStep,
  job: ReturnType<JobCatalog['get']>,
  path: string,
  inGroup: boolean,
  catalog: JobCatalog
): Problem[] {
  const problems: Problem[] = [];
  if (inGroup && jobStep.pivot) {
    problems.push({ path: `${path}.pivot`, message: 'mark the parallel group as the pivot, not one of its members' });
  }
  if (!job) {
    problems.push({
      path: `${path}.job`,
      message: `unknown job "${jobStep.job}"${suggestion(jobStep.job, catalog.names())}; known jobs: ${catalog.names().join(', ')}`,
    });
  } else if (jobStep.revertOnFailure && !job.revert) {
    problems.push({ path: `${path}.revertOnFailure`, message: `job "${job.name}" has no revert to run on failure` });
  }
  return problems;
}

/** A run parameter nothing uses is a typo (`--set bukket=...`): it would run with the default instead. */
function unknownParamProblems(
  raw: unknown,
  declaredParams: Record<string, unknown>,
  given: Record<string, unknown>
): Problem[] {
  const referenced = usedParams(raw);
  const usable = [...new Set([...Object.keys(declaredParams), ...referenced])].sort();
  return Object.keys(given)
    .filter((key) => !Object.hasOwn(declaredParams, key) && !referenced.has(key))
    .map((key) => ({
      path: formatPath(['params', key]),
      message: `unknown parameter "${key}": the process neither declares nor uses it${suggestion(key, usable)}; ${usable.length ? `its parameters: ${usable.join(', ')}` : 'it has no parameters'}`,
    }));
}

/** What a step's references may name: the process's steps and params, as the step being checked sees them. */
interface RefScope {
  /** The step's path (`steps[1]`, `steps[2].parallel[0]`). */
  path: string;
  /** The jobs of the step the reference is in (a group's members). */
  members: { job: JobStep }[];
  /** The process is a graph (`needs`): a `$from` may name any step outside its own group. */
  graph: boolean;
  everyId: Set<string>;
  /** Steps that complete before this one (a list process). */
  earlier: Set<string>;
  jobAt: Map<string, string>;
  allParams: Record<string, unknown>;
}

/** Problems with a step's `$param`, `$from` and `$secret` references (a mistyped step gets a "did you mean"). */
function refProblems(refs: ReturnType<typeof findRefs>, scope: RefScope, catalog: JobCatalog): Problem[] {
  const { path, members, graph, everyId, earlier, jobAt, allParams } = scope;
  const problems: Problem[] = [];
  for (const ref of refs) {
    const where = formatPath([`${path}.args`, ...ref.path]);
    if (ref.kind === 'param' && !Object.hasOwn(allParams, ref.target)) {
      problems.push({
        path: where,
        message: `parameter "${ref.target}" is not set (add it to params or --set it)`,
      });
    } else if (ref.kind === 'from' && graph) {
      const own = members.some((m) => m.job.id === ref.target);
      if (!everyId.has(ref.target) || own) {
        const message = own
          ? `step "${ref.target}" is this step or in the same parallel group`
          : `no step "${ref.target}" in this process${suggestion(ref.target, [...everyId])}`;
        problems.push({ path: where, message: `$from "${[ref.target, ...ref.resultPath].join('.')}": ${message}` });
      } else {
        const problem = fromPathProblem(ref.target, ref.resultPath, jobAt.get(ref.target), catalog);
        if (problem) problems.push({ path: where, message: problem });
      }
    } else if (ref.kind === 'from' && !earlier.has(ref.target)) {
      const message = everyId.has(ref.target)
        ? `step "${ref.target}" does not complete before this step (it is this step, later, or in the same parallel group)`
        : `no step "${ref.target}" in this process${suggestion(ref.target, [...earlier])}`;
      problems.push({ path: where, message: `$from "${[ref.target, ...ref.resultPath].join('.')}": ${message}` });
    } else if (ref.kind === 'from') {
      const problem = fromPathProblem(ref.target, ref.resultPath, jobAt.get(ref.target), catalog);
      if (problem) problems.push({ path: where, message: problem });
    } else if (ref.kind === 'secret' && !SECRET_NAME_PATTERN.test(ref.target)) {
      problems.push({
        path: where,
        message: `$secret "${ref.target}": a secret's name is letters, digits, ".", "_", "-" and "/" (no ".."), starting with a letter or digit`,
      });
    }
  }
  return problems;
}

/**
 * Checks the args against the job's schema with $param values filled in; values that come from earlier steps'
 * results, and secrets (which only workers can read), are known only at run time, and a parameter that is not set is
 * reported with the references, so issues at those places are not reported here. A parameter may itself be a secret
 * reference (`--set 'password={"$secret":"db"}'`): checked as a secret.
 */
function argsProblems(
  jobStep: JobStep,
  job: NonNullable<ReturnType<JobCatalog['get']>>,
  path: string,
  refs: ReturnType<typeof findRefs>,
  allParams: Record<string, unknown>
): Problem[] {
  const problems: Problem[] = [];
  const unknownAtStart = (r: (typeof refs)[number]) =>
    r.kind !== 'param' || !Object.hasOwn(allParams, r.target) || isSecretRef(allParams[r.target]);
  const skipped = refs.filter(unknownAtStart).map((r) => r.path.join('\u0000'));
  const candidate = mapRefs(jobStep.args ?? {}, (ref) =>
    ref.kind === 'param' && !isSecretRef(allParams[ref.target]) ? allParams[ref.target] : undefined
  );
  const unknowns = unknownKeys(job.input, candidate);
  // A missing key that an unknown key is a typo of (`sizeMB` for `sizeMb`) is one problem, told at the typo.
  const misspelt = unknowns.flatMap((u) => {
    const meant = closest(u.key, u.known);
    return meant === undefined ? [] : [[...u.path, meant].map(String).join('\u0000')];
  });
  const result = job.input.safeParse(candidate);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path.map(String).join('\u0000');
      if (skipped.some((p) => key === p || key.startsWith(p + '\u0000'))) continue;
      const missing = getPath(candidate, issue.path.map(String)) === undefined;
      if (misspelt.includes(key) && missing) continue;
      problems.push(argProblem(issue, path, job.name, missing));
    }
  }
  for (const unknown of unknowns) {
    const what = unknown.path.length
      ? `key "${unknown.key}" in args.${formatPath(unknown.path)}`
      : `arg "${unknown.key}"`;
    problems.push({
      path: formatPath([`${path}.args`, ...unknown.path, unknown.key]),
      message: `job "${job.name}" has no ${what}${suggestion(unknown.key, unknown.known)}; ${unknown.known.length ? `it takes: ${unknown.known.join(', ')}` : 'it takes none there'}`,
    });
  }
  return problems;
}

/** A token name's `{param}` placeholders, in the process's tokens and each step's, must name parameters that are set. */
function allTokenProblems(
  source: { tokens?: TokenSpec[]; steps: (Step | undefined)[] },
  allParams: Record<string, unknown>
): Problem[] {
  const problems: Problem[] = [];
  for (const [i, token] of (source.tokens ?? []).entries()) {
    problems.push(...tokenProblems(token, `options.tokens[${i}]`, allParams));
  }
  source.steps.forEach((step, i) =>
    stepJobs(step ?? { parallel: [] }).forEach((jobStep: JobStep | undefined, j) => {
      const path = step && isGroupStep(step) ? `steps[${i}].parallel[${j}]` : `steps[${i}]`;
      jobStep?.tokens?.forEach((token, k) => problems.push(...tokenProblems(token, `${path}.tokens[${k}]`, allParams)));
    })
  );
  return problems;
}

/** Problems with a step's options that only the job's facts reveal: a deadline no attempt fits in, a recovery job that does not exist. */
function optionProblems(
  step: JobStep,
  path: string,
  processDefaults: JobOptions | undefined,
  catalog: JobCatalog
): Problem[] {
  const problems: Problem[] = [];
  const job = catalog.get(step.job);
  if (!job) return problems;
  const options = mergeJobOptions(job.options, processDefaults, step);
  if (options.deadline !== undefined && durationMs(options.deadline) < durationMs(options.run.timeout)) {
    problems.push({
      path: `${path}.deadline`,
      message: `${String(options.deadline)} is shorter than the step's timeout (${String(options.run.timeout)}): one attempt may not finish before it; raise the deadline or lower the timeout`,
    });
  }
  const { ratePerSecond } = catalog.facts([step.job])[step.job] ?? {};
  const local = { hasRevert: job.revert !== undefined, tokens: (step.tokens?.length ?? 0) > 0, ratePerSecond };
  problems.push(...localStepProblems(options, local, path));
  const { afterPivot } = options;
  if (typeof afterPivot === 'object' && !catalog.get(afterPivot.recover.job)) {
    problems.push({
      path: `${path}.afterPivot.recover.job`,
      message: `unknown job "${afterPivot.recover.job}"${suggestion(afterPivot.recover.job, catalog.names())}`,
    });
  }
  return problems;
}

/** A token name's `{param}` placeholders must name parameters that are set. */
function tokenProblems(token: TokenSpec, path: string, params: Record<string, unknown>): Problem[] {
  const name = typeof token === 'string' ? token : token.name;
  if (typeof name !== 'string') return [];
  return tokenTemplateParams(name)
    .filter((param) => !Object.hasOwn(params, param))
    .map((param) => ({
      path: typeof token === 'string' ? path : `${path}.name`,
      message: `parameter "${param}" in token "${name}" is not set (add it to params or --set it)`,
    }));
}
