/**
 * `jipper revise <id> <definition>`: an operator replaces the steps a running (or paused) process has not started
 * yet. The file is checked against the job libraries as `start` checks it, with the run's own parameters (a revision
 * keeps them, and the process's name and options: only the steps change); then the process checks it against its
 * progress — every step that has started must stay as it is — and takes it whole or refuses it (exit code 2, a line
 * per reason). What changed is a line per step: added, removed, changed (which fields).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { getReport, isWaiting, reviseProcess, runDefinition } from '../../client';
import { usedParams } from '../../checks/validate';
import type { ProcessDefinition, Step } from '../../schema/definition';
import { isGroupStep, stepJobs, stepLabel } from '../../shared/steps';
import { isRecord } from '../../shared/text';
import { plural } from '../../shared/wording';
import { processId, reason } from '../args';
import { DefinitionProblemsError, UsageError } from '../errors';
import { out, printJson } from '../io';
import type { LocatedProblem } from '../context';
import { action, checkDefinitionFile, problemLines, withClient } from '../context';

/** JSON with object keys sorted: equal for values that mean the same, whatever order their keys were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v) && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v
  );
}

const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/** The fields of two objects that differ (`parallel` left out: a group's members are told one by one). */
function fieldsThatDiffer(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((key) => key !== 'parallel' && !same(a[key], b[key]))
    .sort();
}

export interface StepChanges {
  /** Job step ids the new steps add, and remove. */
  added: string[];
  removed: string[];
  /** Steps (jobs, or groups) in both whose definition differs, with the fields that do. */
  changed: { step: string; fields: string[] }[];
  /** The steps in both, in their new order, when that order differs from the old. */
  reordered?: string[];
}

/** What a revision changes, step by step: `before` is what the process runs now, `after` the new steps. */
export function stepChanges(before: readonly Step[], after: readonly Step[]): StepChanges {
  const jobsOf = (steps: readonly Step[]) =>
    new Map(
      steps.flatMap((step) =>
        stepJobs(step).map((job) => [job.id, { job, group: isGroupStep(step) ? stepLabel(step) : undefined }] as const)
      )
    );
  const groupsOf = (steps: readonly Step[]) =>
    new Map(steps.filter(isGroupStep).map((group) => [stepLabel(group), group] as const));
  const [oldJobs, newJobs] = [jobsOf(before), jobsOf(after)];
  const [oldGroups, newGroups] = [groupsOf(before), groupsOf(after)];
  const changed: StepChanges['changed'] = [];
  for (const [label, group] of newGroups) {
    const was = oldGroups.get(label);
    const fields = was ? fieldsThatDiffer(was, group) : [];
    if (fields.length) changed.push({ step: label, fields });
  }
  for (const [id, now] of newJobs) {
    const was = oldJobs.get(id);
    if (!was) continue;
    const fields = fieldsThatDiffer(was.job, now.job);
    if (was.group !== now.group) fields.push('group');
    if (fields.length) changed.push({ step: id, fields });
  }
  const order = (steps: readonly Step[], keep: (label: string) => boolean) =>
    steps.map(stepLabel).filter((label) => keep(label));
  const oldLabels = new Set(before.map(stepLabel));
  const newLabels = new Set(after.map(stepLabel));
  const oldOrder = order(before, (label) => newLabels.has(label));
  const newOrder = order(after, (label) => oldLabels.has(label));
  return {
    added: [...newJobs.keys()].filter((id) => !oldJobs.has(id)),
    removed: [...oldJobs.keys()].filter((id) => !newJobs.has(id)),
    changed,
    ...(same(oldOrder, newOrder) ? {} : { reordered: newOrder }),
  };
}

/** The new steps, each one that means the same as the process's own given exactly as the process has it. */
function asTheProcessHasThem(before: readonly Step[], after: readonly Step[]): Step[] {
  const current = new Map(before.map((step) => [stepLabel(step), step]));
  return after.map((step) => {
    const was = current.get(stepLabel(step));
    return was && same(was, step) ? was : step;
  });
}

/** A revision changes only the steps: the name, parameters and options the process runs with stay. */
const KEPT_FIELDS = ['name', 'params', 'options'] as const;

/** The process's refusal, a line per reason (its message lists them as `  - path: message`). */
function refusalLines(id: string, message: string): string[] {
  const items = message
    .split('\n')
    .filter((line) => line.startsWith('  - '))
    .map((line) => line.slice(4));
  return (items.length ? items : [message.replace(/\s*\n\s*/g, ' ')]).map(
    (item) => `${id} refused the revision: ${item}`
  );
}

interface ReviseOptions {
  reason?: string;
  set?: string[];
  json?: boolean;
}

