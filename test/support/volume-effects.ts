/**
 * A provisioning process on the example volume library, and the check that ties its report to the effects left in
 * the sandbox: every job whose report says its effect stands (succeeded, or skipped while unwinding because it has no
 * revert) left exactly one effect keyed by its idempotency key; every other job (reverted, failed, not run) left none.
 * A job that ran twice would leave two catalog entries or two audit lines; a revert that did not run, or undid
 * another process's work, leaves a count that does not match.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { JobOptions } from '../../src/schema/definition';
import type { ProcessReport } from '../../src/shared/report';
import { OUTCOME_UNKNOWN_REASON } from '../../src/shared/report';
import type { EffectProbes, ProbedCall } from '../../src/testing/effects';

/** The steps whose effects are counted, in definition order. */
export const EFFECT_STEPS = ['alloc', 'fs', 'quota', 'export', 'register', 'audit'] as const;
export type EffectStep = (typeof EFFECT_STEPS)[number];
export type EffectCounts = Record<EffectStep, number>;

/** Where a provisioning process fails, by its args (domain failures, as an operator would cause them). */
export type FailAt = 'alloc' | 'quota' | 'export' | 'last';

export interface Provisioning {
  volume: string;
  /** Default `${volume}-share`. */
  exportName?: string;
  /** Default 4. */
  sizeMb?: number;
  failAt?: FailAt;
  /** Extra args for allocate-volume (zeroFill, ioLimitMbPerSec, wipeOnRelease). */
  allocArgs?: Record<string, unknown>;
  /** Options for the alloc step (timeouts, heartbeat timeout, revert options). */
  allocOptions?: JobOptions;
  /** Process options (defaults for every step, revert mode...). */
  options?: ProcessDefinition['options'];
}

/**
 * A long allocation for crash tests: zero-fill on the way forward and a wipe on the way back, both at `mbPerSec` and
 * heartbeating, with attempts to spare — every crash costs the attempt that was running.
 */
export function longAlloc(
  mbPerSec: number,
  heartbeatTimeout: string
): Pick<Provisioning, 'allocArgs' | 'allocOptions'> {
  const call = { timeout: '5m', heartbeatTimeout, retry: { maximumAttempts: 50 } };
  return {
    allocArgs: { zeroFill: true, wipeOnRelease: true, ioLimitMbPerSec: mbPerSec },
    allocOptions: { ...call, revert: call },
  };
}

/** An export name owned by nobody's process: an export-volume step that asks for it fails NameAlreadyExportedError. */
export const TAKEN_EXPORT = 'taken-by-another-team';
/** Writes the export config of {@link TAKEN_EXPORT}, as another team would have. */
export function takenExportConf(): string {
  return 'volume=legacy\npath=/elsewhere\nclients=10.0.0.0/8\nkey=another-team/export\n';
}

export function exportNameOf(spec: Provisioning): string {
  return spec.failAt === 'export' ? TAKEN_EXPORT : (spec.exportName ?? `${spec.volume}-share`);
}

/**
 * allocate → (create-filesystem ∥ set-quota) → export → register → audit [→ a spare volume larger than the pool].
 * `failAt` picks the failure: a volume larger than the pool, a quota above the volume's size, an export name another
 * team owns, or a last step (after the audit line, which has no revert) that asks for more than the pool holds.
 */
export function provisioning(spec: Provisioning): ProcessDefinition {
  const { volume, failAt } = spec;
  const sizeMb = spec.sizeMb ?? 4;
  const exportName = exportNameOf(spec);
  return {
    name: 'provision-volume',
    params: { volume },
    ...(spec.options ? { options: spec.options } : {}),
    steps: [
      {
        id: 'alloc',
        job: 'allocate-volume',
        args: { volume: { $param: 'volume' }, sizeMb: failAt === 'alloc' ? 1_000_000 : sizeMb, ...spec.allocArgs },
        ...spec.allocOptions,
      },
      {
        id: 'layout',
        parallel: [
          { id: 'fs', job: 'create-filesystem', args: { volume } },
          { id: 'quota', job: 'set-quota', args: { volume, limitMb: failAt === 'quota' ? sizeMb + 1 : sizeMb } },
        ],
      },
      { id: 'export', job: 'export-volume', args: { volume, exportName } },
      { id: 'register', job: 'register-volume', args: { volume, path: { $from: 'alloc.path' }, exportName } },
      { id: 'audit', job: 'record-audit-event', args: { volume, message: `provisioned ${volume}` } },
      ...(failAt === 'last'
        ? [{ id: 'spare', job: 'allocate-volume', args: { volume: `${volume}-spare`, sizeMb: 1_000_000 } }]
        : []),
    ],
  };
}

