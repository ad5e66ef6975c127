/**
 * bench/capacity.ts's arithmetic: the capacity model's figures for a kind of process (docs/capacity.md, as written
 * before this measurement) and the measured figures per process, net of the idle cluster's own writes.
 */
import type { ProcessShape } from './jobs';
import type { CounterDelta } from './pg-counters';

export interface Kind {
  name: string;
  side: 'jipper' | 'jipper-local' | 'handwritten';
  shape: ProcessShape;
}

/** The model's figures: history events, history (write) transactions, and rows written at 4 a transaction. */
export function modelFor(kind: Kind): { events: number; transactions: number; rows: number } {
  const failed = kind.shape.failAt !== undefined;
  // Steps that complete; on the failure path all of them are reverted (k = s).
  const s = failed ? kind.shape.steps - 1 : kind.shape.steps;
  let events: number;
  let transactions: number;
  if (kind.side === 'jipper-local') {
    events = failed ? 11 + 2 * s : 9 + s;
    transactions = 3;
  } else {
    const base = kind.side === 'jipper' ? (failed ? 16 : 9) : failed ? 11 : 5;
    events = base + 6 * s + (failed ? 6 * s : 0);
    transactions = 2 + 4 * s + (failed ? 4 + 4 * s : 0);
  }
  return { events, transactions, rows: 4 * transactions };
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/** Idle counters per second, pooled over the idle windows. */
function idleRate(idle: CounterDelta[], pick: (d: CounterDelta) => number): number {
  const seconds = idle.reduce((sum, d) => sum + d.seconds, 0);
  return idle.reduce((sum, d) => sum + pick(d), 0) / seconds;
}

const VERBS = ['select', 'insert', 'update', 'delete'] as const;

function verbOf(query: string): string {
  const word = query.trimStart().split(/\s+/)[0]?.toLowerCase() ?? '';
  return (VERBS as readonly string[]).includes(word) ? word : 'other';
}

/**
 * Per process: (delta over the kind's window - idle rate x window length) / n, for every counter; tables and statements
 * keep only those that moved by at least 0.05 a process.
 */
export function perProcess(delta: CounterDelta, idle: CounterDelta[], n: number) {
  const net = (pick: (d: CounterDelta) => number) => r1((pick(delta) - idleRate(idle, pick) * delta.seconds) / n);
  const db = Object.fromEntries(
    Object.keys(delta.db).map((name) => [
      name,
      Object.fromEntries(
        Object.keys(delta.db[name]!).map((field) => [
          field,
          net((d) => (d.db[name] as unknown as Record<string, number> | undefined)?.[field] ?? 0),
        ])
      ),
    ])
  );
  const tables = Object.fromEntries(
    Object.keys(delta.tables)
      .map((t) => {
        const of = (f: 'ins' | 'upd' | 'del') => net((d) => d.tables[t]?.[f] ?? 0);
        return [t, { ins: of('ins'), upd: of('upd'), del: of('del') }] as const;
      })
      .filter(([, v]) => Math.abs(v.ins) + Math.abs(v.upd) + Math.abs(v.del) >= 0.05)
      .sort(([, a], [, b]) => b.ins + b.upd + b.del - (a.ins + a.upd + a.del))
  );
  const statementsByVerb: Record<string, number> = {};
  for (const verb of [...VERBS, 'other']) {
    const calls = (d: CounterDelta) =>
      Object.entries(d.statements)
        .filter(([q]) => verbOf(q) === verb)
        .reduce((sum, [, s]) => sum + s.calls, 0);
    statementsByVerb[verb] = net(calls);
  }
  const topStatements = Object.keys(delta.statements)
    .map((q) => ({ query: q.replace(/\s+/g, ' ').slice(0, 160), calls: net((d) => d.statements[q]?.calls ?? 0) }))
    .filter((s) => s.calls >= 0.05)
    .sort((a, b) => b.calls - a.calls)
    .slice(0, 25);
  // From the tables, not pg_stat_database: its tup_* also count catalog rows (autovacuum's analyze).
  const rowsWritten = (database: string) => {
    const rows = Object.entries(tables).filter(([t]) => t.startsWith(`${database}.`));
    const sum = (f: (t: string, v: { ins: number; upd: number; del: number }) => number) =>
      r1(rows.reduce((total, [t, v]) => total + f(t, v), 0));
    return {
      inWindow: sum((_, v) => v.ins + v.upd + v.del),
      // Task rows (transfer, timer, visibility tasks) are deleted in ranges once processed, lazily and across kinds: count
      // each as deleted once, as it will be.
      steadyState: sum((t, v) => v.ins + v.upd + (t.endsWith('_tasks') ? v.ins : v.del)),
    };
  };
  const executions = tables['temporal.executions'];
  const begins = net((d) =>
    Object.entries(d.statements)
      .filter(([q]) => /^\s*begin\b/i.test(q))
      .reduce((sum, [, st]) => sum + st.calls, 0)
  );
  return {
    // A write of the execution's mutable state: the `executions` row inserted or updated (each in its own transaction).
    mutableStateWrites: executions === undefined ? 0 : r1(executions.ins + executions.upd),
    // Explicit transactions (`BEGIN`); the rest of `writeXacts` commit a single statement (history appends, visibility).
    explicitTransactions: begins,
    writeXacts: net((d) => d.writeXacts),
    walBytes: Math.round(net((d) => d.walBytes)),
    rowsWritten: { temporal: rowsWritten('temporal'), visibility: rowsWritten('temporal_visibility') },
    db,
    tables,
    statementsByVerb,
    topStatements,
  };
}
