/**
 * The code-first side of the benchmark: the same steps as the Jipper definition (`jipperDefinition` in ../jobs.ts),
 * written as a workflow on `runSaga` — one `saga.run` per step, in order. run.ts bundles it on its own; its worker is
 * Jipper's (`createJipperWorker`, the same job library and settings), so a definition run and a code-first run differ
 * only in how the steps are driven.
 */
import type { ProcessReport } from '../../src/shared/report';
import { jobRef, runSaga } from '../../src/workflows/saga';
import type { ProcessShape, benchStep } from '../jobs';

const step = jobRef<typeof benchStep>('bench-step');

export async function benchCodeFirst(shape: ProcessShape): Promise<ProcessReport> {
  return runSaga(`bench-${shape.steps}`, async (saga) => {
    for (let i = 1; i <= shape.steps; i++) await saga.run(`s${i}`, step, { fail: i === shape.failAt });
  });
}
