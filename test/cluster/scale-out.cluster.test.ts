/**
 * Scale-out: the same load (provisioning processes started at once, some failing at a step their args choose) against
 * 1, 2 and 4 worker processes on one task queue. Each group has its own task queue and sandbox and is started once;
 * the rounds alternate 1, 2, 4, 4, 2, 1, ... so a change in the machine's other load hits every group alike. Each
 * round must be correct (every report matches the effects on disk) and, with more than one worker, the work must
 * spread: every worker process runs a share of the activities and workflow tasks. Throughput and the CPU each process
 * used (Temporal's services, PostgreSQL, the workers, this client; and the whole machine) are recorded for
 * BENCHMARKS.md, so the bottleneck can be named; nothing here asserts a speed-up.
 *
 * `JIPPER_SCALE_COUNT` (default 60) processes per round; `JIPPER_SCALE_ROUNDS` (default 2) rounds per group.
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
const ROUNDS = z.coerce
  .number()
  .int()
  .min(1)
  .max(10)
  .parse(process.env.JIPPER_SCALE_ROUNDS ?? '2');
const SIZES = [1, 2, 4] as const;
const settings = clusterSettings();

interface Group {
  n: number;
  sandbox: Sandbox;
  workers: WorkerProcess[];
  rounds: { processesPerSecond: number; cpuSeconds: Record<string, number>; totalMs: number }[];
}

let conn: TestConnection;
const groups: Group[] = [];

beforeAll(async () => {
  conn = await testConnection();
});
afterAll(async () => {
  await Promise.all(groups.flatMap((g) => g.workers.map((w) => w.kill('SIGTERM'))));
  await conn?.close();
  await Promise.all(groups.map((g) => rm(g.sandbox.dir, { recursive: true, force: true })));
});

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

test(`${COUNT} processes per round on 1, 2 and 4 worker processes: correct, spread over every worker`, async () => {
  for (const n of SIZES) {
    const sandbox = await volumeSandbox(`scale-${n}`);
    const group: Group = { n, sandbox, workers: await spawnWorkers(sandbox, n), rounds: [] };
    groups.push(group);
    // Warm up: the workers' first workflow tasks load the bundle; the task queue's partitions get loaded.
    await runLoad({ client: conn.client, ...sandbox, count: 4, seed: 7, prefix: `${sandbox.taskQueue}-warm` });
  }
  const order = Array.from({ length: ROUNDS }, (_, r) => (r % 2 === 0 ? [...groups] : [...groups].reverse())).flat();

  for (const [i, group] of order.entries()) {
    const { n, sandbox: s, workers } = group;
    const before = cpuSnapshot(settings, workers);
    const machineBefore = machineCpu();
    const result = await runLoad({
      client: conn.client,
      ...s,
      count: COUNT,
      // Round r of every group runs the same mix of processes.
      seed: 4_242 + group.rounds.length,
      prefix: `${s.taskQueue}-${i}`,
    });
    const cpu = cpuUsed(before, cpuSnapshot(settings, workers));
    const seconds = result.totalMs / 1000;
    const machine = machineLoad(machineBefore, machineCpu(), seconds);

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
    // Every task was run by one of this group's workers, and each of them ran a share (a quarter of an even one).
    expect(Object.keys(split.activities).map(Number).sort()).toEqual([...pids].sort());
    const activities = perWorker.reduce((sum, w) => sum + w.activities, 0);
    for (const w of perWorker) expect(w.activities).toBeGreaterThanOrEqual(Math.floor(activities / n / 4));

    const cpuTotal = Object.values(cpu).reduce((a, b) => a + b, 0);
    group.rounds.push({ processesPerSecond: COUNT / seconds, cpuSeconds: cpu, totalMs: result.totalMs });
    recordFigure(`cluster scale-out ${n} worker(s), round ${group.rounds.length}`, {
      workers: n,
      processes: COUNT,
      totalMs: result.totalMs,
      processesPerSecond: round(COUNT / seconds),
      activitiesPerSecond: round(activities / seconds),
      byStatus: result.byStatus,
      perWorker,
      cpuSeconds: cpu,
      cpuTotalSeconds: round(cpuTotal, 1),
      // Cores (of 2) busy on average over the round: with this cluster's processes; on the whole machine (other
      // users' processes included); idle waiting for I/O.
      coresBusy: round(cpuTotal / seconds),
      machineCoresBusy: machine.busy,
      machineCoresIowait: machine.iowait,
    });
  }

  const one = mean((groups[0] as Group).rounds.map((r) => r.processesPerSecond));
  recordFigure('cluster scale-out summary', {
    processes: COUNT,
    rounds: ROUNDS,
    ...Object.fromEntries(
      groups.map((g) => {
        const rates = g.rounds.map((r) => r.processesPerSecond);
        const cpu: Record<string, number> = {};
        for (const r of g.rounds) for (const [k, v] of Object.entries(r.cpuSeconds)) cpu[k] = (cpu[k] ?? 0) + v;
        const seconds = g.rounds.reduce((sum, r) => sum + r.totalMs, 0) / 1000;
        const server = ['frontend', 'history-1', 'history-2', 'matching', 'worker', 'postgres'];
        const share = (keys: (k: string) => boolean) =>
          round(
            Object.entries(cpu)
              .filter(([k]) => keys(k))
              .reduce((sum, [, v]) => sum + v, 0) / seconds
          );
        return [
          `workers${g.n}`,
          {
            processesPerSecond: round(mean(rates)),
            range: [round(Math.min(...rates)), round(Math.max(...rates))],
            vsOneWorker: round(mean(rates) / one),
            // Cores busy on average, split: Temporal's services + PostgreSQL, the worker processes, the client.
            coresServer: share((k) => server.includes(k)),
            coresPostgres: share((k) => k === 'postgres'),
            coresWorkers: share((k) => k.startsWith('worker-process-')),
            coresClient: share((k) => k === 'client'),
          },
        ];
      })
    ),
  });
});
