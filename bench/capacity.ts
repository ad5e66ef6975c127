/**
 * `npm run bench:capacity`: what one process costs the database, measured with PostgreSQL's own counters on the local
 * cluster (src/dev/cluster: PostgreSQL 15 and Temporal server v1.32.0 as separate services), next to the capacity
 * model of docs/capacity.md. Writes bench/capacity-results.json.
 *
 *   npm run bench:capacity               50 processes of each kind
 *   npm run bench:capacity -- --n 10     10 (checks the harness)
 *
 * It starts its own cluster (JIPPER_CLUSTER_DIR `.jipper/capacity-cluster`, JIPPER_CLUSTER_BASE_PORT 17400 unless set,
 * so it does not clash with `npm run cluster` or a test cluster), loads pg_stat_statements (a PostgreSQL restart), and
 * stops the cluster at the end unless it was already running. A Jipper worker and a hand-written saga worker run in
 * this process. For each kind it runs N processes one after another and reads the counters (bench/pg-counters.ts)
 * before and after, each time after a quiet period; the idle cluster's own writes (shard and task-queue lease renewals)
 * are measured over idle windows with the workers polling, and subtracted at their rate per second.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import { z } from 'zod';
import { startProcess, waitForReport } from '../src/client';
import {
  clusterDown,
  clusterPostgres,
  clusterStatus,
  clusterUp,
  restartClusterPostgres,
} from '../src/dev/cluster/cluster';
import type { Postgres } from '../src/dev/cluster/postgres';
import type { ClusterSettings } from '../src/dev/cluster/settings';
import { clusterSettings } from '../src/dev/cluster/settings';
import type { ProcessDefinition } from '../src/schema/definition';
import type { ProcessShape } from './jobs';
import { jipperDefinition } from './jobs';
import type { CounterDelta } from './pg-counters';
import { SETTLE_MS, createStatementsExtension, diffCounters, preloadStatements, readCounters } from './pg-counters';
import { PROJECT_ROOT, benchRegistry, createSideWorker, runToResult } from './sides';
import { modelFor, perProcess } from './capacity-model';
import type { Kind } from './capacity-model';

const KINDS: Kind[] = [
  { name: 'jipper-1', side: 'jipper', shape: { steps: 1 } },
  { name: 'jipper-10', side: 'jipper', shape: { steps: 10 } },
  { name: 'jipper-fail-10', side: 'jipper', shape: { steps: 11, failAt: 11 } },
  { name: 'jipper-local-10', side: 'jipper-local', shape: { steps: 10 } },
  { name: 'jipper-local-fail-10', side: 'jipper-local', shape: { steps: 11, failAt: 11 } },
  { name: 'handwritten-1', side: 'handwritten', shape: { steps: 1 } },
  { name: 'handwritten-10', side: 'handwritten', shape: { steps: 10 } },
  { name: 'handwritten-fail-10', side: 'handwritten', shape: { steps: 11, failAt: 11 } },
];

const argsSchema = z.object({
  n: z.coerce
    .number({ error: '--n must be a number' })
    .int('--n must be a whole number')
    .min(1, '--n must be at least 1')
    .max(1000, '--n at most 1000'),
  idleSeconds: z.coerce
    .number({ error: '--idle must be a number (seconds)' })
    .int('--idle must be a whole number of seconds')
    .min(10, '--idle must be at least 10 (seconds)')
    .max(600, '--idle at most 600 (seconds)'),
});

function parseArgs(argv: string[]): z.infer<typeof argsSchema> {
  const raw: Record<string, string> = { n: '50', idleSeconds: '60' };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    const key = flag === '--n' ? 'n' : flag === '--idle' ? 'idleSeconds' : undefined;
    if (key === undefined || value === undefined) throw new Error(`usage: bench:capacity [--n <count>] [--idle <s>]`);
    raw[key] = value;
  }
  const parsed = argsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

function localDefinition(shape: ProcessShape): ProcessDefinition {
  const definition = jipperDefinition(shape);
  return { ...definition, options: { ...definition.options, defaults: { local: true } } };
}

interface Lanes {
  client: Client;
  jipperQueue: string;
  handwrittenQueue: string;
}

async function runOne(lanes: Lanes, kind: Kind, id: string): Promise<void> {
  if (kind.side === 'jipper-local') {
    const handle = await startProcess(lanes.client, localDefinition(kind.shape), {
      taskQueue: lanes.jipperQueue,
      id,
      registry: benchRegistry,
    });
    const report = await waitForReport(handle);
    const expected = kind.shape.failAt === undefined ? 'succeeded' : 'reverted';
    if (report.status !== expected) throw new Error(`${id}: expected ${expected}, got ${report.status}`);
    return;
  }
  const queue = kind.side === 'jipper' ? lanes.jipperQueue : lanes.handwrittenQueue;
  await runToResult(lanes.client, kind.side, queue, kind.shape, id);
}

async function historyOf(client: Client, id: string) {
  const history = await client.workflow.getHandle(id).fetchHistory();
  const types = (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? '');
  return {
    events: types.length,
    workflowTasks: types.filter((t) => t === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED').length,
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
  };
}

/** Counters over a window: settle, read, `work`, settle, read. */
async function window(pg: Postgres, work: () => Promise<void>): Promise<CounterDelta> {
  await delay(SETTLE_MS);
  const before = await readCounters(pg);
  await work();
  await delay(SETTLE_MS);
  return diffCounters(await readCounters(pg), before);
}

