/**
 * Required encryption, the workflow's half (a workflow interceptor module: Jipper's bundles list it, see
 * `src/worker/worker.ts`). A worker that requires encryption marks every workflow payload that arrived unencrypted
 * (`src/codec/plaintext-guard.ts`); here a mark refuses what carries it, before any workflow code sees it:
 *
 * - a run's input or memo: the run fails at once, before any job is scheduled (`PlaintextRefused`);
 * - a signal's arguments: the run fails (the signal is already in the history; nothing of the run goes on);
 * - an update's arguments: the update is rejected by its validator, so they are never written to the history (an
 *   update without a validator fails instead).
 *
 * A run replayed from its history was judged when the events were new: replaying, a mark is unwrapped to the value it
 * stands for, so a run that a worker accepted before encryption was required still replays as it ran.
 */
import type {
  Next,
  SignalInput,
  UpdateInput,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { PLAINTEXT_MARK, isPlaintextMark } from '../shared/plaintext';

/** The failure type of a run, signal or update refused because it arrived unencrypted. */
export const PLAINTEXT_REFUSED = 'PlaintextRefused';

/** The refusal, in one line naming what arrived unencrypted and in which encoding. */
function refusal(what: string, mark: unknown): ApplicationFailure {
  const encoding = isPlaintextMark(mark) ? mark[PLAINTEXT_MARK].encoding : 'unknown';
  return ApplicationFailure.nonRetryable(
    `refused: ${what} arrived unencrypted (${encoding}) and this worker requires encryption; send it with a client that has the key ring (JIPPER_ENCRYPTION_KEYS_FILE)`,
    PLAINTEXT_REFUSED
  );
}

const unwrap = (args: readonly unknown[]): unknown[] =>
  args.map((arg) => (isPlaintextMark(arg) ? arg[PLAINTEXT_MARK].value : arg));

const replaying = (): boolean => workflowInfo().unsafe.isReplaying;

class PlaintextGuard implements WorkflowInboundCallsInterceptor {
  // Not `async`: an extra promise around `next` would settle a tick later than the call it wraps, and an update's
  // completion would then be ordered after commands the workflow issues meanwhile — a history written without this
  // interceptor would no longer replay. What passes through returns `next`'s own promise.
  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const memo = Object.entries(workflowInfo().memo ?? {}).find(([, value]) => isPlaintextMark(value));
    const arg = input.args.find(isPlaintextMark);
    if (!replaying()) {
      if (arg !== undefined) return Promise.reject(refusal('the process input', arg));
      if (memo) return Promise.reject(refusal(`the memo field "${memo[0]}"`, memo[1]));
    }
    return next({ ...input, args: unwrap(input.args) });
  }

  handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    const arg = input.args.find(isPlaintextMark);
    if (arg !== undefined && !replaying()) return Promise.reject(refusal(`the signal "${input.signalName}"`, arg));
    return next({ ...input, args: unwrap(input.args) });
  }

  validateUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>): void {
    const arg = input.args.find(isPlaintextMark);
    if (arg !== undefined) throw refusal(`the update "${input.name}"`, arg);
    next(input);
  }

  handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>): Promise<unknown> {
    const arg = input.args.find(isPlaintextMark);
    if (arg !== undefined && !replaying()) return Promise.reject(refusal(`the update "${input.name}"`, arg));
    return next({ ...input, args: unwrap(input.args) });
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ inbound: [new PlaintextGuard()] });
