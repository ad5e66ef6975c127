/**
 * What continue-as-new carries: the plan, the state, where the forward pass is (the nodes done) or that the
 * unwinding is under way, and whether the process was cancelled. A report row's result is carried once, in
 * `state.results`, and put back in the next run.
 */
import type { Plan, PlanNode } from '../shared/plan';
import type { JobReport } from '../shared/report';
import type { ProcessState } from './state';

export interface CarriedState {
  plan: Plan;
  state: ProcessState;
  /** Index of the first step not yet done (forward phase); kept for runs carried by older code. */
  cursor: number;
  /** The graph nodes that have succeeded (forward phase). */
  done?: string[];
  phase: 'forward' | 'unwinding';
  cancelled: boolean;
}

/** A report row to carry: without its result when `results` carries that very value (the next run restores it). */
export function withoutCarriedResult(row: JobReport, results: Record<string, unknown>): JobReport {
  if (row.result === undefined || row.result !== results[row.stepId]) return row;
  const { result: _carriedInResults, ...rest } = row;
  return rest;
}

/** Puts a carried row's result back from `results`. */
export function restoreRowResult(row: JobReport, results: Record<string, unknown>): void {
  if (row.result === undefined && Object.hasOwn(results, row.stepId) && row.status !== 'pending') {
    row.result = results[row.stepId];
  }
}

/** The index of the first node not done (what older runs carried as `cursor`). */
export function firstPending(nodes: readonly PlanNode[], done: ReadonlySet<string>): number {
  const index = nodes.findIndex((node) => !done.has(node.id));
  return index < 0 ? nodes.length : index;
}

/** The nodes a carried forward phase had done: `done`, or (runs carried by older code) the first `cursor` nodes. */
export function carriedDone(nodes: readonly PlanNode[], carried: Pick<CarriedState, 'done' | 'cursor'> | undefined) {
  return new Set<string>(carried?.done ?? nodes.slice(0, carried?.cursor ?? 0).map((node) => node.id));
}

/** The report the carried state holds: one more continue-as-new, rows without the results `results` carries. */
export function reportToCarry<R extends { continuedAsNew?: number; jobs: JobReport[] }>(
  report: R,
  results: Record<string, unknown>
): R {
  return {
    ...report,
    continuedAsNew: (report.continuedAsNew ?? 0) + 1,
    jobs: report.jobs.map((row) => withoutCarriedResult(row, results)),
  };
}
