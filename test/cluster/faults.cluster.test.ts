/**
 * Faults under load: provisioning processes started at once on two worker processes (some failing at a step their
 * args choose), and while they run, one fault: a history host, the matching service or the frontend SIGKILLed and
 * started again, PostgreSQL stopped without a checkpoint and started again, or a worker process SIGKILLed and
 * replaced. Every time: every process ends (nothing stuck past a deadline), every report is what its args made it,
 * and the sandbox holds exactly the effects the reports account for (each once, nothing lost, nothing left over).
 * A run with no fault first gives the baseline. Figures go to RELIABILITY.md.
 *
 * `JIPPER_FAULT_COUNT` (default 40) sets the processes per run.
 */
import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { z } from 'zod';
import { waitForReport } from '../../src/client';
import {
  clusterStatus,
  killService,
  restartClusterPostgres,
  restartService,
  setupNamespace,
} from '../../src/dev/cluster/cluster';
import { clusterSettings } from '../../src/dev/cluster/settings';
import type { ProcessReport } from '../../src/shared/report';
import { recordFigure } from '../support/figures';
import { loadDiscrepancies, runLoad } from '../support/load';
import { testConnection } from '../support/server';
import type { TestConnection } from '../support/server';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';
import type { Sandbox } from './support';
import { spawnWorkers, volumeSandbox } from './support';

const COUNT = z.coerce
  .number()
  .int()
  .min(10)
  .max(1000)
  .parse(process.env.JIPPER_FAULT_COUNT ?? '40');
/** Every process must have ended this long after the last one started. */
const STUCK_AFTER_MS = 6 * 60_000;
/** How long a killed service stays down before it is started again. */
const DOWN_MS = 3_000;
/** When the fault hits, after every process has started. */
const FAULT_AFTER_MS = 1_500;

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
  // The next fault starts from a whole cluster.
  const status = await clusterStatus(settings);
  if (!status.healthy) throw new Error(`the cluster did not recover: ${JSON.stringify(status.services)}`);
});
afterAll(async () => {
  await conn?.close();
  await Promise.all(sandboxes.map((s) => rm(s.dir, { recursive: true, force: true })));
});

/**
 * Waits for a report through a frontend that may be down for a while: transport errors are retried until the
 * deadline; a process that ended is never retried (its report, or its real failure, comes back at once).
 */
function patientWait(deadline: number): (handle: WorkflowHandle) => Promise<ProcessReport> {
  return async (handle) => {
    for (;;) {
      try {
        return await waitForReport(handle);
      } catch (err) {
        if (err instanceof WorkflowFailedError || Date.now() > deadline) throw err;
        await delay(1_000);
      }
    }
  };
}

interface Fault {
  name: string;
  /** The fault itself; resolves once the broken part is back (started again, listening). */
  inject: (s: Sandbox) => Promise<void>;
  /** A worker process is killed mid-write: temporary files and stale locks may be left, as on a real crash. */
  crashed?: boolean;
}

async function killAndRestart(name: string): Promise<void> {
  await killService(settings, name, 'SIGKILL');
  await delay(DOWN_MS);
  await restartService(settings, name);
  if (name === 'frontend') await setupNamespace(settings.address, () => undefined);
}

const FAULTS: Fault[] = [
  { name: 'no fault (baseline)', inject: async () => undefined },
  { name: 'kill -9 history-1, restarted after 3 s', inject: () => killAndRestart('history-1') },
  { name: 'kill -9 matching, restarted after 3 s', inject: () => killAndRestart('matching') },
  { name: 'kill -9 frontend, restarted after 3 s', inject: () => killAndRestart('frontend') },
  {
    name: 'PostgreSQL stopped without a checkpoint (immediate), started after 3 s',
    inject: () => restartClusterPostgres(settings, 'immediate', DOWN_MS),
  },
  {
    name: 'kill -9 a worker process, a new one started',
    crashed: true,
    inject: async (s) => {
      const victim = workers[0] as WorkerProcess;
      await victim.kill('SIGKILL');
      workers[0] = await spawnWorker({ taskQueue: s.taskQueue, sandbox: s.sandbox });
    },
  },
];

test.each(FAULTS.map((f) => [f.name, f] as const))(
  `${COUNT} processes under load, %s: each effect once, every report consistent, none lost or stuck`,
  async (_name, fault) => {
    const s = await volumeSandbox('faults');
    sandboxes.push(s);
    workers = await spawnWorkers(s, 2);
    let injected: Promise<{ faultAtMs: number; backAtMs: number }> | undefined;
    const started = Date.now();
    const deadline = { at: Number.POSITIVE_INFINITY };
    const run = runLoad({
      client: conn.client,
      ...s,
      count: COUNT,
      seed: 9_001,
      prefix: s.taskQueue,
      // A lost attempt (its worker killed, or its completion lost with a service) is retried after this timeout.
      options: { defaults: { timeout: '10s' } },
      wait: (handle) => patientWait(deadline.at)(handle),
      onStarted: () => {
        deadline.at = Date.now() + STUCK_AFTER_MS;
        injected = (async () => {
          await delay(FAULT_AFTER_MS);
          const faultAtMs = Date.now() - started;
          await fault.inject(s);
          return { faultAtMs, backAtMs: Date.now() - started };
        })();
      },
    });
    const result = await run;
    const timing = await (injected ?? Promise.reject(new Error('the load never started')));

    expect(result.reports).toHaveLength(COUNT);
    // The fault hit while processes were still running.
    expect(timing.faultAtMs).toBeLessThan(result.totalMs);
    expect(await loadDiscrepancies(s.sandbox, result, { crashed: fault.crashed ?? false })).toEqual([]);
    recordFigure(`cluster fault: ${fault.name}`, {
      processes: COUNT,
      ...timing,
      // Past the point the broken part was back, how long the last process took to end.
      tailAfterBackMs: Math.max(0, result.totalMs - timing.backAtMs),
      totalMs: result.totalMs,
      byStatus: result.byStatus,
    });
  }
);
