/**
 * The token keeper's rules, pure: who holds which resource tokens, who waits, what can be granted now, and which wait
 * would deadlock. The keeper workflow (`src/workflows/token-keeper.ts`) owns one {@link TokenLedger} and performs only
 * Temporal's effects around it (signals in and out, the sweep activity, continue-as-new).
 *
 * A token has a name and a capacity (1: exclusive); a request claims one or more tokens, each for a count, and is
 * granted all at once or not at all, first come first served within a priority (1 most urgent) and per token, so no
 * request starves behind later ones. Deadlock-free by construction: the ledger holds the whole wait-for graph (a
 * waiting request waits for the processes holding the tokens it claims, and for earlier waiters on them), and refuses
 * at once any wait — or grant — that would close a cycle in it.
 */
import type { TokenClaim } from '../shared/tokens';

export interface TokenRequest {
  /** `<processId>/<stepId>` (or `<processId>/(process)` for the process's own tokens). */
  requestId: string;
  processId: string;
  claims: TokenClaim[];
  /** 1 (most urgent) to 5; first come first served within a priority. */
  priority: number;
}

/** What `jipper tokens` shows: each token in use or waited for, its holders and its waiters. */
export interface TokensView {
  tokens: {
    name: string;
    capacity: number;
    used: number;
    holders: { processId: string; requestId: string; count: number; since: string }[];
    waiters: { processId: string; requestId: string; count: number; since: string; priority: number }[];
  }[];
}

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

/** The keeper's state: plain JSON, carried across continue-as-new. */
export interface KeeperState {
  /** Each token's capacity, fixed by the first request that names it. */
  capacities: Record<string, number>;
  holdings: Holding[];
  waiters: Waiter[];
  seq: number;
  /** Request ids already answered, so a request delivered twice is answered once. */
  answered: string[];
}

/** An answer the keeper owes a requesting process (signalled by the workflow). */
export interface TokenAnswer {
  processId: string;
  requestId: string;
  granted: boolean;
  reason?: string;
  waitedMs?: number;
}

/** The workflow's clock: the time now, as an ISO string and in ms (the ledger reads no clock of its own). */
export interface LedgerClock {
  nowIso(): string;
  nowMs(): number;
}

const MAX_ANSWERED = 5_000;

export function emptyKeeperState(): KeeperState {
  return { capacities: {}, holdings: [], waiters: [], seq: 0, answered: [] };
}

/** The holdings and waiters of a keeper, with every rule; answers go to {@link TokenLedger.outbox}. */
export class TokenLedger {
  /** Answers not yet signalled, oldest first. */
  readonly outbox: TokenAnswer[] = [];

  constructor(
    readonly state: KeeperState,
    private readonly clock: LedgerClock
  ) {}

  /** A new request: refused at once (capacity disagreement, a wait that would deadlock), granted, or queued. */
  request(request: TokenRequest): void {
    const { state } = this;
    if (state.answered.includes(request.requestId) || state.waiters.some((w) => w.requestId === request.requestId)) {
      return;
    }
    for (const c of request.claims) {
      const capacity = state.capacities[c.name];
      if (capacity !== undefined && capacity !== c.capacity) {
        this.answer(
          request,
          false,
          `token "${c.name}" has a capacity of ${capacity}; this step declares ${c.capacity}`
        );
        return;
      }
    }
    for (const c of request.claims) state.capacities[c.name] ??= c.capacity;
    const waiter: Waiter = { ...request, seq: state.seq++, since: this.clock.nowIso() };
    state.waiters.push(waiter);
    this.grantReady();
    if (!state.waiters.includes(waiter)) return;
    // It waits: refuse it at once if waiting would close a cycle (a deadlock).
    const cycle = cycleThrough(this.edges());
    if (cycle) {
      state.waiters = state.waiters.filter((w) => w !== waiter);
      this.answer(request, false, `waiting would deadlock: ${cycle.join(' → ')}`);
      this.grantReady();
    }
  }

  /** The process stopped waiting for a request; a grant that crossed the withdrawal is given back. */
  withdraw(requestId: string): void {
    const { state } = this;
    const waiting = state.waiters.find((w) => w.requestId === requestId);
    if (waiting) state.waiters = state.waiters.filter((w) => w !== waiting);
    state.holdings = state.holdings.filter((h) => h.requestId !== requestId);
    if (!state.answered.includes(requestId)) state.answered.push(requestId);
    this.grantReady();
  }

  /** Processes that ended (said so, or found gone): what they held or asked for goes back. */
  release(processIds: ReadonlySet<string>): void {
    const { state } = this;
    state.holdings = state.holdings.filter((h) => !processIds.has(h.processId));
    state.waiters = state.waiters.filter((w) => !processIds.has(w.processId));
    this.grantReady();
  }

  /** Every process that holds or waits for a token. */
  processes(): string[] {
    const { holdings, waiters } = this.state;
    return [...new Set([...holdings.map((h) => h.processId), ...waiters.map((w) => w.processId)])];
  }

