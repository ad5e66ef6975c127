/**
 * Unwinding: in what order a process's completed jobs are reverted, and how the unwinding ends.
 *
 * Each completed step (a group's completed members together) is a unit of the revert stack, in completion order. A
 * unit is reverted once every completed unit that depends on it (its `needs`, transitively) has been reverted; units
 * that do not depend on each other are reverted side by side, in waves. A plain list is a chain, so its units are
 * reverted one at a time, newest first (LIFO). `revertMode: parallel` reverts everything at once.
 */
import type { PlanNode } from '../shared/plan';
import type { ProcessStatus } from '../shared/report';
import { dependencyTest } from './graph';

/** A revert stack: units in completion order, each the step ids that completed together. */
export type RevertUnits = readonly (readonly string[])[];

export type RevertMode = 'sequential' | 'parallel';
export type OnRevertFailure = 'continue' | 'park';

/**
 * The waves an unwinding reverts, in order: each wave's step ids are reverted side by side (in the order listed,
 * which is the reverse of their completion within a unit). `nodes` gives the dependencies between steps; without
 * them (code-first sagas, plans made before graphs) the units form a chain.
 */
export function revertWaves(
  units: RevertUnits,
  options: { nodes?: readonly PlanNode[]; mode?: RevertMode } = {}
): string[][] {
  const reversed = (unit: readonly string[]) => [...unit].reverse();
  if (!units.length) return [];
  if (options.mode === 'parallel') return [units.flat().reverse()];
  const depends = options.nodes ? dependencyTest(options.nodes) : undefined;
  if (!depends) return [...units].reverse().map(reversed);
  // level(u) = 0 when no later-completed unit depends on u, else 1 + the largest level of those that do.
  const level = new Array<number>(units.length).fill(0);
  for (let i = units.length - 1; i >= 0; i--) {
    for (let j = i + 1; j < units.length; j++) {
      if (unitDependsOn(units[j] as readonly string[], units[i] as readonly string[], depends)) {
        level[i] = Math.max(level[i] as number, (level[j] as number) + 1);
      }
    }
  }
  const waves: string[][] = [];
  // Within a wave, newest unit first.
  for (let i = units.length - 1; i >= 0; i--) {
    const l = level[i] as number;
    (waves[l] ??= []).push(...reversed(units[i] as readonly string[]));
  }
  return waves.filter((wave) => wave !== undefined);
}

function unitDependsOn(
  later: readonly string[],
  earlier: readonly string[],
  depends: (a: string, b: string) => boolean
): boolean {
  return later.some((a) => earlier.some((b) => depends(a, b)));
}

/** The revert stack once `wave` has been reverted: the units it emptied are gone. */
export function afterWave<U extends readonly string[]>(units: readonly U[], wave: readonly string[]): U[] {
  const done = new Set(wave);
  return units.filter((unit) => !unit.every((stepId) => done.has(stepId)));
}

/** What happens to a job in the unwinding: its revert runs, or it has none and is skipped. */
export function revertAction(job: { hasRevert: boolean }): 'revert' | 'skip' {
  return job.hasRevert ? 'revert' : 'skip';
}

/** What a revert that failed (after its retries) does: it needs a person and the unwinding goes on, or it parks. */
export function revertFailure(onRevertFailure: OnRevertFailure): 'needs-attention' | 'park' {
  return onRevertFailure === 'continue' ? 'needs-attention' : 'park';
}

/** How a process ends once its revert stack is unwound: `revert_failed` when a revert needs a person. */
export function statusAfterUnwinding(cancelled: boolean, needsAttention: number): ProcessStatus {
  return needsAttention > 0 ? 'revert_failed' : cancelled ? 'cancelled' : 'reverted';
}
