/**
 * The token keeper: one workflow per task queue (`jipper-tokens:<task queue>`) that hands out resource tokens to
 * processes. A token has a name and a capacity (1: exclusive); a request claims one or more tokens, each for a count,
 * and is granted all at once or not at all, first come first served within a priority (1 most urgent) and per token,
 * so no request starves behind later ones.
 *
 * Deadlock-free by construction: the keeper holds the whole wait-for graph (a waiting request waits for the processes
 * holding the tokens it claims), and refuses at once any wait — or grant — that would close a cycle in it. Every wait
 * is bounded besides: the requester withdraws its request after its `waitFor`.
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
import type { TokenClaim } from '../shared/tokens';
import { TOKENS_ENDED_ACTIVITY } from '../shared/tokens';
import { nowIso, nowMs } from './clock';
import type { TokenRequest, TokensView } from './messages';
import {
  tokensGrantedSignal,
  tokensQuery,
  tokensRefusedSignal,
  tokensReleaseSignal,
  tokensRequestSignal,
  tokensWithdrawSignal,
} from './messages';

interface Waiter extends TokenRequest {
  seq: number;
  since: string;
}

interface Holding {
  requestId: string;
  processId: string;
  claims: TokenClaim[];
  since: string;
}

export interface KeeperState {
  /** Each token's capacity, fixed by the first request that names it. */
  capacities: Record<string, number>;
  holdings: Holding[];
  waiters: Waiter[];
  seq: number;
  /** Request ids already answered, so a request delivered twice is answered once. */
  answered: string[];
}

export interface KeeperInput {
  state?: KeeperState;
  /** How often to look for holders that ended without releasing. Default 30 s. */
  sweepEveryMs?: number;
}

const CONTINUE_AS_NEW_AFTER_EVENTS = 5_000;
const MAX_ANSWERED = 5_000;