  /** What `jipper tokens` shows. */
  view(): TokensView {
    const { state } = this;
    const countOf = (claims: readonly TokenClaim[], name: string) => claims.find((c) => c.name === name)?.count ?? 0;
    return {
      tokens: Object.entries(state.capacities)
        .map(([name, capacity]) => ({
          name,
          capacity,
          used: this.used(name),
          holders: state.holdings
            .filter((h) => h.claims.some((c) => c.name === name))
            .map((h) => ({
              processId: h.processId,
              requestId: h.requestId,
              count: countOf(h.claims, name),
              since: h.since,
            })),
          waiters: state.waiters
            .filter((w) => w.claims.some((c) => c.name === name))
            .map((w) => ({
              processId: w.processId,
              requestId: w.requestId,
              count: countOf(w.claims, name),
              since: w.since,
              priority: w.priority,
            })),
        }))
        .filter((t) => t.used > 0 || t.waiters.length > 0)
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
    };
  }

  private used(name: string, except?: string): number {
    return this.state.holdings
      .filter((h) => h.processId !== except)
      .reduce((sum, h) => sum + (h.claims.find((c) => c.name === name)?.count ?? 0), 0);
  }

  /** What a process holds of a token already (its tokens are its own: a later step may claim them again). */
  private own(name: string, processId: string): number {
    return this.state.holdings
      .filter((h) => h.processId === processId)
      .reduce((sum, h) => sum + (h.claims.find((c) => c.name === name)?.count ?? 0), 0);
  }

  private holdersOf(name: string): Set<string> {
    return new Set(this.state.holdings.filter((h) => h.claims.some((c) => c.name === name)).map((h) => h.processId));
  }

  private fits(claims: readonly TokenClaim[], processId: string): boolean {
    return claims.every(
      (c) =>
        this.used(c.name, processId) + Math.max(c.count, this.own(c.name, processId)) <=
        (this.state.capacities[c.name] ?? c.capacity)
    );
  }

  /** The claims a process still needs: those its own holdings do not already cover. */
  private needed(claims: readonly TokenClaim[], processId: string): TokenClaim[] {
    return claims.filter((c) => this.own(c.name, processId) < c.count);
  }

  /**
   * Wait-for edges: a waiting process waits for the other holders of the tokens it still needs, and for the earlier
   * waiters on those tokens (first come first served holds a token for them).
   */
  private edges(grant?: Holding): Map<string, Set<string>> {
    const graph = new Map<string, Set<string>>();
    const link = (from: string, to: string) => {
      if (to !== from) (graph.get(from) ?? graph.set(from, new Set()).get(from))?.add(to);
    };
    const ordered = [...this.state.waiters].sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    ordered.forEach((w, i) => {
      for (const c of this.needed(w.claims, w.processId)) {
        for (const holder of this.holdersOf(c.name)) link(w.processId, holder);
        if (grant?.claims.some((g) => g.name === c.name)) link(w.processId, grant.processId);
        for (const earlier of ordered.slice(0, i)) {
          if (earlier.claims.some((e) => e.name === c.name)) link(w.processId, earlier.processId);
        }
      }
    });
    return graph;
  }

  private answer(waiter: TokenRequest, granted: boolean, reason?: string, waitedMs?: number): void {
    const { state } = this;
    state.answered.push(waiter.requestId);
    if (state.answered.length > MAX_ANSWERED) state.answered.splice(0, state.answered.length - MAX_ANSWERED);
    this.outbox.push({
      processId: waiter.processId,
      requestId: waiter.requestId,
      granted,
      ...(reason ? { reason } : {}),
      ...(waitedMs !== undefined ? { waitedMs } : {}),
    });
  }

  /** Grants every waiter that can go, by priority, then arrival; a token claimed by an earlier waiter is held for it. */
  private grantReady(): void {
    const { state } = this;
    state.waiters.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    const reserved = new Set<string>();
    for (const waiter of [...state.waiters]) {
      const claims = this.needed(waiter.claims, waiter.processId);
      const blocked = claims.some((c) => reserved.has(c.name));
      if (blocked || !this.fits(waiter.claims, waiter.processId)) {
        claims.forEach((c) => reserved.add(c.name));
        continue;
      }
      const holding: Holding = {
        requestId: waiter.requestId,
        processId: waiter.processId,
        claims: waiter.claims,
        since: this.clock.nowIso(),
      };
      state.waiters = state.waiters.filter((w) => w !== waiter);
      // A grant to a process that still waits elsewhere must not close a cycle either.
      if (state.waiters.some((w) => w.processId === waiter.processId) && cycleThrough(this.edges(holding))) {
        state.waiters.push(waiter);
        claims.forEach((c) => reserved.add(c.name));
        continue;
      }
      state.holdings.push(holding);
      this.answer(waiter, true, undefined, this.clock.nowMs() - Date.parse(waiter.since));
    }
  }
}

/** A cycle in a wait-for graph, as the path around it (first node repeated at the end), if there is one. */
function cycleThrough(graph: Map<string, Set<string>>): string[] | undefined {
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
}
