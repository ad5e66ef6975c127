/**
 * `npm run bench -- --local`: only the cases of local jobs and eager starts (issue 30), a minute or two instead of the
 * full run's eight, against a dev server of their own with eager workflow start and eager activity dispatch allowed.
 * Writes bench/local-results.json; bench/local.md, the section BENCHMARKS.md ends with, is written by hand from it.
 *
 *   npm run bench -- --local            30 samples per side and shape
 *   npm run bench -- --local --quick    10 samples (checks the harness)
 *
 * Cases, ABAB in one run, every side on its own task queue and worker in this process:
 * - local jobs: a 10-step process of short jobs with `local: true` against the hand-written saga (ordinary
 *   activities), end to end (p50); and compensation: 10 completed steps, the 11th fails, all 10 reverted — end to end,
 *   and as "failure run minus the 10-step success run" (a local job leaves no activity events to time it from);
 * - the fixed cost per process: p50 at 1 and 10 steps, the line through them (intercept = the fixed cost), for both
 *   sides as they are, with eager workflow start (`eager` / `requestEagerStart`), and with eager start plus eager
 *   activity dispatch (`maxEagerActivityReservationsPerWorkflowTask` 3 instead of 0);
 * - what one history of each kind holds: events and completed workflow tasks.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startProcess, waitForReport } from '../src/client';
import type { ProcessDefinition } from '../src/schema/definition';
import { createJipperWorker } from '../src/worker/worker';
import type { ProcessShape } from './jobs';
import { benchLibrary, handwrittenActivities, jipperDefinition } from './jobs';
import { startBenchServer } from './server';
import {
  BENCH_WORKER_OPTIONS,
  HANDWRITTEN_BUNDLE,
  JIPPER_BUNDLE,
  PROJECT_ROOT,
  benchRegistry,
  writeBenchBundles,
} from './sides';
import { median, percentile } from './stats';

type Side = 'handwritten' | 'jipper' | 'jipper-local';
type Mode = 'plain' | 'eager-start' | 'eager-all';

interface Lane {
  side: Side;
  mode: Mode;
  taskQueue: string;
  client: Client;
}

const EAGER_SERVER_CONFIG = { 'system.enableEagerWorkflowStart': true, 'system.enableActivityEagerExecution': true };

function localDefinition(shape: ProcessShape): ProcessDefinition {
  const definition = jipperDefinition(shape);
  return { ...definition, options: { ...definition.options, defaults: { local: true } } };
}

/** Runs one process to its end; returns its id and whether the server started it eagerly. */
async function runOne(lane: Lane, shape: ProcessShape, id: string): Promise<{ eagerlyStarted: boolean }> {
  const eager = lane.mode !== 'plain';
  const expected = shape.failAt === undefined ? 'succeeded' : 'reverted';
  if (lane.side !== 'handwritten') {
    const definition = lane.side === 'jipper-local' ? localDefinition(shape) : jipperDefinition(shape);
    const handle = await startProcess(lane.client, definition, {
      taskQueue: lane.taskQueue,
      id,
      registry: benchRegistry,
      eager,
    });
    const report = await waitForReport(handle);
    if (report.status !== expected) throw new Error(`${id}: expected ${expected}, got ${report.status}`);
    return { eagerlyStarted: handle.eagerlyStarted };
  }
  const handle = await lane.client.workflow.start('handwrittenSaga', {
    taskQueue: lane.taskQueue,
    workflowId: id,
    args: [shape],
    requestEagerStart: eager,
  });
  try {
    await handle.result();
    if (shape.failAt !== undefined) throw new Error(`${id}: expected a failure, it succeeded`);
  } catch (err) {
    if (!(shape.failAt !== undefined && err instanceof WorkflowFailedError)) throw err;
  }
  return { eagerlyStarted: handle.eagerlyStarted };
}

interface Samples {
  ms: number[];
  eager: number;
  lastId: string;
}

async function sample(lanes: Lane[], shapes: Record<string, ProcessShape>, rounds: number, warmup: number) {
  const out: Record<string, Samples> = {};
  for (let round = -warmup; round < rounds; round++) {
    for (const [label, shape] of Object.entries(shapes)) {
      for (const lane of lanes) {
        const id = `bench-local-${lane.side}-${lane.mode}-${label}-${randomUUID()}`;
        const start = performance.now();
        const { eagerlyStarted } = await runOne(lane, shape, id);
        const ms = performance.now() - start;
        if (round < 0) continue;
        const key = `${lane.side}/${lane.mode}/${label}`;
        const entry = (out[key] ??= { ms: [], eager: 0, lastId: id });
        entry.ms.push(ms);
        entry.eager += eagerlyStarted ? 1 : 0;
        entry.lastId = id;
      }
    }
  }
  return out;
}

async function historyShape(client: Client, id: string) {
  const history = await client.workflow.getHandle(id).fetchHistory();
  const types = (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? '');
  const count = (suffix: string) => types.filter((t) => t.endsWith(suffix)).length;
  return {
    events: types.length,
    workflowTasks: count('WORKFLOW_TASK_COMPLETED'),
    activities: count('ACTIVITY_TASK_SCHEDULED'),
    markers: count('MARKER_RECORDED'),
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
    types: Object.fromEntries(
      [...new Set(types)].map((t) => [t.replace('EVENT_TYPE_', '').toLowerCase(), types.filter((u) => u === t).length])
    ),
  };
}

