/** What the process workflow is started (or continued as new) with. */
import type { CarriedState, ProcessState } from '../core';
import type { ProcessDefinition } from '../schema/definition';
import type { HeldChild } from '../shared/children';
import type { JobFacts, Plan } from '../shared/plan';
import type { ProcessReport } from '../shared/report';

export type { CarriedState };

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
  /** Set when a parent process runs this one as a child step (see `process-children.ts`). */
  child?: ChildInput;
}

/** A child run's part of its input: its parent, and in unwind mode the stack to revert. */
export interface ChildInput {
  parentId: string;
  /** Unwind mode: revert the stack this child's forward run held (its report and state), then end. */
  unwind?: { report: ProcessReport; held: HeldChild };
  /** Unwind mode, carried across continue-as-new (the stack is in `carried`). */
  reverting?: boolean;
}

/** What every part of a running process shares: its definition (revisions change its steps), plan, state, engine. */
export interface ProcessContext {
  workflowId: string;
  taskQueue: string;
  definition: ProcessDefinition;
  plan: Plan;
  state: ProcessState;
  options: ProcessDefinition['options'];
  /** Set when this run is a child step's process. */
  child?: ChildInput;
}
