/**
 * Many provisioning processes started at once on the example volume library, some failing at a step chosen (by
 * their args) from a seeded random sequence, then every report checked against the sandbox: none lost, each one's
 * status and failed step what its args made it, every effect standing exactly once or not at all as its report says,
 * and nothing left behind that no report accounts for.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { inspectSandbox } from '../../src/examples/volume/volume-jobs';
import type { JobRegistry } from '../../src/runtime/registry';
import { startProcess, waitForReport } from '../../src/client';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { ProcessReport } from '../../src/shared/report';
import type { FailAt, Provisioning } from './volume-effects';
import { TAKEN_EXPORT, actualEffects, exportNameOf, expectedEffects, provisioning } from './volume-effects';

/** A small deterministic generator (mulberry32), so a failing mix can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OUTCOMES: (FailAt | undefined)[] = [undefined, undefined, undefined, 'alloc', 'quota', 'export', 'last'];
const FAILED_STEP: Record<FailAt, string> = { alloc: 'alloc', quota: 'quota', export: 'export', last: 'spare' };

export interface LoadOptions {
  client: Client;
  taskQueue: string;
  registry: JobRegistry;
  sandbox: string;
  count: number;
  seed: number;
  /** Volume name prefix, unique per load run in a sandbox. */
  prefix: string;
  /** Process options for every process (e.g. short step timeouts when workers get killed). */
  options?: ProcessDefinition['options'];
  /** Called once every process has started (e.g. to start killing workers). */
  onStarted?: () => void;
  /** How each report is awaited; default {@link waitForReport} (a test that kills the frontend retries around it). */
  wait?: (handle: WorkflowHandle) => Promise<ProcessReport>;
}

export interface LoadResult {
  specs: Provisioning[];
  reports: ProcessReport[];
  startMs: number;
  totalMs: number;
  byStatus: Record<string, number>;
}

/** Starts `count` processes at once and waits for every report. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const random = seededRandom(o.seed);
  const specs: Provisioning[] = Array.from({ length: o.count }, (_, i) => {
    const failAt = OUTCOMES[Math.floor(random() * OUTCOMES.length)];
    return {
      volume: `${o.prefix}-${i}`,
      sizeMb: 1,
      ...(failAt ? { failAt } : {}),
      ...(o.options ? { options: o.options } : {}),
    };
  });
  const started = Date.now();
  // Process ids unique to this run: an id names one process, and a server may outlive a test run (TEMPORAL_ADDRESS).
  const run = Math.random().toString(36).slice(2, 8);
  const handles = await Promise.all(
    specs.map((spec, i) =>
      startProcess(o.client, provisioning(spec), {
        taskQueue: o.taskQueue,
        registry: o.registry,
        id: `${o.prefix}-${i}-${run}`,
      })
    )
  );
  const startMs = Date.now() - started;
  o.onStarted?.();
  const reports = await Promise.all(handles.map((h) => (o.wait ?? waitForReport)(h)));
  const totalMs = Date.now() - started;
  const byStatus: Record<string, number> = {};
  for (const r of reports) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  return { specs, reports, startMs, totalMs, byStatus };
}

/**
 * Everything that must hold after a load run; returns a list of what does not (empty when all is well), so a test
 * can show every discrepancy at once.
 */
