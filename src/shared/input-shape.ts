/**
 * The shape of what a process workflow is started with, checked inside the workflow without zod (which stays out of
 * the workflow bundle). A client that checked the definition never sends a malformed one, but anyone can start the
 * workflow (another SDK, the `temporal` CLI, an old client): whatever the workflow receives, it either plans it or
 * ends `failed` listing every problem, never a workflow task that fails forever.
 *
 * This checks what planning reads — the definition's name, steps, ids, jobs, args, needs and the run's params — and
 * leaves the rest to the full check (the worker's `jipper.plan`, with zod), which the workflow asks for whenever this
 * finds anything wrong.
 */
import type { Problem } from './plan';
import { isRecord } from './text';

const stringArray = (value: unknown): boolean => Array.isArray(value) && value.every((v) => typeof v === 'string');

function stepShape(step: unknown, path: string, problems: Problem[], member = false): void {
  if (!isRecord(step)) {
    problems.push({ path, message: 'a step must be an object' });
    return;
  }
  if (!member && 'parallel' in step) {
    if (!Array.isArray(step.parallel) || step.parallel.length === 0) {
      problems.push({ path: `${path}.parallel`, message: 'a parallel group needs a list of jobs' });
    } else {
      step.parallel.forEach((m, j) => stepShape(m, `${path}.parallel[${j}]`, problems, true));
    }
    if (step.id !== undefined && typeof step.id !== 'string')
      problems.push({ path: `${path}.id`, message: 'must be a string' });
  } else {
    if (typeof step.id !== 'string' || step.id === '')
      problems.push({ path: `${path}.id`, message: 'a step needs an id' });
    if (typeof step.job !== 'string' || step.job === '')
      problems.push({ path: `${path}.job`, message: 'a step needs a job' });
    if (step.args !== undefined && !isRecord(step.args))
      problems.push({ path: `${path}.args`, message: 'must be an object' });
    if (step.uses !== undefined && !stringArray(step.uses))
      problems.push({ path: `${path}.uses`, message: 'must be a list of step ids' });
  }
  if (step.needs !== undefined && !stringArray(step.needs))
    problems.push({ path: `${path}.needs`, message: 'must be a list of step ids' });
}

/** Problems with the shape of a process workflow's input (empty when planning can read it). */
export function inputShapeProblems(input: unknown): Problem[] {
  const problems: Problem[] = [];
  if (!isRecord(input)) return [{ path: '(input)', message: 'the workflow input must be an object with a definition' }];
  const { definition, params, jobs } = input;
  if (params !== undefined && !isRecord(params)) problems.push({ path: 'params', message: 'must be an object' });
  if (jobs !== undefined && !isRecord(jobs)) problems.push({ path: 'jobs', message: 'must be an object' });
  if (!isRecord(definition)) return [...problems, { path: '(definition)', message: 'a definition must be an object' }];
  if (typeof definition.name !== 'string' || definition.name === '')
    problems.push({ path: 'name', message: 'a process needs a name' });
  if (definition.params !== undefined && !isRecord(definition.params))
    problems.push({ path: 'params', message: 'must be an object' });
  if (definition.options !== undefined && !isRecord(definition.options))
    problems.push({ path: 'options', message: 'must be an object' });
  if (!Array.isArray(definition.steps) || definition.steps.length === 0) {
    problems.push({ path: 'steps', message: 'a process needs a list of steps' });
  } else {
    definition.steps.forEach((step, i) => stepShape(step, `steps[${i}]`, problems));
  }
  return problems;
}