export async function jipperTokenKeeper(input: KeeperInput = {}): Promise<void> {
  const state: KeeperState = input.state ?? { capacities: {}, holdings: [], waiters: [], seq: 0, answered: [] };
  const sweepEveryMs = input.sweepEveryMs ?? 30_000;
  const endedActivity = proxyActivities<Record<string, (ids: string[]) => Promise<string[]>>>({
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 3 },
  })[TOKENS_ENDED_ACTIVITY] as (ids: string[]) => Promise<string[]>;

  const outbox: { processId: string; requestId: string; granted: boolean; reason?: string; waitedMs?: number }[] = [];

  const used = (name: string, except?: string): number =>
    state.holdings
      .filter((h) => h.processId !== except)
      .reduce((sum, h) => sum + (h.claims.find((c) => c.name === name)?.count ?? 0), 0);
  /** What a process holds of a token already (its tokens are its own: a later step may claim them again). */
  const own = (name: string, processId: string): number =>
    state.holdings
      .filter((h) => h.processId === processId)
      .reduce((sum, h) => sum + (h.claims.find((c) => c.name === name)?.count ?? 0), 0);
  const holdersOf = (name: string): Set<string> =>
    new Set(state.holdings.filter((h) => h.claims.some((c) => c.name === name)).map((h) => h.processId));
  const fits = (claims: readonly TokenClaim[], processId: string): boolean =>
    claims.every(
      (c) =>
        used(c.name, processId) + Math.max(c.count, own(c.name, processId)) <= (state.capacities[c.name] ?? c.capacity)
    );

  /** Wait-for edges: a waiting process waits for the holders of the tokens it claims (not itself). */
  /** The claims a process still needs: those its own holdings do not already cover. */
  const needed = (claims: readonly TokenClaim[], processId: string): TokenClaim[] =>
    claims.filter((c) => own(c.name, processId) < c.count);

  /**
   * Wait-for edges: a waiting process waits for the other holders of the tokens it still needs, and for the earlier
   * waiters on those tokens (first come first served holds a token for them).
   */
  const edges = (grant?: Holding) => {
    const graph = new Map<string, Set<string>>();
    const link = (from: string, to: string) => {
      if (to !== from) (graph.get(from) ?? graph.set(from, new Set()).get(from))?.add(to);
    };
    const ordered = [...state.waiters].sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    ordered.forEach((w, i) => {
      for (const c of needed(w.claims, w.processId)) {
        for (const holder of holdersOf(c.name)) link(w.processId, holder);
        if (grant?.claims.some((g) => g.name === c.name)) link(w.processId, grant.processId);
        for (const earlier of ordered.slice(0, i)) {
          if (earlier.claims.some((e) => e.name === c.name)) link(w.processId, earlier.processId);
        }
      }
    });
    return graph;
  };
  const cycleThrough = (graph: Map<string, Set<string>>): string[] | undefined => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const path: string[] = [];
    const visit = (node: string): string[] | undefined => {
      if (done.has(node)) return undefined;
      if (visiting.has(node)) return [...path.slice(path.indexOf(node)), node];
      visiting.add(node);
      path.push(node);
      for (const next of graph.get(node) ?? []) {
        const found = visit(next);
        if (found) return found;
      }
      path.pop();
      visiting.delete(node);
      done.add(node);
      return undefined;
    };
    for (const node of graph.keys()) {
      const found = visit(node);
      if (found) return found;
    }
    return undefined;
  };

  const answer = (waiter: TokenRequest, granted: boolean, reason?: string, waitedMs?: number) => {
    state.answered.push(waiter.requestId);
    if (state.answered.length > MAX_ANSWERED) state.answered.splice(0, state.answered.length - MAX_ANSWERED);
    outbox.push({
      processId: waiter.processId,
      requestId: waiter.requestId,
      granted,
      ...(reason ? { reason } : {}),
      ...(waitedMs !== undefined ? { waitedMs } : {}),
    });
  };

  /** Grants every waiter that can go, in order of priority, then arrival; a token claimed by an earlier waiter is held for it. */
  const grantReady = () => {
    state.waiters.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    const reserved = new Set<string>();
    for (const waiter of [...state.waiters]) {
      const claims = needed(waiter.claims, waiter.processId);
      const blocked = claims.some((c) => reserved.has(c.name));
      if (!blocked && fits(waiter.claims, waiter.processId)) {
        const holding: Holding = {
          requestId: waiter.requestId,
          processId: waiter.processId,
          claims: waiter.claims,
          since: nowIso(),
        };
        state.waiters = state.waiters.filter((w) => w !== waiter);
        // A grant to a process that still waits elsewhere must not close a cycle either.
        if (state.waiters.some((w) => w.processId === waiter.processId) && cycleThrough(edges(holding))) {
          state.waiters.push(waiter);
          claims.forEach((c) => reserved.add(c.name));
          continue;
        }
        state.holdings.push(holding);
        answer(waiter, true, undefined, nowMs() - Date.parse(waiter.since));
      } else {
        claims.forEach((c) => reserved.add(c.name));
      }
    }
  };

  setHandler(tokensRequestSignal, (request) => {
    if (state.answered.includes(request.requestId) || state.waiters.some((w) => w.requestId === request.requestId)) {
      return;
    }
    for (const c of request.claims) {
      const capacity = state.capacities[c.name];
      if (capacity !== undefined && capacity !== c.capacity) {
        answer(request, false, `token "${c.name}" has a capacity of ${capacity}; this step declares ${c.capacity}`);
        return;
      }
    }
    for (const c of request.claims) state.capacities[c.name] ??= c.capacity;
    const waiter: Waiter = { ...request, seq: state.seq++, since: nowIso() };
    state.waiters.push(waiter);
    grantReady();
    if (!state.waiters.includes(waiter)) return;
    // It waits: refuse it at once if waiting would close a cycle (a deadlock).
    const cycle = cycleThrough(edges());
    if (cycle) {
      state.waiters = state.waiters.filter((w) => w !== waiter);
      answer(request, false, `waiting would deadlock: ${cycle.join(' → ')}`);
      grantReady();
    }
  });

  setHandler(tokensWithdrawSignal, ({ requestId }) => {
    const waiting = state.waiters.find((w) => w.requestId === requestId);
    if (waiting) state.waiters = state.waiters.filter((w) => w !== waiting);
    // A grant that crossed the withdrawal is given back: the process went on without it.
    state.holdings = state.holdings.filter((h) => h.requestId !== requestId);
    if (!state.answered.includes(requestId)) state.answered.push(requestId);
    grantReady();
  });

  setHandler(tokensReleaseSignal, ({ processId }) => {
    state.holdings = state.holdings.filter((h) => h.processId !== processId);
    state.waiters = state.waiters.filter((w) => w.processId !== processId);
    grantReady();
  });

  setHandler(tokensQuery, (): TokensView => ({
    tokens: Object.entries(state.capacities)
      .map(([name, capacity]) => ({
        name,
        capacity,
        used: used(name),
        holders: state.holdings
          .filter((h) => h.claims.some((c) => c.name === name))
          .map((h) => ({
            processId: h.processId,
            requestId: h.requestId,
            count: h.claims.find((c) => c.name === name)?.count ?? 0,
            since: h.since,
          })),
        waiters: state.waiters
          .filter((w) => w.claims.some((c) => c.name === name))
          .map((w) => ({
            processId: w.processId,
            requestId: w.requestId,
            count: w.claims.find((c) => c.name === name)?.count ?? 0,
            since: w.since,
            priority: w.priority,
          })),
      }))
      .filter((t) => t.used > 0 || t.waiters.length > 0)
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
  }));

  let nextSweep = nowMs() + sweepEveryMs;
  for (;;) {
    const due = Math.max(1, nextSweep - nowMs());
    const woke = await condition(() => outbox.length > 0, due);
    while (outbox.length) {
      const message = outbox.shift() as (typeof outbox)[number];
      const handle = getExternalWorkflowHandle(message.processId);
      try {
        await CancellationScope.nonCancellable(() =>
          message.granted
            ? handle.signal(tokensGrantedSignal, { requestId: message.requestId, waitedMs: message.waitedMs ?? 0 })
            : handle.signal(tokensRefusedSignal, { requestId: message.requestId, reason: message.reason ?? 'refused' })
        );
      } catch {
        // The process has ended: what it held or asked for goes back.
        state.holdings = state.holdings.filter((h) => h.processId !== message.processId);
        state.waiters = state.waiters.filter((w) => w.processId !== message.processId);
        grantReady();
      }
    }
    if (!woke || nowMs() >= nextSweep) {
      nextSweep = nowMs() + sweepEveryMs;
      const ids = [...new Set([...state.holdings.map((h) => h.processId), ...state.waiters.map((w) => w.processId)])];
      if (ids.length) {
        const gone = new Set(await endedActivity(ids).catch(() => [] as string[]));
        if (gone.size) {
          state.holdings = state.holdings.filter((h) => !gone.has(h.processId));
          state.waiters = state.waiters.filter((w) => !gone.has(w.processId));
          grantReady();
        }
      }
    }
    if (workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS && !outbox.length) {
      await condition(allHandlersFinished);
      if (!outbox.length) await continueAsNew<typeof jipperTokenKeeper>({ state, sweepEveryMs });
    }
  }
}
