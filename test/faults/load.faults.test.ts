/**
 * Load: 200 provisioning processes started at once on this machine against one worker process, about half failing
 * at a step their args choose; then the same again while the worker process is SIGKILLed twice and restarted. None is
 * lost, every report is what its args made it, and the sandbox holds exactly the effects the reports account for.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import { recordFigure } from '../support/figures';
import { accountingFigures, loadDiscrepancies, runLoad } from '../support/load';
import { testConnection } from '../support/server';
import type { TestConnection } from '../support/server';
import { TAKEN_EXPORT, takenExportConf } from '../support/volume-effects';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';

const COUNT = 200;
let conn: TestConnection;
let dir: string;
let sandbox: string;
let registry: JobRegistry;
let taskQueue: string;
let worker: WorkerProcess;
const workerLogs: string[] = [];

/** How many lines of the workers' logs match `pattern`. */
async function countInWorkerLogs(pattern: RegExp): Promise<number> {
  const logs = await Promise.all(workerLogs.map((file) => readFile(file, 'utf8')));
  return logs.reduce((sum, log) => sum + (log.match(new RegExp(pattern, 'g'))?.length ?? 0), 0);
}

beforeAll(async () => {
  conn = await testConnection();
  dir = await mkdtemp(join(tmpdir(), 'jipper-load-faults-'));
  sandbox = join(dir, 'sandbox');
  await mkdir(join(sandbox, 'exports'), { recursive: true });
  await writeFile(join(sandbox, 'exports', `${TAKEN_EXPORT}.conf`), takenExportConf());
  registry = new JobRegistry([volumeLibrary({ root: sandbox })]);
  taskQueue = `load-faults-${randomUUID()}`;
  worker = await spawnWorker({ taskQueue, sandbox });
  workerLogs.push(worker.logFile);
});
afterAll(async () => {
  await worker?.kill();
  await conn?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test(`${COUNT} processes at once, some failing at random steps: none lost, every report matches the effects`, async () => {
  const seed = 1_122;
  const result = await runLoad({
    client: conn.client,
    taskQueue,
    registry,
    sandbox,
    count: COUNT,
    seed,
    prefix: 'load',
  });
  expect(result.reports).toHaveLength(COUNT);
  expect(await loadDiscrepancies(sandbox, result)).toEqual([]);
  recordFigure(`load ${COUNT}`, {
    seed,
    startMs: result.startMs,
    totalMs: result.totalMs,
    byStatus: result.byStatus,
    accounting: await accountingFigures(sandbox, result),
  });
});

test(`${COUNT} processes at once while the worker is SIGKILLed twice: none lost, nothing applied twice`, async () => {
  const seed = 2_211;
  let done = false;
  let kills = 0;
  let killer: Promise<void> = Promise.resolve();
  const result = await runLoad({
    client: conn.client,
    taskQueue,
    registry,
    sandbox,
    count: COUNT,
    seed,
    prefix: 'killed',
    // A lost attempt is retried after its start-to-close timeout: keep it short.
    options: { defaults: { timeout: '10s' } },
    onStarted: () => {
      killer = (async () => {
        for (const afterMs of [2_000, 6_000]) {
          await new Promise((r) => setTimeout(r, afterMs));
          if (done) return;
          await worker.kill('SIGKILL');
          kills += 1;
          worker = await spawnWorker({ taskQueue, sandbox });
          workerLogs.push(worker.logFile);
        }
      })();
    },
  });
  done = true;
  await killer;
  expect(kills).toBe(2);
  expect(result.reports).toHaveLength(COUNT);
  expect(await loadDiscrepancies(sandbox, result, { crashed: true })).toEqual([]);
  recordFigure(`load ${COUNT} with worker kills`, {
    seed,
    kills,
    // Attempts Temporal timed out while they ran on a live worker (told at their own deadline), and late attempts
    // refused by a step's fence: the fault of RELIABILITY.md's bug 10, met and handled (counted over the file's workers).
    lateAttempts: {
      expired: await countInWorkerLogs(/its signal is aborted/),
      expiredAllocs: await countInWorkerLogs(/\/alloc \(job "allocate-volume"\): .*its signal is aborted/),
      refused: await countInWorkerLogs(/late attempt refused/),
    },
    startMs: result.startMs,
    totalMs: result.totalMs,
    byStatus: result.byStatus,
    accounting: await accountingFigures(sandbox, result),
  });
});
