/**
 * `npm run bench:waits`: what waiting costs. One local dev server (bench/server.ts) and one Jipper worker in a process
 * of its own (this file run as `worker <address> <taskQueue>`), then N processes (default 1,000) that each run one
 * job and wait for the same event (`waitFor: { event: bench.go, match: event.go == true }`), then one job more.
 *
 * Measured: the server's and the worker's memory (RSS) idle and with every process waiting; that nothing runs while
 * they wait (no pending activity on any of them); and how long one event takes to reach them all — `sendEvent` (one
 * visibility query by the `JipperWaitingFor` search attribute, then one Update per process) until every Update was
 * accepted, and until every process has finished.
 *
 * Writes bench/waits.md (BENCHMARKS.md's "Waits" section; `npm run bench -- --report-only` keeps it).
 *   npm run bench:waits                  1,000 processes
 *   npm run bench:waits -- --count 200   fewer, for checking the harness
 */
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { JobRegistry } from '../src/runtime/registry';
import { sendEvent, startProcess } from '../src/client';
import { createJipperWorker } from '../src/worker/worker';
import { benchLibrary, benchStep } from './jobs';
import { startBenchServer } from './server';
import { BENCH_WORKER_OPTIONS, JIPPER_BUNDLE, PROJECT_ROOT } from './sides';
import { pool } from './stats';

const log = (line: string) => console.error(`[bench:waits] ${line}`);

const definition = {
  name: 'bench-waits',
  steps: [
    { id: 'before', job: benchStep.name, args: {} },
    { id: 'go', waitFor: { event: 'bench.go', match: 'event.go == true', timeout: '1h' } },
    { id: 'after', job: benchStep.name, args: {} },
  ],
};

/** RSS of a process in MB (Linux /proc; Node's own figure for this process elsewhere). */
function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.replace(/\D+/g, '')) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function runWorker(address: string, taskQueue: string): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address });
  const { worker } = await createJipperWorker({
    connection,
    taskQueue,
    libraries: [benchLibrary],
    workflowBundlePath: JIPPER_BUNDLE,
    workerOptions: BENCH_WORKER_OPTIONS,
  });
  process.on('message', () => worker.shutdown());
  const running = worker.run();
  process.send?.('ready');
  await running;
  await connection.close();
}

function startWorkerProcess(address: string, taskQueue: string): Promise<ChildProcess> {
  const child = fork(__filename, ['worker', address, taskQueue], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`the worker exited (${String(code)}) before it was ready`)));
  });
}

/** Polls a visibility count until it reaches `n`; returns how long that took. */
async function countReaches(client: Client, query: string, n: number, timeoutMs = 600_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const { count } = await client.workflow.count(query);
    if (count >= n) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`${query}: ${count} of ${n} after ${timeoutMs} ms`);
    await delay(250);
  }
}

async function main(): Promise<void> {
  const countArg = process.argv.indexOf('--count');
  const n = countArg > 0 ? Number(process.argv[countArg + 1]) : 1_000;
  const started = Date.now();
  const loadAtStart = loadavg();
  const server = await startBenchServer({ projectRoot: PROJECT_ROOT, stock: false, log });
  const taskQueue = `bench-waits-${randomUUID()}`;
  const worker = await startWorkerProcess(server.address, taskQueue);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const registry = new JobRegistry([benchLibrary]);
  try {
    await delay(2_000);
    const idle = { server: rssMb(server.pid), worker: rssMb(worker.pid) };
    log(`idle: server ${idle.server?.toFixed(0)} MB, worker ${idle.worker?.toFixed(0)} MB; starting ${n} processes`);
    const run = randomUUID().slice(0, 8);
    const startedAt = performance.now();
    await pool(n, 50, async (i) => {
      await startProcess(client, definition, { taskQueue, registry, id: `bench-waits-${run}-${i}` });
    });
    const waitingQuery = `JipperWaitingFor = 'bench.go' AND ExecutionStatus = 'Running' AND WorkflowId STARTS_WITH 'bench-waits-${run}-'`;
    await countReaches(client, waitingQuery, n);
    const allWaitingMs = performance.now() - startedAt;
    await delay(5_000);
    const waiting = { server: rssMb(server.pid), worker: rssMb(worker.pid) };
    const pendingActivities = await countPendingActivities(client, run, Math.min(n, 50));
    log(
      `all ${n} waiting after ${(allWaitingMs / 1000).toFixed(1)} s: server ${waiting.server?.toFixed(0)} MB, worker ${waiting.worker?.toFixed(0)} MB`
    );

    const sendStarted = performance.now();
    const sent = await sendEvent(client, 'bench.go', { go: true });
    const deliveredMs = performance.now() - sendStarted;
    const endedMs =
      (await countReaches(client, `JipperStatus = 'succeeded' AND WorkflowId STARTS_WITH 'bench-waits-${run}-'`, n)) +
      deliveredMs;
    log(
      `event delivered to ${sent.delivered.length} in ${(deliveredMs / 1000).toFixed(1)} s; all ended ${(endedMs / 1000).toFixed(1)} s after it was sent`
    );
    const figures = {
      n,
      idle,
      waiting,
      allWaitingMs,
      pendingActivities,
      delivered: sent.delivered.length,
      refused: sent.refused.length,
      deliveredMs,
      endedMs,
      at: new Date().toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      cores: availableParallelism(),
      load: { start: loadAtStart, end: loadavg() },
    };
    writeFileSync(join(PROJECT_ROOT, 'bench', 'waits.md'), sectionMd(figures));
    log(JSON.stringify(figures));
  } finally {
    worker.send('stop');
    await new Promise((resolve) => worker.once('exit', resolve));
    await connection.close();
    await server.stop();
  }
}

