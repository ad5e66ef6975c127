/** Resource tokens: asked of the task queue's keeper, granted (or refused) by its signal, held until the process ends. */
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  scheduleActivity,
  setHandler,
} from '@temporalio/workflow';
import { TOKEN_WAIT_TYPE } from '../shared/errors';
import { durationMs } from '../shared/options';
import type { TokenClaim } from '../shared/tokens';
import { TOKENS_REQUEST_ACTIVITY, tokenKeeperId } from '../shared/tokens';
import { JobFailedError } from './engine';
import { tokensGrantedSignal, tokensRefusedSignal, tokensReleaseSignal, tokensWithdrawSignal } from './messages';
import type { ProcessContext } from './process-input';

export class TokenDesk {
  /** Whether the process asked for any (then it releases them when it ends). */
  asked = false;
  private readonly grants = new Map<string, number>();
  private readonly refusals = new Map<string, string>();

  constructor(private readonly ctx: Pick<ProcessContext, 'workflowId' | 'taskQueue' | 'options'>) {
    setHandler(tokensGrantedSignal, ({ requestId, waitedMs }) => void this.grants.set(requestId, waitedMs));
    setHandler(tokensRefusedSignal, ({ requestId, reason }) => void this.refusals.set(requestId, reason));
  }

  private keeper() {
    return getExternalWorkflowHandle(tokenKeeperId(this.ctx.taskQueue));
  }

  /** Asks for tokens and waits for them (at most `waitFor`); returns how long it waited, or throws why not. */
  async acquire(
    requestId: string,
    claims: TokenClaim[],
    waitFor: string | number | undefined,
    priority: number
  ): Promise<number> {
    const { taskQueue, workflowId, options } = this.ctx;
    this.asked = true;
    await scheduleActivity(
      TOKENS_REQUEST_ACTIVITY,
      [{ taskQueue, request: { requestId, processId: workflowId, claims, priority } }],
      {
        startToCloseTimeout: '30s',
        retry: { maximumAttempts: 10 },
        summary: `ask for tokens ${claims.map((c) => c.name).join(', ')}`,
      }
    );
    const waitMs = durationMs(waitFor ?? options?.waitFor ?? '5m');
    const withdraw = () =>
      CancellationScope.nonCancellable(() => this.keeper().signal(tokensWithdrawSignal, { requestId }));
    let answered: boolean;
    try {
      answered = await condition(() => this.grants.has(requestId) || this.refusals.has(requestId), waitMs);
    } catch (err) {
      await withdraw();
      throw err;
    }
    const names = claims.map((c) => (c.count > 1 ? `${c.name}×${c.count}` : c.name)).join(', ');
    const refused = this.refusals.get(requestId);
    if (refused !== undefined) throw new Error(`tokens ${names} refused: ${refused}`);
    if (!answered) {
      await withdraw();
      throw new Error(`tokens ${names} not available within ${String(waitFor ?? options?.waitFor ?? '5m')}`);
    }
    return this.grants.get(requestId) ?? 0;
  }

  /** Gives every token of the process back (once it has settled: after its reverts, never before). */
  release(): Promise<void> {
    return CancellationScope.nonCancellable(() =>
      this.keeper().signal(tokensReleaseSignal, { processId: this.ctx.workflowId })
    );
  }

  /** A step's token wait that failed, as the job failure it is. */
  static failure(stepId: string, err: unknown): JobFailedError {
    return new JobFailedError(stepId, { type: TOKEN_WAIT_TYPE, message: (err as Error).message });
  }
}
