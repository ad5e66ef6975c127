/**
 * Checks of child-process steps (`process:`), before anything runs: the child was read (its file embedded), it does
 * not include itself, processes do not nest deeper than {@link MAX_CHILD_DEPTH}, every parameter the child needs is
 * given (by the step's `params` or the child's own defaults), and the child itself is a valid definition for the same
 * job libraries (its problems are told at `<step>.process.<path>`).
 */
import type { JobStep, ProcessDefinition } from '../schema/definition';
import { MAX_CHILD_DEPTH, childDefinition, embeddedChildren, isChildStep } from '../shared/children';
import type { Plan, Problem } from '../shared/plan';
import { formatPath } from '../shared/plan';
import { stepJobs } from '../shared/steps';
import { findRefs, isSecretRef, secretRef } from '../shared/refs';
import { isRecord } from '../shared/text';

type Validate = (raw: unknown, params: Record<string, unknown>) => Pick<Plan, 'problems'>;

/** A chain of process names that includes itself (`a → b → a`), in an embedded tree; undefined when there is none. */
export function childCycle(
  definition: ProcessDefinition,
  chain: readonly ProcessDefinition[] = []
): string[] | undefined {
  if (chain.includes(definition)) {
    return [...chain.slice(chain.indexOf(definition)), definition].map((d) => d.name);
  }
  for (const child of embeddedChildren(definition)) {
    const found = child.definition && childCycle(child.definition, [...chain, definition]);
    if (found) return found;
  }
  return undefined;
}

/** How many levels of embedded children lie below a definition (a tree with a cycle is reported by {@link childCycle}). */
function depthBelow(definition: ProcessDefinition): number {
  let depth = 0;
  for (const child of embeddedChildren(definition)) {
    if (child.definition?.steps) depth = Math.max(depth, 1 + depthBelow(child.definition));
  }
  return depth;
}

/** A process that includes itself, or nests too deep: one problem at the top, with the chain named. */
export function nestingProblems(definition: ProcessDefinition): Problem[] {
  const cycle = childCycle(definition);
  if (cycle) return [{ path: 'steps', message: `a process includes itself: ${cycle.join(' → ')}` }];
  const depth = depthBelow(definition);
  if (depth > MAX_CHILD_DEPTH) {
    return [{ path: 'steps', message: `processes nest ${depth} deep below this one; at most ${MAX_CHILD_DEPTH}` }];
  }
  return [];
}

/**
 * The parameters a child gets from its step, as far as they are known before it runs: a literal, a `$param` of the
 * parent's that is set; anything else (a `$from`, a secret) is a value known only when the step starts.
 */
function childParams(step: JobStep, parentParams: Record<string, unknown>): Record<string, unknown> {
  const known: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(step.args ?? {})) {
    const refs = findRefs(value);
    const [ref] = refs;
    if (!refs.length) known[key] = value;
    else if (refs.length === 1 && ref?.kind === 'param' && ref.path.length === 0 && key in parentParams)
      known[key] = parentParams[ref.target];
    else known[key] = secretRef('from-the-parent');
    if (isSecretRef(known[key])) known[key] = secretRef('from-the-parent');
  }
  return known;
}

/** The parameters a definition reads (`$param`) that it does not declare. */
function neededParams(child: ProcessDefinition): string[] {
  // A grandchild's own steps read its params, not this child's: only the child's steps (a child step's params) count.
  const own = child.steps.map((step) =>
    'parallel' in step ? step.parallel.map(withoutProcess) : withoutProcess(step)
  );
  const used = findRefs(own).flatMap((ref) => (ref.kind === 'param' ? [ref.target] : []));
  return [...new Set(used)].filter((name) => !Object.hasOwn(child.params ?? {}, name));
}

function withoutProcess(step: unknown): unknown {
  if (!isRecord(step)) return step;
  const { process: _process, ...rest } = step;
  return rest;
}

/** Problems of one child step at `path` (`steps[1]`): see the file's comment. */
export function childProblems(
  step: JobStep,
  path: string,
  parentParams: Record<string, unknown>,
  validate: Validate
): Problem[] {
  const child = childDefinition(step);
  if (!child) {
    return [
      {
        path: `${path}.process`,
        message: `"${typeof step.process === 'string' ? step.process : '?'}" was not read: a child named by file is read with the definition's own file (jipper run <file>, loadDefinitionFile)`,
      },
    ];
  }
  if (!isRecord(child) || nestingProblems(child).length) return [];
  const given = Object.keys(step.args ?? {});
  const missing = neededParams(child).filter((name) => !given.includes(name));
  const problems: Problem[] = missing.map((name) => ({
    path: `${path}.params`,
    message: `the child process "${child.name}" needs parameter "${name}", which this step does not give`,
  }));
  const inner = validate(child, childParams(step, parentParams)).problems.filter(
    (p) => !missing.some((name) => p.message.startsWith(`parameter "${name}" is not set`))
  );
  for (const problem of inner) {
    const at = problem.path.startsWith('params.') ? `${path}.${problem.path}` : `${path}.process.${problem.path}`;
    problems.push({ path: at, message: problem.message });
  }
  return problems;
}

/**
 * `$from` references into a child step's result that name nothing the child gives: with `outputs`, one of its keys;
 * without, one of its step ids (`$from: db.create.url`).
 */
export function childOutputProblems(
  definition: ProcessDefinition,
  suggestion: (name: string, known: readonly string[]) => string
): Problem[] {
  const gives = new Map<string, { name: string; keys: string[] }>();
  for (const { step, definition: child } of embeddedChildren(definition)) {
    if (!child?.steps) continue;
    const keys = child.outputs ? Object.keys(child.outputs) : child.steps.flatMap(stepJobs).map((s) => s.id);
    gives.set(step.id, { name: child.name, keys });
  }
  if (!gives.size) return [];
  const problems: Problem[] = [];
  definition.steps.forEach((step, i) =>
    stepJobs(step).forEach((jobStep, j) => {
      const path = 'parallel' in step ? `steps[${i}].parallel[${j}]` : `steps[${i}]`;
      const field = isChildStep(jobStep) ? 'params' : 'args';
      for (const ref of findRefs(jobStep.args ?? {})) {
        const child = ref.kind === 'from' ? gives.get(ref.target) : undefined;
        const [first] = ref.resultPath;
        if (!child || first === undefined || child.keys.includes(first)) continue;
        problems.push({
          path: formatPath([`${path}.${field}`, ...ref.path]),
          message: `$from "${[ref.target, ...ref.resultPath].join('.')}": child process "${child.name}" gives no "${first}"${suggestion(first, child.keys)}; it gives: ${child.keys.join(', ') || 'nothing'}`,
        });
      }
    })
  );
  return problems;
}
