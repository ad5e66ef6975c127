/**
 * Helpers for the cluster tests: a volume-library sandbox, worker processes against the cluster, which worker ran
 * what (from the histories' identities), and the CPU each process of the cluster, the workers and this test process
 * used over a run (from /proc).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import { clusterPostgres, serviceProcess } from '../../src/dev/cluster/cluster';
import { postmasterPid } from '../../src/dev/cluster/postgres';
import { childPids, cpuSeconds } from '../../src/dev/cluster/processes';
import { serviceProcesses } from '../../src/dev/cluster/server-env';
import type { ClusterSettings } from '../../src/dev/cluster/settings';
import { TAKEN_EXPORT, takenExportConf } from '../support/volume-effects';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';

export interface Sandbox {
  dir: string;
  sandbox: string;
  registry: JobRegistry;
  taskQueue: string;
}

/** A fresh sandbox for the example volume library (with another team's export), and a task queue of its own. */
export async function volumeSandbox(label: string): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), `jipper-cluster-${label}-`));
  const sandbox = join(dir, 'sandbox');
  await mkdir(join(sandbox, 'exports'), { recursive: true });
  await writeFile(join(sandbox, 'exports', `${TAKEN_EXPORT}.conf`), takenExportConf());
  return {
    dir,
    sandbox,
    registry: new JobRegistry([volumeLibrary({ root: sandbox })]),
    taskQueue: `${label}-${randomUUID()}`,
  };
}

/** Starts `count` worker processes (the real entrypoint) on the sandbox's task queue, against the cluster. */
export async function spawnWorkers(s: Sandbox, count: number): Promise<WorkerProcess[]> {
  const workers: WorkerProcess[] = [];
  for (let i = 0; i < count; i++) workers.push(await spawnWorker({ taskQueue: s.taskQueue, sandbox: s.sandbox }));
  return workers;
}

export interface WorkSplit {
  /** Activity tasks started, by worker pid. */
  activities: Record<number, number>;
  /** Workflow tasks started, by worker pid. */
  workflowTasks: Record<number, number>;
}

/** Which worker process started each activity and workflow task of the processes, from their histories. */
export async function workSplit(client: Client, processIds: string[]): Promise<WorkSplit> {
  const split: WorkSplit = { activities: {}, workflowTasks: {} };
  const add = (into: Record<number, number>, identity: string | null | undefined): void => {
    const pid = Number((identity ?? '').split('@')[0]);
    if (Number.isInteger(pid) && pid > 0) into[pid] = (into[pid] ?? 0) + 1;
  };
  for (let i = 0; i < processIds.length; i += 10) {
    await Promise.all(
      processIds.slice(i, i + 10).map(async (id) => {
        const history = await client.workflow.getHandle(id).fetchHistory();
        for (const event of history.events ?? []) {
          if (event.activityTaskStartedEventAttributes)
            add(split.activities, event.activityTaskStartedEventAttributes.identity);
          if (event.workflowTaskStartedEventAttributes)
            add(split.workflowTasks, event.workflowTaskStartedEventAttributes.identity);
        }
      })
    );
  }
  return split;
}

/** CPU seconds used so far by each process of interest, by label. */
export type CpuSnapshot = Record<string, number>;

/**
 * The cluster's processes (each Temporal service; PostgreSQL with all its backends, finished ones included), the
 * given workers, and this process (the client starting and awaiting the processes).
 */
export function cpuSnapshot(settings: ClusterSettings, workers: WorkerProcess[]): CpuSnapshot {
  const snap: CpuSnapshot = {};
  for (const spec of serviceProcesses(settings)) {
    const proc = serviceProcess(settings, spec.name);
    if (proc !== undefined) snap[spec.name] = cpuSeconds(proc.pid) ?? 0;
  }
  const pg = clusterPostgres(settings);
  const postmaster = pg === undefined ? undefined : postmasterPid(pg);
  if (postmaster !== undefined) {
    snap.postgres =
      (cpuSeconds(postmaster, true) ?? 0) + childPids(postmaster).reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
  }
  workers.forEach((w, i) => (snap[`worker-process-${i + 1}`] = cpuSeconds(w.pid) ?? 0));
  snap.client = cpuSeconds(process.pid) ?? 0;
  return snap;
}

/** CPU seconds used between two snapshots, by label, rounded to 0.1 s. */
export function cpuUsed(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const used: Record<string, number> = {};
  for (const [label, end] of Object.entries(after)) used[label] = Math.round((end - (before[label] ?? 0)) * 10) / 10;
  return used;
}

/** The whole machine's CPU time so far, from /proc/stat (every core, every process, this project's or not). */
export interface MachineCpu {
  /** Seconds of CPU busy (user, nice, system, irq, softirq, steal), summed over cores. */
  busy: number;
  /** Seconds cores sat idle waiting for I/O. */
  iowait: number;
  idle: number;
}

export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const ticks = (n: number | undefined) => (n ?? 0) / 100;
  return {
    busy: ticks(user) + ticks(nice) + ticks(system) + ticks(irq) + ticks(softirq) + ticks(steal),
    iowait: ticks(iowait),
    idle: ticks(idle),
  };
}

/** Cores busy, and cores waiting for I/O, on average between two readings over `seconds`. */
export function machineLoad(before: MachineCpu, after: MachineCpu, seconds: number): { busy: number; iowait: number } {
  const round = (n: number) => Math.round(n * 100) / 100;
  return { busy: round((after.busy - before.busy) / seconds), iowait: round((after.iowait - before.iowait) / seconds) };
}