/**
 * What the report says should stand: 1 for a job whose effect remains, 0 otherwise. A job the report says may have left
 * its effect (failed by timeout, not reverted: {@link OUTCOME_UNKNOWN_REASON}) may have 0 or 1: given the effects found
 * (`actual`), such a step expects what was found when that is 0 or 1 — never 2 — and 0 without `actual`.
 */
export function expectedEffects(report: ProcessReport, actual?: EffectCounts): EffectCounts {
  const standing = (stepId: EffectStep): number => {
    const row = report.jobs.find((j) => j.stepId === stepId);
    if (!row) return 0;
    if (row.status === 'succeeded') return 1;
    if (row.status === 'failed' && row.revert?.reason === OUTCOME_UNKNOWN_REASON) {
      return actual && actual[stepId] <= 1 ? actual[stepId] : 0;
    }
    return row.status === 'skipped' && row.revert?.reason === 'the job has no revert' ? 1 : 0;
  };
  return Object.fromEntries(EFFECT_STEPS.map((s) => [s, standing(s)])) as EffectCounts;
}

async function readText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

async function keyIn(path: string): Promise<string | undefined> {
  const text = await readText(path);
  return text === undefined ? undefined : (JSON.parse(text) as { key?: string }).key;
}

export interface ProcessEffects {
  processId: string;
  volume: string;
  exportName: string;
}

/**
 * Counts, for each process, the effects in the sandbox that carry its idempotency keys. The shared files (catalog,
 * audit log) are read once, so this scales to a few hundred processes.
 */
export async function actualEffects(root: string, processes: ProcessEffects[]): Promise<Map<string, EffectCounts>> {
  const catalog = JSON.parse((await readText(join(root, 'catalog.json'))) ?? '[]') as { key: string }[];
  const audit = ((await readText(join(root, 'audit.log'))) ?? '').split('\n').filter(Boolean);
  const counts = new Map<string, EffectCounts>();
  for (const { processId, volume, exportName } of processes) {
    const owned = async (path: string, step: string) => ((await keyIn(path)) === `${processId}/${step}` ? 1 : 0);
    const conf = await readText(join(root, 'exports', `${exportName}.conf`));
    counts.set(processId, {
      alloc:
        (await owned(join(root, 'volumes', `${volume}.alloc.json`), 'alloc')) &&
        ((await readdir(join(root, 'volumes')).catch(() => [] as string[])).includes(`${volume}.img`) ? 1 : 0),
      fs: await owned(join(root, 'mnt', volume, '.filesystem.json'), 'fs'),
      quota: await owned(join(root, 'quotas', `${volume}.json`), 'quota'),
      export: conf?.includes(`key=${processId}/export\n`) ? 1 : 0,
      register: catalog.filter((e) => e.key === `${processId}/register`).length,
      audit: audit.filter((line) => line.includes(` ${processId}/audit `)).length,
    });
  }
  return counts;
}

/** The effects of one process. */
export async function effectsOf(root: string, report: ProcessReport, spec: Provisioning): Promise<EffectCounts> {
  const counts = await actualEffects(root, [
    { processId: report.processId, volume: spec.volume, exportName: exportNameOf(spec) },
  ]);
  return counts.get(report.processId) as EffectCounts;
}

/**
 * Effect probes of the example volume library for jipper/testing's `expectEffects`: whether the effect of one step of
 * one process is in the sandbox, found by the idempotency key it was written with.
 */
export function volumeProbes(root: string): EffectProbes {
  const owns = async (path: string, call: ProbedCall) => (await keyIn(path)) === `${call.processId}/${call.stepId}`;
  return {
    'allocate-volume': async (input: { volume: string }, call) =>
      (await owns(join(root, 'volumes', `${input.volume}.alloc.json`), call)) &&
      (await readdir(join(root, 'volumes')).catch(() => [] as string[])).includes(`${input.volume}.img`),
    'create-filesystem': (input: { volume: string }, call) =>
      owns(join(root, 'mnt', input.volume, '.filesystem.json'), call),
    'set-quota': (input: { volume: string }, call) => owns(join(root, 'quotas', `${input.volume}.json`), call),
    'export-volume': async (input: { exportName: string }, call) =>
      ((await readText(join(root, 'exports', `${input.exportName}.conf`))) ?? '').includes(
        `key=${call.processId}/${call.stepId}\n`
      ),
    'register-volume': async (_input: unknown, call) => {
      const catalog = JSON.parse((await readText(join(root, 'catalog.json'))) ?? '[]') as { key: string }[];
      return catalog.some((entry) => entry.key === `${call.processId}/${call.stepId}`);
    },
    'record-audit-event': async (_input: unknown, call) =>
      ((await readText(join(root, 'audit.log'))) ?? '').includes(` ${call.processId}/${call.stepId} `),
  };
}
