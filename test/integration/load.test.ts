/**
 * Load, the quick variant (the 200-process run is test/faults/load.faults.test.ts): 30 provisioning processes
 * started at once against one worker, about half failing at a step their args choose. None is lost, every report is
 * what its args made it, and the sandbox holds exactly the effects the reports account for.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { recordFigure } from '../support/figures';
import { loadDiscrepancies, runLoad } from '../support/load';
import { TAKEN_EXPORT, takenExportConf } from '../support/volume-effects';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

let sandbox: string;
let tw: TestWorker;

beforeAll(async () => {
  sandbox = await mkdtemp(join(tmpdir(), 'jipper-load-'));
  await mkdir(join(sandbox, 'exports'), { recursive: true });
  await writeFile(join(sandbox, 'exports', `${TAKEN_EXPORT}.conf`), takenExportConf());
  tw = await startTestWorker([volumeLibrary({ root: sandbox })], 'load');
});
afterAll(async () => {
  await tw?.shutdown();
  if (sandbox) await rm(sandbox, { recursive: true, force: true });
});

test('30 processes at once, some failing at random steps: none lost, every report matches the effects on disk', async () => {
  const seed = 20_261_122;
  const result = await runLoad({
    client: tw.client,
    taskQueue: tw.taskQueue,
    registry: tw.registry,
    sandbox,
    count: 30,
    seed,
    prefix: 'load',
  });
  expect(result.reports).toHaveLength(30);
  expect(result.byStatus.succeeded).toBeGreaterThan(0);
  expect(result.byStatus.reverted).toBeGreaterThan(0);
  expect(await loadDiscrepancies(sandbox, result)).toEqual([]);
  recordFigure('load 30', { seed, startMs: result.startMs, totalMs: result.totalMs, byStatus: result.byStatus });
});
