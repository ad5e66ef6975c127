/**
 * Wait steps in the workflow: an approval or an event is a step that runs no activity. It opens (its row `running`,
 * the process `waiting`), then a Temporal Update settles it (`jipper approve|reject|send-event`) or a durable timer
 * expires it; while it waits it holds no worker slot and writes nothing to the history. The rules — what applies, what a
 * rejection and an expiry do — are the saga core's (`src/core/waits.ts`); this file performs their effects.
 *
 * A wait blocks continue-as-new (the forward pass carries over only when nothing runs), so an open wait never has to
 * be carried; a wait not yet reached is part of the plan and is carried with it.
 */
import { ApplicationFailure, condition, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { OpenWait, WaitMessage, WaitSpec } from '../core/waits';
import { expiryAction, refusal } from '../core/waits';
import { REJECTED_TYPE } from '../shared/errors';
import { durationMs } from '../shared/options';
import type { PlannedJob } from '../shared/plan';
import type { ErrorInfo, JobReport, ProcessReport, ProcessStatus, WaitReport } from '../shared/report';
import { WAITING_FOR_KEY } from '../shared/search-attributes';
import { isRecord } from '../shared/text';
import { nowIso, nowMs } from './clock';
import type { WaitResponse } from './wait-messages';
import { waitUpdate } from './wait-messages';

/** What the wait desk needs of the engine. */
export interface WaitEngine {
  readonly report: ProcessReport;
  readonly state: { results: Record<string, unknown> };
  jobReport(stepId: string): JobReport;
  setStatus(status: ProcessStatus): void;
  publish(): void;
  waitStarted(stepId: string): void;
  waitSettled(job: PlannedJob, unit: string[] | undefined, outcome: WaitOutcome): Promise<unknown>;
  waitParked(stepId: string, error: ErrorInfo): void;
  awaitForwardDecision(stepId: string): Promise<boolean>;
}

/** How a wait ended: it succeeds with a result, or fails with an error (`expired`: cut by its timeout, a `timeout`). */
export type WaitOutcome = { result: unknown } | { error: unknown; expired?: string };

interface Open extends OpenWait {
  settled?: { message: WaitMessage; at: string };
}

export class Waits {
  private readonly open = new Map<string, Open>();
  private waitingFor: string[] = [];
  /** The run's parameters, for `match` (set once the process is planned). */
  params: Record<string, unknown> = {};

  constructor(private readonly engine: WaitEngine) {
    setHandler(waitUpdate, (message) => this.apply(message), { validator: (message) => void this.target(message) });
  }

  /** The open wait `message` settles; throws (one line) when it does not apply now. */
  private target(message: unknown): Open {
    const checked = wellFormed(message);
    const unsettled = [...this.open.values()].filter((w) => w.settled === undefined);
    const answer = refusal(this.engine.report.processId, unsettled, checked, {
      params: this.params,
      results: this.engine.state.results,
    });
    if ('refused' in answer) throw new Error(answer.refused);
    return answer.settles;
  }

  private apply(message: WaitMessage): WaitResponse {
    const open = this.target(message);
    open.settled = { message, at: nowIso() };
    const outcome = message.action === 'event' ? 'received' : message.action === 'approve' ? 'approved' : 'rejected';
    return { stepId: open.stepId, outcome };
  }

  /** Runs a wait step: opens it, waits for its settlement or its expiry, and settles it in the engine. */
  async run(job: PlannedJob, unit: string[] | undefined): Promise<unknown> {
    const wait = job.wait as WaitSpec;
    const { stepId } = job;
    const timeoutMs = durationMs(wait.timeout);
    const deadline = job.options.deadline;
    const cutByDeadline = deadline !== undefined && durationMs(deadline) < timeoutMs;
    const limitMs = cutByDeadline ? durationMs(deadline) : timeoutMs;
    const entry: Open = { stepId, wait };
    this.opened(entry, job, limitMs);
    let settled: boolean;
    try {
      settled = await condition(() => entry.settled !== undefined, limitMs);
    } catch (err) {
      this.closed(stepId);
      return this.engine.waitSettled(job, unit, { error: err });
    }
    this.closed(stepId);
    const row = this.engine.jobReport(stepId).wait as WaitReport;
    if (settled) return this.engine.waitSettled(job, unit, settlement(entry, row));
    Object.assign(row, { outcome: 'timed-out', at: nowIso() });
    if (cutByDeadline) {
      const expired = `the step's deadline (${String(deadline)}) was reached`;
      return this.engine.waitSettled(job, unit, { error: expiredFailure(expired), expired });
    }
    const action = expiryAction(wait);
    if (action === 'continue') return this.engine.waitSettled(job, unit, { result: { timedOut: true } });
    const expired = `the wait's timeout (${String(wait.timeout)}) was reached`;
    if (action === 'unwind') return this.engine.waitSettled(job, unit, { error: expiredFailure(expired), expired });
    this.engine.waitParked(stepId, { type: 'wait-timeout', message: expired, class: 'timeout' });
    if (await this.engine.awaitForwardDecision(stepId)) return this.run(job, unit);
    return undefined;
  }

  private opened(entry: Open, job: PlannedJob, limitMs: number): void {
    const { wait, stepId } = entry;
    const row = this.engine.jobReport(stepId);
    const processId = this.engine.report.processId;
    row.wait = {
      kind: wait.kind,
      ...(wait.kind === 'approve'
        ? { prompt: wait.prompt, ...(wait.approvers ? { approvers: wait.approvers } : {}) }
        : { event: wait.event, ...(wait.match !== undefined ? { match: wait.match } : {}) }),
      expiresAt: new Date(nowMs() + limitMs).toISOString(),
      opens: (row.wait?.opens ?? 0) + 1,
      settle:
        wait.kind === 'approve'
          ? `jipper approve ${processId} ${stepId}   (or: jipper reject ${processId} ${stepId} --reason ...)`
          : `jipper send-event ${wait.event} --data JSON --to ${processId}`,
    };
    this.open.set(stepId, entry);
    this.engine.waitStarted(job.stepId);
    if (this.engine.report.status === 'running') this.engine.setStatus('waiting');
    this.upsertWaitingFor();
  }

  private closed(stepId: string): void {
    this.open.delete(stepId);
    if (!this.open.size && this.engine.report.status === 'waiting') this.engine.setStatus('running');
    this.upsertWaitingFor();
  }

  /** The `JipperWaitingFor` search attribute: the event names waited for now. */
  private upsertWaitingFor(): void {
    const names = [...new Set([...this.open.values()].flatMap((w) => (w.wait.kind === 'event' ? [w.wait.event] : [])))];
    names.sort();
    if (names.join('\n') === this.waitingFor.join('\n')) return;
    this.waitingFor = names;
    if (!workflowInfo().typedSearchAttributes) return;
    upsertSearchAttributes([{ key: WAITING_FOR_KEY, value: names }]);
  }
}

/** How a settled wait ends, recorded in its row: an approval's result, a rejection's failure, an event's data. */
function settlement(entry: Open, row: WaitReport): WaitOutcome {
  const { message, at } = entry.settled as NonNullable<Open['settled']>;
  if (message.action === 'event') {
    Object.assign(row, { outcome: 'received', at });
    return { result: message.data };
  }
  const reason = message.reason?.trim() ? { reason: message.reason.trim() } : {};
  Object.assign(row, {
    outcome: message.action === 'approve' ? 'approved' : 'rejected',
    by: message.by,
    at,
    ...reason,
  });
  if (message.action === 'approve') return { result: { approved: true, by: message.by, at, ...reason } };
  return {
    error: ApplicationFailure.create({
      type: REJECTED_TYPE,
      message: `rejected by ${message.by}: ${message.reason ?? ''}`,
      nonRetryable: true,
    }),
  };
}

function expiredFailure(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'wait-timeout', message, nonRetryable: true });
}

/** The update's argument, checked (no zod in a workflow): anyone may send one. */
function wellFormed(message: unknown): WaitMessage {
  if (!isRecord(message)) throw new Error('a wait message is an object');
  const { action } = message;
  const text = (key: string, optional = false): void => {
    const value = message[key];
    if (optional && value === undefined) return;
    if (typeof value !== 'string' || !value.length || value.length > 2_000) {
      throw new Error(`a wait message's ${key} is a non-empty string`);
    }
  };
  if (action === 'approve' || action === 'reject') {
    text('stepId');
    text('by');
    text('reason', true);
    return message as WaitMessage;
  }
  if (action === 'event') {
    text('event');
    text('stepId', true);
    return message as WaitMessage;
  }
  throw new Error('a wait message approves, rejects, or carries an event');
}