export async function loadDiscrepancies(
  sandbox: string,
  { specs, reports }: Pick<LoadResult, 'specs' | 'reports'>,
  { crashed = false }: { crashed?: boolean } = {}
): Promise<string[]> {
  const wrong: string[] = [];
  if (reports.length !== specs.length) wrong.push(`${specs.length} processes started, ${reports.length} reports`);
  const effects = await actualEffects(
    sandbox,
    reports.map((r, i) => ({
      processId: r.processId,
      volume: (specs[i] as Provisioning).volume,
      exportName: exportNameOf(specs[i] as Provisioning),
    }))
  );
  reports.forEach((report, i) => {
    const spec = specs[i] as Provisioning;
    const id = report.processId;
    const wantStatus = spec.failAt ? 'reverted' : 'succeeded';
    if (report.status !== wantStatus) wrong.push(`${id}: status ${report.status}, expected ${wantStatus}`);
    const wantFailed = spec.failAt ? FAILED_STEP[spec.failAt] : undefined;
    if (report.failedStep !== wantFailed) {
      const why = report.error ? ` (${report.error.type}: ${report.error.message})` : '';
      wrong.push(`${id}: failed at ${report.failedStep}${why}, expected ${wantFailed}`);
    }
    if (report.needsAttention.length) wrong.push(`${id}: needs attention ${report.needsAttention.join(', ')}`);
    const want = JSON.stringify(expectedEffects(report, effects.get(id)));
    const have = JSON.stringify(effects.get(id));
    if (want !== have) wrong.push(`${id}: effects ${have}, report says ${want}`);
  });

  // Nothing in the sandbox that no report accounts for.
  const accounting = await sandboxAccounting(sandbox, { specs, reports });
  for (const [what, { inSandbox, accountedFor }] of Object.entries(accounting)) {
    if (JSON.stringify([...inSandbox].sort()) !== JSON.stringify([...accountedFor].sort())) {
      wrong.push(`${what}: ${inSandbox.length} in the sandbox, ${accountedFor.length} accounted for`);
    }
  }
  const state = await inspectSandbox(sandbox);
  if (!state.exports.includes(TAKEN_EXPORT)) wrong.push(`the export ${TAKEN_EXPORT} of another team was removed`);
  // A worker killed mid-write may leave a temporary file or a lock (taken over once stale): debris, not an effect.
  if (crashed) return wrong;
  const leftovers = (await readdir(sandbox)).filter((f) => /\.(lock|takeover|tmp)$/.test(f));
  if (leftovers.length) wrong.push(`left behind: ${leftovers.join(', ')}`);
  const volumeTmp = (await readdir(join(sandbox, 'volumes')).catch(() => [] as string[])).filter((f) =>
    f.endsWith('.tmp')
  );
  if (volumeTmp.length) wrong.push(`left behind in volumes/: ${volumeTmp.join(', ')}`);
  return wrong;
}

/** One kind of effect of a load run: the names found in the sandbox, and the names the reports account for. */
export interface Accounted {
  inSandbox: string[];
  accountedFor: string[];
}

/**
 * The effects of a load run's processes found in the sandbox, kind by kind (volumes, mounts, quotas, exports, catalog
 * entries, audit lines), beside what their reports account for: the effects of the processes that succeeded, and the
 * audit lines of those that failed past it (the audit has no revert). They must be equal; their sizes are figures.
 */
export async function sandboxAccounting(
  sandbox: string,
  { specs, reports }: Pick<LoadResult, 'specs' | 'reports'>
): Promise<Record<string, Accounted>> {
  const state = await inspectSandbox(sandbox);
  const succeeded = specs.filter((_, i) => reports[i]?.status === 'succeeded');
  const audited = specs.filter((s, i) => reports[i]?.status === 'succeeded' || s.failAt === 'last');
  const prefixOf = (name: string) => specs.some((s) => name === s.volume || name === `${s.volume}-share`);
  const ours = (key: string) => reports.some((r) => key.startsWith(`${r.processId}/`));
  const volumes = succeeded.map((s) => s.volume);
  return {
    volumes: { inSandbox: state.volumes.filter(prefixOf), accountedFor: volumes },
    mounts: { inSandbox: state.mounts.filter(prefixOf), accountedFor: volumes },
    quotas: { inSandbox: state.quotas.filter(prefixOf), accountedFor: volumes },
    exports: { inSandbox: state.exports.filter(prefixOf), accountedFor: succeeded.map((s) => exportNameOf(s)) },
    'catalog entries': {
      inSandbox: state.catalog.filter((e) => ours(e.key)).map((e) => e.volume),
      accountedFor: volumes,
    },
    'audit lines': {
      inSandbox: state.audit
        .filter((line) => reports.some((r) => line.includes(` ${r.processId}/audit `)))
        .map((line) => /^\S+ \S+ ([^:\s]+):/.exec(line)?.[1] ?? line),
      accountedFor: audited.map((s) => s.volume),
    },
  };
}

/** {@link sandboxAccounting} as counts, for the figures: `{ volumes: "78 of 78", ... }`. */
export async function accountingFigures(
  sandbox: string,
  result: Pick<LoadResult, 'specs' | 'reports'>
): Promise<Record<string, string>> {
  const accounting = await sandboxAccounting(sandbox, result);
  return Object.fromEntries(
    Object.entries(accounting).map(([what, a]) => [
      what,
      `${a.inSandbox.length} in the sandbox, ${a.accountedFor.length} accounted for`,
    ])
  );
}