export function registerRevise(program: Command): void {
  program
    .command('revise')
    .description(
      "Revise a running or paused process: replace the steps it has not started with those of a definition file (checked against the job libraries, with the run's parameters). The process takes it whole or refuses it (exit code 2, with its reasons): every step that has started must stay as it is. Prints a line per step added, removed or changed."
    )
    .argument('<id>', 'workflow id of the process', processId)
    .argument('<definition>', 'definition file (.json, .yaml, .yml): the process as it should go on')
    .option('--reason <text>', 'why, for the report (its revisions) and the Web UI', reason)
    .addOption(new Option('--set <key=value>').hideHelp().argParser((v: string, p: string[] = []) => [...p, v]))
    .option('--json', 'print { id, revised, added, removed, changed, reordered } as JSON')
    .action(
      action(async (id: string, file: string, options: ReviseOptions) => {
        if (options.set?.length) {
          throw new UsageError(
            `--set: a revision keeps the parameters the process was started with; to run with others, start a new run`
          );
        }
        return withClient(async (client) => {
          const description = await client.workflow.getHandle(id).describe();
          if (description.status.name !== 'RUNNING') {
            const report = await getReport(client, id).catch(() => undefined);
            throw new UsageError(
              `${id} has already ended (${report?.status ?? description.status.name.toLowerCase()}); nothing to revise`
            );
          }
          if (isWaiting(description)) {
            throw new UsageError(
              `${id} has not begun (it starts at ${description.executionTime?.toISOString() ?? '?'}): cancel it (jipper cancel ${id}) and start the new definition`
            );
          }
          const run = await runDefinition(client, id);
          // The run's parameters the new definition declares or uses (one it no longer uses is no typo of the operator's).
          const checked = await checkDefinitionFile(file, (value) => {
            const wanted = new Set([...usedParams(value), ...Object.keys(run.definition.params ?? {})]);
            return Object.fromEntries(Object.entries(run.params).filter(([key]) => wanted.has(key)));
          });
          const problems: LocatedProblem[] = [...checked.problems];
          const value = isRecord(checked.source.value) ? checked.source.value : {};
          for (const field of KEPT_FIELDS) {
            if (same(value[field], run.definition[field])) continue;
            const { line, col } = checked.source.locate(field);
            problems.push({
              path: field,
              location: `${file}:${line}:${col}`,
              message: `a revision changes only the steps: ${id} keeps the ${field} it was started with${field === 'name' ? ` (${run.definition.name})` : ''}; put ${field === 'params' || field === 'options' ? 'them' : 'it'} back as ${field === 'params' || field === 'options' ? 'they were' : 'it was'}, or start a new run`,
            });
          }
          const { definition } = checked.validation;
          if (problems.length || !definition) throw new DefinitionProblemsError(problemLines(problems));

          const changes = stepChanges(run.definition.steps, definition.steps);
          const nothing =
            !changes.added.length && !changes.removed.length && !changes.changed.length && !changes.reordered;
          if (nothing) {
            if (options.json) return printJson({ id, revised: false, added: [], removed: [], changed: [] });
            return out(`${id}: nothing to revise: ${file} has the steps it runs`);
          }
          const revised: ProcessDefinition = {
            ...definition,
            steps: asTheProcessHasThem(run.definition.steps, definition.steps),
          };
          let accepted: { added: string[]; removed: string[] };
          try {
            accepted = await reviseProcess(client, id, revised, {
              registry: checked.registry,
              params: checked.params,
              source: file,
              ...(options.reason !== undefined ? { reason: options.reason } : {}),
            });
          } catch (err) {
            if (err instanceof Error && err.name === 'OperatorActionRejectedError') {
              throw new DefinitionProblemsError(refusalLines(id, err.message));
            }
            throw err;
          }
          const result = { ...changes, added: accepted.added, removed: accepted.removed };
          if (options.json) {
            return printJson({ id, revised: true, ...(options.reason ? { reason: options.reason } : {}), ...result });
          }
          const jobOf = (steps: readonly Step[], stepId: string) =>
            steps.flatMap(stepJobs).find((job) => job.id === stepId)?.job ?? '?';
          const counts = [
            result.added.length ? `${plural(result.added.length, 'step')} added` : '',
            result.removed.length ? `${plural(result.removed.length, 'step')} removed` : '',
            result.changed.length ? `${plural(result.changed.length, 'step')} changed` : '',
            result.reordered ? 'steps reordered' : '',
          ].filter(Boolean);
          out(
            `${id} revised${options.reason ? ` (${options.reason})` : ''}: ${counts.join(', ')} (jipper watch ${id})`,
            ...result.added.map((step) => `  added    ${step} (${jobOf(definition.steps, step)})`),
            ...result.removed.map((step) => `  removed  ${step} (${jobOf(run.definition.steps, step)})`),
            ...result.changed.map(({ step, fields }) => `  changed  ${step}: ${fields.join(', ')}`),
            ...(result.reordered ? [`  order    ${result.reordered.join(' → ')}`] : [])
          );
          return undefined;
        });
      })
    );
}
