/**
 * The token keeper: one workflow per task queue (`jipper-tokens:<task queue>`) that hands out resource tokens to
 * processes. A token has a name and a capacity (1: exclusive); a request claims one or more tokens, each for a count,
 * and is granted all at once or not at all, first come first served within a priority (1 most urgent) and per token,
 * so no request starves behind later ones.
 *
 * Deadlock-free by construction (the rules are the core's {@link TokenLedger}, `src/core/tokens.ts`): the keeper holds
 * the whole wait-for graph and refuses at once any wait — or grant — that would close a cycle in it. Every wait is
 * bounded besides: the requester withdraws its request after its `waitFor`.
 *
 * Messages: `request` (signalled with start by the `jipper.tokens.request` activity, so the keeper exists), `withdraw`
 * and `release` (signalled by the processes), and the `jipper.tokens` query. The keeper answers a request by signalling
 * the requesting process (`jipper.tokens.granted` / `jipper.tokens.refused`). Tokens are released when their process
 * ends (it signals `release`); a sweep every `sweepEvery` asks the server which holders and waiters have ended without
 * saying so (terminated, timed out) and releases theirs. It continues as new as its history grows, carrying its state.
 */
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { KeeperState, TokenAnswer } from '../core/tokens';
import { TokenLedger, emptyKeeperState } from '../core/tokens';
import { TOKENS_ENDED_ACTIVITY } from '../shared/tokens';
import { nowIso, nowMs } from './clock';
import {
  tokensGrantedSignal,
  tokensQuery,
  tokensRefusedSignal,
  tokensReleaseSignal,
  tokensRequestSignal,
  tokensWithdrawSignal,
} from './messages';

export type { KeeperState };

export interface KeeperInput {
  state?: KeeperState;
  /** How often to look for holders that ended without releasing. Default 30 s. */
  sweepEveryMs?: number;
}

const CONTINUE_AS_NEW_AFTER_EVENTS = 5_000;

export async function jipperTokenKeeper(input: KeeperInput = {}): Promise<void> {
  const ledger = new TokenLedger(input.state ?? emptyKeeperState(), { nowIso, nowMs });
  const sweepEveryMs = input.sweepEveryMs ?? 30_000;
  setHandler(tokensRequestSignal, (request) => ledger.request(request));
  setHandler(tokensWithdrawSignal, ({ requestId }) => ledger.withdraw(requestId));
  setHandler(tokensReleaseSignal, ({ processId }) => ledger.release(new Set([processId])));
  setHandler(tokensQuery, () => ledger.view());

  let nextSweep = nowMs() + sweepEveryMs;
  for (;;) {
    const due = Math.max(1, nextSweep - nowMs());
    const woke = await condition(() => ledger.outbox.length > 0, due);
    while (ledger.outbox.length) await signalAnswer(ledger, ledger.outbox.shift() as TokenAnswer);
    if (!woke || nowMs() >= nextSweep) {
      nextSweep = nowMs() + sweepEveryMs;
      await sweep(ledger);
    }
    if (workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS && !ledger.outbox.length) {
      await condition(allHandlersFinished);
      if (!ledger.outbox.length) {
        await continueAsNew<typeof jipperTokenKeeper>({ state: ledger.state, sweepEveryMs });
      }
    }
  }
}

/** Signals an answer to the requesting process; a process that has ended gives back what it held or asked for. */
async function signalAnswer(ledger: TokenLedger, message: TokenAnswer): Promise<void> {
  const handle = getExternalWorkflowHandle(message.processId);
  try {
    await CancellationScope.nonCancellable(() =>
      message.granted
        ? handle.signal(tokensGrantedSignal, { requestId: message.requestId, waitedMs: message.waitedMs ?? 0 })
        : handle.signal(tokensRefusedSignal, { requestId: message.requestId, reason: message.reason ?? 'refused' })
    );
  } catch {
    ledger.release(new Set([message.processId]));
  }
}

/** Asks the server which holders and waiters have ended without saying so (terminated, timed out); theirs go back. */
async function sweep(ledger: TokenLedger): Promise<void> {
  const ids = ledger.processes();
  if (!ids.length) return;
  const ended = proxyActivities<Record<string, (ids: string[]) => Promise<string[]>>>({
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 3 },
  })[TOKENS_ENDED_ACTIVITY] as (ids: string[]) => Promise<string[]>;
  const gone = new Set(await ended(ids).catch(() => [] as string[]));
  if (gone.size) ledger.release(gone);
}
