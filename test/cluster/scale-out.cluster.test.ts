/**
 * Scale-out: the same load (provisioning processes started at once, some failing at a step their args choose) against
 * 1, 2 and 4 worker processes on one task queue. Each run must be correct (every report matches the effects on disk)
 * and, with more than one worker, the work must spread: every worker process runs a share of the activities and
 * workflow tasks. Throughput and the CPU each process used (Temporal's services, PostgreSQL, the workers, this client)
 * are recorded for BENCHMARKS.md, so the bottleneck can be named; nothing here asserts a speed-up.
 *
 * `JIPPER_SCALE_COUNT` (default 60) sets the processes per run.
 */
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { clusterSettings } from '../../src/dev/cluster/settings';
import { recordFigure } from '../support/figures';
import { loadDiscrepancies, runLoad } from '../support/load';
import { testConnection } from '../support/server';
import type { TestConnection } from '../support/server';
import type { WorkerProcess } from '../support/worker-process';
import type { Sandbox } from './support';
import { cpuSnapshot, cpuUsed, machineCpu, machineLoad, spawnWorkers, volumeSandbox, workSplit } from './support';

const COUNT = z.coerce
  .number()
  .int()
  .min(10)
  .max(1000)
  .parse(process.env.JIPPER_SCALE_COUNT ?? '60');
const settings = clusterSettings();
let conn: TestConnection;
const sandboxes: Sandbox[] = [];
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  conn = await testConnection();
});
afterEach(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  workers = [];
});
afterAll(async () => {
  await conn?.close();
  await Promise.all(sandboxes.map((s) => rm(s.dir, { recursive: true, force: true })));
});

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

test.each([1, 2, 4])(`${COUNT} processes on %i worker process(es): correct, spread over every worker`, async (n) => {
  const s = await volumeSandbox(`scale-${n}`);
  sandboxes.push(s);
  workers = await spawnWorkers(s, n);
  // Warm up: the workers' first workflow tasks load the bundle; the task queue's partitions get loaded.
  await runLoad({ client: conn.client, ...s, count: 4, seed: 7, prefix: `warm-${n}` });

  const before = cpuSnapshot(settings, workers);
  const machineBefore = machineCpu();
  const result = await runLoad({ client: conn.client, ...s, count: COUNT, seed: 4_242 + n, prefix: `scale-${n}` });
  const cpu = cpuUsed(before, cpuSnapshot(settings, workers));
  const machine = machineLoad(machineBefore, machineCpu(), result.totalMs / 1000);

  expect(await loadDiscrepancies(s.sandbox, result)).toEqual([]);
  const split = await workSplit(
    conn.client,
    result.reports.map((r) => r.processId)
  );
  const pids = workers.map((w) => w.pid);
  const perWorker = pids.map((pid) => ({
    pid,
    activities: split.activities[pid] ?? 0,
    workflowTasks: split.workflowTasks[pid] ?? 0,
  }));
  // Every task was run by one of these workers, and each of them ran a share (at least a quarter of an even one).
  expect(Object.keys(split.activities).map(Number).sort()).toEqual([...pids].sort());
  const totalActivities = perWorker.reduce((sum, w) => sum + w.activities, 0);
  for (const w of perWorker) expect(w.activities).toBeGreaterThanOrEqual(Math.floor(totalActivities / n / 4));

  const seconds = result.totalMs / 1000;
  const cpuTotal = Object.values(cpu).reduce((a, b) => a + b, 0);
  recordFigure(`cluster scale-out ${n} worker(s)`, {
    workers: n,
    processes: COUNT,
    totalMs: result.totalMs,
    processesPerSecond: round(COUNT / seconds),
    activitiesPerSecond: round(totalActivities / seconds),
    byStatus: result.byStatus,
    perWorker,
    cpuSeconds: cpu,
    cpuTotalSeconds: round(cpuTotal, 1),
    // Cores (of 2) busy on average over the run: with this cluster's processes, and on the whole machine (other
    // users' processes included), and cores idle waiting for I/O.
    coresBusy: round(cpuTotal / seconds),
    machineCoresBusy: machine.busy,
    machineCoresIowait: machine.iowait,
  });
});
