/**
 * Every change of a job's report row, in one function: what a job's status may become from what it is, and what each
 * event records. The engine changes rows only through {@link applyJobEvent}, so an impossible story (a reverted job
 * running again, a job succeeding twice) is a thrown error, not a wrong report. Pure and sandbox-safe.
 *
 * ```
 * pending ─start→ running ─succeed→ succeeded ─revert-start→ reverting ─revert-succeed→ reverted
 *    │               │                   │                        ├─revert-fail→ revert_failed (─revert-start→ …)
 *    └─not-run→ not_run                  └─skip→ skipped          └─revert-skip→ skipped
 *                    └─fail→ failed (─start→ running, when an operator retries; its own revert is tracked in `revert`)
 * ```
 */
import type { Decision, ErrorInfo, JobReport, JobStatus } from './report';

export type JobEvent =
  | { type: 'start'; at: string }
  | {
      type: 'succeed';
      at: string;
      attempts: number;
      result: unknown;
      order: number;
      detail?: string;
      waitedMs?: number;
    }
  | { type: 'fail'; at: string; error: ErrorInfo; attempts?: number; detail?: string }
  | { type: 'not-run' }
  /** A job whose attempt no worker started in time: it never ran after all. */
  | { type: 'never-started' }
  /** An operator (or a met group policy) moved on without the job. */
  | { type: 'skip'; reason: string }
  | { type: 'revert-start'; at: string }
  | { type: 'revert-succeed'; at: string; attempts: number; detail?: string }
  | { type: 'revert-fail'; at: string; error: ErrorInfo; attempts?: number; detail?: string }
  /** Nothing to revert: the job has no revert, or a probe said its effect was not applied. */
  | { type: 'revert-skip'; reason: string }
  | { type: 'revert-park' }
  | { type: 'decide'; decision: Decision; at: string; reason?: string }
  | { type: 'probe'; answer: 'applied' | 'not-applied' | 'unknown'; detail?: string }
  | { type: 'waited'; tokensMs: number };

/** Statuses a job may be in for each event (the job's own status; revert events look at `row.revert` too). */
const FROM: Record<JobEvent['type'], readonly JobStatus[]> = {
  start: ['pending', 'failed'],
  succeed: ['running'],
  fail: ['running', 'pending'],
  'not-run': ['pending'],
  'never-started': ['failed'],
  skip: ['failed', 'running', 'pending'],
  'revert-start': ['succeeded', 'failed', 'reverting', 'revert_failed'],
  'revert-succeed': ['reverting', 'failed'],
  'revert-fail': ['reverting', 'failed'],
  'revert-skip': ['succeeded', 'failed', 'reverting', 'revert_failed'],
  'revert-park': ['revert_failed', 'failed'],
  decide: ['revert_failed', 'failed', 'reverting'],
  probe: ['failed'],
  waited: ['pending', 'running'],
};

/** The transition is not one a job can make: a bug in the engine, never bad input. */
export class JobTransitionError extends Error {
  override readonly name = 'JobTransitionError';
}

/** Applies `event` to a job's report row (in place) and returns it; throws {@link JobTransitionError} when illegal. */
export function applyJobEvent(row: JobReport, event: JobEvent): JobReport {
  if (!FROM[event.type].includes(row.status)) {
    throw new JobTransitionError(`job at step "${row.stepId}" cannot ${event.type} while ${row.status}`);
  }
  // A failed job's own revert (revertOnFailure, or a probe that found its effect) leaves its status `failed`.
  const own = row.status === 'failed';
  switch (event.type) {
    case 'start':
      row.status = 'running';
      row.startedAt = event.at;
      delete row.endedAt;
      delete row.error;
      delete row.revert;
      return row;
    case 'succeed':
      row.status = 'succeeded';
      row.endedAt = event.at;
      row.attempts = event.attempts;
      row.result = event.result;
      row.completedOrder = event.order;
      if (event.detail !== undefined) row.detail = event.detail;
      if (event.waitedMs !== undefined) row.waitedMs = event.waitedMs;
      return row;
    case 'fail':
      row.status = 'failed';
      row.endedAt = event.at;
      row.error = event.error;
      if (event.attempts !== undefined) row.attempts = event.attempts;
      if (event.detail !== undefined) row.detail = event.detail;
      return row;
    case 'not-run':
      row.status = 'not_run';
      return row;
    case 'never-started':
      row.status = 'not_run';
      delete row.startedAt;
      delete row.endedAt;
      delete row.attempts;
      return row;
    case 'skip':
      row.status = 'skipped';
      delete row.revert;
      row.detail = [row.detail, event.reason].filter(Boolean).join(' · ');
      return row;
    case 'revert-start': {
      const revert = { ...row.revert, status: 'running' as const, startedAt: event.at };
      delete revert.endedAt;
      delete revert.error;
      row.revert = revert;
      if (!own) row.status = 'reverting';
      return row;
    }
    case 'revert-succeed':
      row.revert = { ...row.revert, status: 'reverted', endedAt: event.at, attempts: event.attempts };
      if (event.detail !== undefined) row.revert.detail = event.detail;
      if (!own) row.status = 'reverted';
      return row;
    case 'revert-fail':
      row.revert = { ...row.revert, status: 'revert_failed', endedAt: event.at, error: event.error };
      if (event.attempts !== undefined) row.revert.attempts = event.attempts;
      if (event.detail !== undefined) row.revert.detail = event.detail;
      if (!own) row.status = 'revert_failed';
      return row;
    case 'revert-skip':
      row.revert = { status: 'skipped', reason: event.reason };
      if (!own) row.status = 'skipped';
      return row;
    case 'revert-park':
      row.revert = { ...(row.revert ?? { status: 'parked' }), status: 'parked' };
      return row;
    case 'decide': {
      const revert = row.revert ?? { status: 'parked' as const };
      revert.decisions = [
        ...(revert.decisions ?? []),
        { decision: event.decision, at: event.at, ...(event.reason ? { reason: event.reason } : {}) },
      ];
      row.revert = revert;
      if (event.decision === 'mark-reverted') {
        Object.assign(revert, { status: 'reverted', reason: 'marked reverted by an operator' });
        if (!own) row.status = 'reverted';
      } else if (event.decision === 'skip') {
        Object.assign(revert, { status: 'skipped', reason: 'skipped by an operator' });
        if (!own) row.status = 'skipped';
      }
      return row;
    }
    case 'probe':
      row.probe = { answer: event.answer, ...(event.detail !== undefined ? { detail: event.detail } : {}) };
      return row;
    case 'waited':
      row.tokensWaitedMs = event.tokensMs;
      return row;
  }
}
