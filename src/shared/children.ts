/**
 * Child processes (sub-processes), the parts every room shares: a step `process: ./create-database.yaml` runs another
 * process as a Temporal child workflow. The definition file's loader embeds the child's definition in the step, so the
 * workflow reads no file; the schema reads such a step as a job step named `process:<child name>` whose args are the
 * child's params, so the planner, the graph (`needs`, `$from`, groups) and the revert stack treat it as one job whose
 * revert is the child's own unwind. Pure and zod-free (workflow code imports it).
 */
import type { JobStep, ProcessDefinition } from '../schema/definition';
import type { JobFacts } from './plan';
import type { ProcessReport } from './report';

/** The prefix of a child step's job name: `process:create-database`. */
export const CHILD_JOB_PREFIX = 'process:';

/** How deep processes may nest: a parent, its child, ... down to this many levels below the top. */
export const MAX_CHILD_DEPTH = 5;

/** The job name a child step is read as. */
export function childJobName(process: unknown): string {
  if (typeof process === 'string') return `${CHILD_JOB_PREFIX}${process}`;
  const name = typeof process === 'object' && process !== null ? (process as { name?: unknown }).name : undefined;
  return `${CHILD_JOB_PREFIX}${typeof name === 'string' ? name : '(unnamed)'}`;
}

/** True for a step that runs a child process. */
export function isChildStep(step: Pick<JobStep, 'job'> & { process?: unknown }): boolean {
  return step.process !== undefined || (typeof step.job === 'string' && step.job.startsWith(CHILD_JOB_PREFIX));
}

/** The embedded definition of a child step, or undefined when it is not embedded (a path the loader did not read). */
export function childDefinition(step: { process?: unknown }): ProcessDefinition | undefined {
  const process = step.process;
  return typeof process === 'object' && process !== null ? (process as ProcessDefinition) : undefined;
}

/** What the planner knows of a child step: it always has a revert (the child's own unwind), and no options to merge. */
export const CHILD_FACTS: JobFacts = { name: 'process', hasRevert: true, defaults: {}, fingerprint: 'process' };

/** The child definitions a definition's steps embed, with where each sits (`steps[1]`, `steps[2].parallel[0]`). */
export function embeddedChildren(
  definition: Pick<ProcessDefinition, 'steps'>
): { path: string; step: JobStep; definition: ProcessDefinition | undefined }[] {
  const found: { path: string; step: JobStep; definition: ProcessDefinition | undefined }[] = [];
  (definition.steps ?? []).forEach((step, i) => {
    if (typeof step !== 'object' || step === null) return;
    const members: unknown = 'parallel' in step ? step.parallel : [step];
    if (!Array.isArray(members)) return;
    (members as (JobStep | undefined)[]).forEach((member, j) => {
      if (typeof member !== 'object' || member === null || !isChildStep(member)) return;
      const path = 'parallel' in step ? `steps[${i}].parallel[${j}]` : `steps[${i}]`;
      found.push({ path, step: member, definition: childDefinition(member) });
    });
  });
  return found;
}

/** How many levels of children a definition has below it (0: none). */
export function childDepth(definition: Pick<ProcessDefinition, 'steps'>, seen: readonly object[] = []): number {
  if (seen.includes(definition)) return Infinity;
  let depth = 0;
  for (const child of embeddedChildren(definition)) {
    if (child.definition) depth = Math.max(depth, 1 + childDepth(child.definition, [...seen, definition]));
  }
  return depth;
}

/** The error type a child step fails with when its child process did not succeed (it has unwound itself). */
export const CHILD_FAILED_TYPE = 'JipperChildFailed';

/**
 * What a child that succeeded holds for its parent: its revert stack and what its reverts need (the child's process
 * state without its report). The parent keeps it in the step's row; if the parent unwinds, a child workflow in unwind
 * mode reverts exactly this stack, newest first (the child's own unwind, run again on request).
 */
export interface HeldChild {
  results: Record<string, unknown>;
  inputs: Record<string, unknown>;
  units: string[][];
  pivotPassed: boolean;
  completedCount: number;
  resultsBytes?: number;
  /**
   * The processes of the child's tree whose resource tokens are still held (the child's own id when it claims tokens,
   * and its children's that stand): released after the child's reverts, or when the top of the tree ends.
   */
  tokenHolders?: string[];
}

/** A child step's child process, in the parent's report row: its workflow id and its report (rows nested). */
export interface ChildRecord {
  processId: string;
  name: string;
  /** The child's report when it last ended (its forward run, then its unwind when the parent unwound). */
  report?: ProcessReport;
  /** The child's revert stack while its effects stand (see {@link HeldChild}). */
  held?: HeldChild;
  /** The workflow id of the child's unwind, once the parent unwound it. */
  revertId?: string;
}

/**
 * The tree as one flat report: after each child step's row come its child's rows, their step ids prefixed with the
 * child step's (`db/grant`), and what a child waits for is the parent's to decide (`jipper decide <parent> db/grant`).
 * A parent running a parked child is shown `parked`.
 */
export function flatTree(report: ProcessReport): ProcessReport {
  if (!report.jobs.some((row) => row.child?.report)) return report;
  const needsAttention = [...report.needsAttention];
  let childParked = false;
  const jobs = report.jobs.flatMap((row) => {
    const childReport = row.child?.report;
    if (!childReport) return [row];
    const flat = flatTree(childReport);
    if (flat.status === 'parked') childParked = true;
    needsAttention.push(...flat.needsAttention.map((id) => `${row.stepId}/${id}`));
    return [row, ...flat.jobs.map((child) => ({ ...child, stepId: `${row.stepId}/${child.stepId}` }))];
  });
  const active = report.status === 'running' || report.status === 'unwinding';
  return { ...report, jobs, needsAttention, ...(childParked && active ? { status: 'parked' as const } : {}) };
}
