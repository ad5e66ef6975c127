/**
 * PostgreSQL's own counters, read from the local cluster's database (bench/capacity.ts): per database
 * (`pg_stat_database`), per table (`pg_stat_user_tables`), WAL position, the next transaction id (so the write
 * transactions between two reads), and per statement (`pg_stat_statements`, when loaded).
 *
 * Backends report their counters to shared memory at most once a second, and an idle backend within 10 s
 * (PostgreSQL 15's PGSTAT_IDLE_INTERVAL), so a reader waits {@link SETTLE_MS} after the load before it reads; each read
 * is a new psql session, so it never sees a cached snapshot.
 */
import type { Postgres } from '../src/dev/cluster/postgres';
import { psql } from '../src/dev/cluster/postgres';

export const TEMPORAL_DATABASES = ['temporal', 'temporal_visibility'] as const;
/** Longer than PostgreSQL 15's idle flush interval (10 s). */
export const SETTLE_MS = 11_500;

export interface DbCounters {
  xactCommit: number;
  xactRollback: number;
  tupInserted: number;
  tupUpdated: number;
  tupDeleted: number;
}

export interface TableCounters {
  ins: number;
  upd: number;
  del: number;
}

export interface StatementCounters {
  calls: number;
  rows: number;
}

export interface Counters {
  /** When read (ms since the epoch, this process's clock). */
  at: number;
  db: Record<string, DbCounters>;
  /** `<database>.<table>` → rows inserted, updated, deleted. */
  tables: Record<string, TableCounters>;
  walBytes: number;
  /** The next transaction id: it advances once per transaction that writes (any database of the cluster). */
  nextXid: number;
  /** Statement text (normalised) → calls and rows, Temporal's role only; empty without pg_stat_statements. */
  statements: Record<string, StatementCounters>;
}

const DB_SQL = `select json_build_object(
  'db', (select json_object_agg(datname, json_build_object('xactCommit', xact_commit, 'xactRollback', xact_rollback,
    'tupInserted', tup_inserted, 'tupUpdated', tup_updated, 'tupDeleted', tup_deleted))
    from pg_stat_database where datname in ('temporal', 'temporal_visibility')),
  'walBytes', pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
  'nextXid', pg_snapshot_xmax(pg_current_snapshot())::text::bigint)`;

const TABLES_SQL = `select coalesce(json_object_agg(current_database() || '.' || relname,
  json_build_object('ins', n_tup_ins, 'upd', n_tup_upd, 'del', n_tup_del)), '{}') from pg_stat_user_tables`;

const STATEMENTS_SQL = `select coalesce(json_object_agg(s.query, json_build_object('calls', s.calls, 'rows', s.rows)),
  '{}') from (select query, sum(calls) as calls, sum(rows) as rows from pg_stat_statements
  where userid = (select oid from pg_roles where rolname = 'temporal') group by query) s`;

/** Loads pg_stat_statements (`shared_preload_libraries`, effective after a restart); true when a restart is due. */
export async function preloadStatements(pg: Postgres): Promise<boolean> {
  const loaded = (await psql(pg, 'show shared_preload_libraries')).trim();
  if (loaded.split(',').some((l) => l.trim() === 'pg_stat_statements')) return false;
  await psql(pg, `alter system set shared_preload_libraries = 'pg_stat_statements'`);
  return true;
}

export async function createStatementsExtension(pg: Postgres): Promise<void> {
  await psql(pg, 'create extension if not exists pg_stat_statements', 'temporal');
}

export async function readCounters(pg: Postgres): Promise<Counters> {
  const at = Date.now();
  const head = JSON.parse(await psql(pg, DB_SQL)) as Pick<Counters, 'db' | 'walBytes' | 'nextXid'>;
  const tables: Record<string, TableCounters> = {};
  for (const database of TEMPORAL_DATABASES) Object.assign(tables, JSON.parse(await psql(pg, TABLES_SQL, database)));
  const statements = JSON.parse(await psql(pg, STATEMENTS_SQL, 'temporal')) as Record<string, StatementCounters>;
  return { at, ...head, tables, statements };
}

type Numbers = Record<string, number>;

function diffNumbers(after: Numbers, before: Numbers | undefined): Numbers {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before?.[k] ?? 0)]));
}

function diffMap<T extends object>(after: Record<string, T>, before: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(after).map(([k, v]) => [k, diffNumbers(v as Numbers, before[k] as Numbers | undefined) as T])
  );
}

export interface CounterDelta {
  seconds: number;
  db: Record<string, DbCounters>;
  tables: Record<string, TableCounters>;
  walBytes: number;
  writeXacts: number;
  statements: Record<string, StatementCounters>;
}

export function diffCounters(after: Counters, before: Counters): CounterDelta {
  return {
    seconds: (after.at - before.at) / 1000,
    db: diffMap(after.db, before.db),
    tables: diffMap(after.tables, before.tables),
    walBytes: after.walBytes - before.walBytes,
    writeXacts: after.nextXid - before.nextXid,
    statements: diffMap(after.statements, before.statements),
  };
}
