/** The process state: plain JSON, carried across continue-as-new. */
import type { ProcessReport } from '../shared/report';

/** Everything the engine knows of a process. */
export interface ProcessState {
  report: ProcessReport;
  /** Results of completed steps, by step id. */
  results: Record<string, unknown>;
  /** Resolved inputs, by step id (a revert gets the job's input). */
  inputs: Record<string, unknown>;
  /** The revert stack: one unit per completed step (a parallel group's completed members form one unit). */
  units: string[][];
  pivotPassed: boolean;
  completedCount: number;
  /** Bytes (JSON) of every result so far, against the process's limit. */
  resultsBytes?: number;
}

export function initialState(report: ProcessReport): ProcessState {
  return { report, results: {}, inputs: {}, units: [], pivotPassed: false, completedCount: 0 };
}

/** Pushes a completed (or failed but kept) job on the revert stack: into its group's unit, or as a unit of its own. */
export function pushOnStack(state: Pick<ProcessState, 'units'>, stepId: string, unit: string[] | undefined): void {
  if (unit) unit.push(stepId);
  else state.units.push([stepId]);
}