/** Pending activities of a sample of the waiting processes (there should be none: a wait runs no activity). */
async function countPendingActivities(client: Client, run: string, sample: number): Promise<number> {
  let pending = 0;
  for (let i = 0; i < sample; i++) {
    const description = await client.workflow.getHandle(`bench-waits-${run}-${i}`).describe();
    pending += description.raw.pendingActivities?.length ?? 0;
  }
  return pending;
}

type Figures = {
  n: number;
  idle: { server?: number; worker?: number };
  waiting: { server?: number; worker?: number };
  allWaitingMs: number;
  pendingActivities: number;
  delivered: number;
  refused: number;
  deliveredMs: number;
  endedMs: number;
  at: string;
  seconds: number;
  cores: number;
  load: { start: number[]; end: number[] };
};

function sectionMd(f: Figures): string {
  const mb = (v?: number) => (v === undefined ? 'n/a' : `${v.toFixed(0)} MB`);
  const per = (a?: number, b?: number) =>
    a === undefined || b === undefined ? 'n/a' : `${(((b - a) * 1024) / f.n).toFixed(0)} KB`;
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  return `## Waits: ${f.n.toLocaleString('en-US')} processes waiting at once

_Generated by \`npm run bench:waits\` on ${f.at} in ${f.seconds} s (${f.cores} CPUs, load average at start ${load(f.load.start)}, at end ${load(f.load.end)}); one in-memory dev server (bench/server.ts), one worker process (the prebuilt bundle, \`maxCachedWorkflows\` 2,000, so every waiting run stays cached). Each process runs a job, waits for \`bench.go\` (\`match: event.go == true\`), then runs a job._

| | server RSS | worker RSS |
|---|---:|---:|
| idle | ${mb(f.idle.server)} | ${mb(f.idle.worker)} |
| ${f.n.toLocaleString('en-US')} processes waiting | ${mb(f.waiting.server)} | ${mb(f.waiting.worker)} |
| per waiting process | ${per(f.idle.server, f.waiting.server)} | ${per(f.idle.worker, f.waiting.worker)} |

- All ${f.n.toLocaleString('en-US')} were started and waiting (listed by \`JipperWaitingFor\`) after ${(f.allWaitingMs / 1000).toFixed(1)} s.
- While waiting, pending activities on a sample of ${Math.min(f.n, 50)} of them: ${f.pendingActivities} (a wait is a timer and a condition in the workflow; it holds no activity and no worker slot).
- One \`jipper send-event bench.go\` (\`sendEvent\`: one visibility query, then one Update per process): accepted by ${f.delivered} (refused by ${f.refused}) in ${(f.deliveredMs / 1000).toFixed(1)} s; every process had finished its last job ${(f.endedMs / 1000).toFixed(1)} s after the event was sent.
- The worker's growth is the workflow cache (every run cached here); with a smaller cache an idle waiting run is evicted and costs the worker nothing until its event comes (it is replayed then).
`;
}

if (process.argv[2] === 'worker') {
  runWorker(process.argv[3] as string, process.argv[4] as string).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