const r2 = (n: number) => Math.round(n * 100) / 100;

export async function runLocalBench(log: (line: string) => void, quick: boolean): Promise<void> {
  const rounds = quick ? 10 : 30;
  const warmup = quick ? 3 : 5;
  const server = await startBenchServer({ projectRoot: PROJECT_ROOT, stock: false, log, extra: EAGER_SERVER_CONFIG });
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const workers: Worker[] = [];
  try {
    await writeBenchBundles(log);
    const native = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    const plainClient = new Client({ connection });
    // Eager start hands the first workflow task to a worker on the client's own connection: the native one.
    const eagerClient = new Client({ connection: native });
    const lanes: Lane[] = [];
    for (const side of ['jipper-local', 'jipper', 'handwritten'] as const) {
      for (const mode of ['plain', 'eager-start', 'eager-all'] as const) {
        const taskQueue = `bench-local-${side}-${mode}-${randomUUID()}`;
        const workerOptions = {
          ...BENCH_WORKER_OPTIONS,
          maxEagerActivityReservationsPerWorkflowTask: mode === 'eager-all' ? 3 : 0,
        };
        const worker =
          side === 'handwritten'
            ? await Worker.create({
                connection: native,
                namespace: 'default',
                taskQueue,
                activities: handwrittenActivities,
                workflowBundle: { codePath: HANDWRITTEN_BUNDLE },
                ...workerOptions,
              })
            : (
                await createJipperWorker({
                  connection: native,
                  taskQueue,
                  libraries: [benchLibrary],
                  workflowBundlePath: JIPPER_BUNDLE,
                  workerOptions,
                })
              ).worker;
        workers.push(worker);
        lanes.push({ side, mode, taskQueue, client: mode === 'plain' ? plainClient : eagerClient });
      }
    }
    const running = workers.map((w) => w.run());

    // Local jobs as they are, and with an eager start (their fixed cost is most of what is left).
    const plain = lanes.filter((l) => l.mode === 'plain' || (l.side === 'jipper-local' && l.mode === 'eager-start'));
    log(`local jobs: ${rounds} samples per side, 10 steps and compensation of 10, ABAB`);
    const local = await sample(plain, { s10: { steps: 10 }, fail10: { steps: 11, failAt: 11 } }, rounds, warmup);
    log(`fixed cost: ${rounds} samples per side and mode at 1 and 10 steps`);
    const fixedLanes = lanes.filter((l) => l.side !== 'jipper-local');
    const fixed = await sample(fixedLanes, { s1: { steps: 1 }, s10: { steps: 10 } }, rounds, warmup);

    const histories: Record<string, Awaited<ReturnType<typeof historyShape>>> = {};
    for (const [key, s] of Object.entries({ ...local, ...fixed }))
      histories[key] = await historyShape(plainClient, s.lastId);

    for (const worker of workers) worker.shutdown();
    await Promise.all(running);
    await connection.close();
    await native.close();

    const summary = (s: Samples | undefined) =>
      s ? { p50: r2(median(s.ms)), p90: r2(percentile(s.ms, 90)), n: s.ms.length, eagerlyStarted: s.eager } : undefined;
    const figures = Object.fromEntries(
      Object.entries({ ...local, ...fixed }).map(([key, s]) => [key, { ...summary(s), history: histories[key] }])
    );
    const p50 = (key: string) => median((local[key] ?? fixed[key])?.ms ?? [NaN]);
    const line = (side: Side, mode: Mode) => {
      const slope = (p50(`${side}/${mode}/s10`) - p50(`${side}/${mode}/s1`)) / 9;
      return { slope: r2(slope), intercept: r2(p50(`${side}/${mode}/s1`) - slope) };
    };
    const compensation = (side: Side) => r2(p50(`${side}/plain/fail10`) - p50(`${side}/plain/s10`));
    const results = {
      at: new Date().toISOString(),
      command: `npm run bench -- --local${quick ? ' --quick' : ''}`,
      server: { cliVersion: server.cliVersion, dynamicConfig: { ...server.dynamicConfig, ...EAGER_SERVER_CONFIG } },
      rounds,
      figures,
      ratios: {
        localLatency10: r2(p50('jipper-local/plain/s10') / p50('handwritten/plain/s10')),
        localEagerLatency10: r2(p50('jipper-local/eager-start/s10') / p50('handwritten/plain/s10')),
        localEagerFailureRun10: r2(p50('jipper-local/eager-start/fail10') / p50('handwritten/plain/fail10')),
        localFailureRun10: r2(p50('jipper-local/plain/fail10') / p50('handwritten/plain/fail10')),
        localCompensation10: r2(compensation('jipper-local') / compensation('handwritten')),
        ordinaryLatency10: r2(p50('jipper/plain/s10') / p50('handwritten/plain/s10')),
      },
      compensationMs: Object.fromEntries(
        (['jipper-local', 'jipper', 'handwritten'] as const).map((s) => [s, compensation(s)])
      ),
      lines: Object.fromEntries(
        (['jipper', 'handwritten'] as const).flatMap((side) =>
          (['plain', 'eager-start', 'eager-all'] as const).map((mode) => [`${side}/${mode}`, line(side, mode)])
        )
      ),
    };
    writeFileSync(join(PROJECT_ROOT, 'bench', 'local-results.json'), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await server.stop();
  }
}
