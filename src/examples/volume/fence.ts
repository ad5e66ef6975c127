/**
 * Fences: a revert records when it was scheduled, under its step's lock, and a run applies its effect under the same
 * lock only when no revert of its step was scheduled after it (see volume-jobs.ts).
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobContext, RevertContext } from '../../jobs/job';
import { SupersededAttemptError } from './errors';
import { readJson, withLock, writeJson } from './files';

/** What a revert leaves for its step: when the latest revert of the step was scheduled (server clock, ms). */
interface Fence {
  key: string;
  revertScheduledAt: number;
}

const fenceLock = (runKey: string) => `fence-${createHash('sha256').update(runKey).digest('hex').slice(0, 16)}`;
const fencePath = (root: string, runKey: string) => join(root, 'fences', `${encodeURIComponent(runKey)}.json`);

/**
 * Applies a run's effect under its step's fence: refuses, with {@link SupersededAttemptError}, when the step was
 * reverted after this attempt was scheduled. Waiting for the fence stops when the attempt's signal aborts.
 */
export async function applyFenced<T>(root: string, ctx: JobContext, apply: () => Promise<T>): Promise<T> {
  return withLock(
    root,
    fenceLock(ctx.idempotencyKey),
    async () => {
      const fence = await readJson<Fence>(fencePath(root, ctx.idempotencyKey));
      if (fence && fence.revertScheduledAt > ctx.scheduledAt) {
        const at = (ms: number) => new Date(ms).toISOString();
        const message = `attempt ${ctx.attempt} of ${ctx.idempotencyKey} (scheduled ${at(ctx.scheduledAt)}) applies nothing: the step was reverted by an attempt scheduled ${at(fence.revertScheduledAt)}`;
        ctx.log.warn(`late attempt refused: ${message}`);
        throw new SupersededAttemptError(message);
      }
      return apply();
    },
    ctx.signal
  );
}

/**
 * Fences a step off before its revert undoes it: from now on no attempt of its run scheduled before this revert
 * applies its effect (one that is applying it right now finishes first, and the revert then undoes it too).
 */
export async function fenceOff(root: string, ctx: RevertContext): Promise<void> {
  const runKey = `${ctx.processId}/${ctx.stepId}`;
  await mkdir(join(root, 'fences'), { recursive: true });
  await withLock(
    root,
    fenceLock(runKey),
    async () => {
      const fence = await readJson<Fence>(fencePath(root, runKey));
      if (fence && fence.revertScheduledAt >= ctx.scheduledAt) return;
      await writeJson(fencePath(root, runKey), { key: runKey, revertScheduledAt: ctx.scheduledAt } satisfies Fence);
    },
    ctx.signal
  );
}