async function measureKinds(pg: Postgres, lanes: Lanes, n: number, log: (line: string) => void) {
  const out: Record<string, { delta: CounterDelta; history: Awaited<ReturnType<typeof historyOf>>; runMs: number }> =
    {};
  for (const kind of KINDS) {
    // Warm the worker's caches and the task queues once, outside the window.
    await runOne(lanes, kind, `capacity-${kind.name}-warmup-${Date.now()}`);
    let lastId = '';
    let runMs = 0;
    const delta = await window(pg, async () => {
      const start = Date.now();
      for (let i = 0; i < n; i++) {
        lastId = `capacity-${kind.name}-${Date.now()}-${i}`;
        await runOne(lanes, kind, lastId);
      }
      runMs = Date.now() - start;
    });
    out[kind.name] = { delta, history: await historyOf(lanes.client, lastId), runMs };
    log(`${kind.name}: ${n} processes in ${(runMs / 1000).toFixed(1)} s, write xacts ${delta.writeXacts}`);
  }
  return out;
}

async function startWorkers(address: string): Promise<{ lanes: Lanes; workers: Worker[]; close: () => Promise<void> }> {
  const native = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const stamp = Date.now();
  const jipperQueue = `capacity-jipper-${stamp}`;
  const handwrittenQueue = `capacity-handwritten-${stamp}`;
  const workers = [
    await createSideWorker('jipper', native, jipperQueue),
    await createSideWorker('handwritten', native, handwrittenQueue, { bundle: 'at-start' }),
  ];
  const running = workers.map((w) => w.run());
  return {
    lanes: { client: new Client({ connection }), jipperQueue, handwrittenQueue },
    workers,
    close: async () => {
      for (const w of workers) w.shutdown();
      await Promise.all(running);
      await connection.close();
      await native.close();
    },
  };
}

/**
 * On a new database the services race to write the cluster's metadata and one may exit (a duplicate key); `up` keeps
 * what runs, so a second `up` starts only that one.
 */
async function upWithRetry(settings: ClusterSettings, log: (line: string) => void): Promise<void> {
  try {
    await clusterUp(settings, log);
  } catch (err) {
    log(`cluster up failed (${(err instanceof Error ? err.message : String(err)).split('\n')[0]}); once more`);
    await clusterUp(settings, log);
  }
}

/** The JSON keeps the top statements per process (in `measured`), not every statement's raw counters. */
const withoutStatements = ({ statements: _statements, ...rest }: CounterDelta) => rest;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string) => void process.stderr.write(`[capacity] ${line}\n`);
  process.env.JIPPER_CLUSTER_DIR ??= join('.jipper', 'capacity-cluster');
  process.env.JIPPER_CLUSTER_BASE_PORT ??= '17400';
  process.env.JIPPER_CLUSTER_UI ??= 'off';
  const settings = clusterSettings();
  const wasRunning = (await clusterStatus(settings)).healthy;
  try {
    await upWithRetry(settings, log);
    const pg = clusterPostgres(settings);
    if (pg === undefined) throw new Error('PostgreSQL is not installed');
    if (await preloadStatements(pg)) {
      log('loading pg_stat_statements: restarting PostgreSQL');
      await restartClusterPostgres(settings, 'fast');
    }
    await createStatementsExtension(pg);
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    const { lanes, close } = await startWorkers(settings.address);
    try {
      log('30 s for the cluster to settle after the restart (not measured)');
      await delay(30_000);
      log(`idle window (${args.idleSeconds} s, workers polling)`);
      const idleBefore = await window(pg, () => delay(args.idleSeconds * 1000));
      const kinds = await measureKinds(pg, lanes, args.n, log);
      log(`idle window (${args.idleSeconds} s, workers polling)`);
      const idleAfter = await window(pg, () => delay(args.idleSeconds * 1000));
      const results = {
        at: new Date().toISOString(),
        command: `npm run bench:capacity${args.n === 50 ? '' : ` -- --n ${args.n}`}`,
        n: args.n,
        cluster: {
          temporal: 'v1.32.0',
          postgres: pg.binDir,
          historyHosts: settings.historyHosts,
          shards: settings.shards,
        },
        idle: { before: withoutStatements(idleBefore), after: withoutStatements(idleAfter) },
        kinds: Object.fromEntries(
          KINDS.map((kind) => {
            const k = kinds[kind.name]!;
            const measured = perProcess(k.delta, [idleBefore, idleAfter], args.n);
            return [
              kind.name,
              {
                kind,
                runMs: k.runMs,
                history: k.history,
                measured,
                model: modelFor(kind),
                raw: withoutStatements(k.delta),
              },
            ];
          })
        ),
      };
      writeFileSync(join(PROJECT_ROOT, 'bench', 'capacity-results.json'), `${JSON.stringify(results, null, 2)}\n`);
      log('wrote bench/capacity-results.json');
    } finally {
      await close();
    }
  } finally {
    if (!wasRunning) await clusterDown(settings, log);
  }
}

main().catch((err: unknown) => {
  console.error(`bench:capacity: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
