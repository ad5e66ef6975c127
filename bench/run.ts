/**
 * `npm run bench`: Jipper against a hand-written saga in the Temporal samples' style, in one run, against one local
 * dev server this script starts (in memory, headless, on a free loopback port), with identical worker settings for
 * both sides. Prints a table and writes BENCHMARKS.md and bench/results.json.
 *
 *   npm run bench              the full run (a few minutes on 2 cores)
 *   npm run bench -- --quick   a short run, for checking the harness (figures are rougher)
 *   npm run bench -- --stock-server       the dev server's default dynamic config (see server.ts)
 *   npm run bench -- --report-only        rewrite BENCHMARKS.md from bench/results.json (after editing notes.md)
 *
 * Measures: end-to-end latency (start → result) at 1, 3 and 10 steps, alternated ABAB after a warm-up, with the
 * per-step slope at p50 and p99; throughput of 3-step processes at a fixed concurrency; history events per step and
 * per process; the failure path (fail at the last step, unwind); replay speed and replay worker creation; worker start
 * with the prebuilt bundle and with bundling at start; memory per cached workflow. Every figure is compared as a
 * ratio measured in the same run; nothing here is a timed assertion in `npm test`.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, availableParallelism, release, platform } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { ProcessShape } from './jobs';
import type { BenchResults, HistoryFigures, ReplayFigures, SideFigures, Target } from './report';
import { printTable, writeBenchmarksMd } from './report';
import { historyFromJson } from '../src/worker/history-json';
import { historyWorkflowId } from '../src/worker/replay';
import { startBenchServer } from './server';
import type { SideName } from './sides';
import {
  BENCH_WORKER_OPTIONS,
  HANDWRITTEN_BUNDLE,
  HANDWRITTEN_WORKFLOWS,
  JIPPER_BUNDLE,
  PROJECT_ROOT,
  SIDES,
  createSideWorker,
  nextId,
  runToResult,
} from './sides';
import type { MemoryResult, WorkerStartResult } from './child';
import { linearFit, median, percentile, pool, slopeRatioInterval } from './stats';

interface Settings {
  sizes: number[];
  warmupRuns: number;
  latencySamples: number;
  failureSteps: number;
  failureSamples: number;
  concurrency: number;
  throughputWarmup: number;
  throughputPerRound: number;
  throughputRounds: number;
  replayMinSeconds: number;
  workerStartRuns: { prebuilt: number; atStart: number };
  memory: { warm: number; n: number };
}

const FULL: Settings = {
  sizes: [1, 3, 10],
  warmupRuns: 15,
  latencySamples: 300,
  failureSteps: 3,
  failureSamples: 50,
  concurrency: 20,
  throughputWarmup: 40,
  throughputPerRound: 150,
  throughputRounds: 3,
  replayMinSeconds: 3,
  workerStartRuns: { prebuilt: 5, atStart: 2 },
  memory: { warm: 20, n: 300 },
};

const QUICK: Settings = {
  ...FULL,
  warmupRuns: 5,
  latencySamples: 20,
  failureSamples: 10,
  throughputWarmup: 20,
  throughputPerRound: 40,
  replayMinSeconds: 1,
  workerStartRuns: { prebuilt: 2, atStart: 1 },
  memory: { warm: 10, n: 100 },
};

const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

function forkChild<T>(args: string[], execArgv: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'child.js'), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: T | undefined;
    child.on('message', (message) => (result = message as T));
    child.on('error', reject);
    child.on('exit', (code) =>
      result !== undefined && code === 0
        ? resolve(result)
        : reject(new Error(`bench child ${args[0]} exited with ${code}`))
    );
  });
}

function sdkVersion(): string {
  const pkg = JSON.parse(readFileSync(require.resolve('@temporalio/worker/package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(): Promise<void> {
  if (process.argv.includes('--report-only')) {
    const results = JSON.parse(readFileSync(join(PROJECT_ROOT, 'bench', 'results.json'), 'utf8')) as BenchResults;
    printTable(results);
    writeBenchmarksMd(join(PROJECT_ROOT, 'BENCHMARKS.md'), results);
    return;
  }
  const quick = process.argv.includes('--quick');
  const settings = quick ? QUICK : FULL;
  const startedAt = new Date();
  const loadStart = loadavg();
  const t0 = performance.now();

  const stock = process.argv.includes('--stock-server');
  const server = await startBenchServer({ projectRoot: PROJECT_ROOT, stock, log });
  // Failing steps and failed workflows are expected on the failure path: only errors are worth printing.
  Runtime.install({ logger: new DefaultLogger('ERROR') });

  try {
    log('bundling the hand-written saga (not timed)');
    const { code } = await bundleWorkflowCode({
      workflowsPath: HANDWRITTEN_WORKFLOWS,
      logger: new DefaultLogger('WARN'),
    });
    writeFileSync(HANDWRITTEN_BUNDLE, code);
    if (!existsSync(JIPPER_BUNDLE)) throw new Error(`${JIPPER_BUNDLE} is missing: run npm run build`);

    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const queues: Record<SideName, string> = {
      handwritten: `bench-handwritten-${randomUUID()}`,
      jipper: `bench-jipper-${randomUUID()}`,
    };
    const workers = await Promise.all(SIDES.map((side) => createSideWorker(side, nativeConnection, queues[side])));
    const running = workers.map((w) => w.run());
    // Jipper first in every pair: A = jipper, B = hand-written.
    const order: SideName[] = ['jipper', 'handwritten'];

    const timed = async (side: SideName, shape: ProcessShape, label: string): Promise<{ id: string; ms: number }> => {
      const id = nextId(side, label);
      const start = performance.now();
      await runToResult(client, side, queues[side], shape, id);
      return { id, ms: Math.round((performance.now() - start) * 100) / 100 };
    };

    log(`warm-up: ${settings.warmupRuns} runs per side and shape`);
    const failureShape: ProcessShape = { steps: settings.failureSteps, failAt: settings.failureSteps };
    for (const shape of [...settings.sizes.map((steps) => ({ steps })), failureShape]) {
      for (let i = 0; i < settings.warmupRuns; i++) for (const side of order) await timed(side, shape, 'warmup');
    }

    log(`latency: ${settings.latencySamples} samples per side at ${settings.sizes.join(', ')} steps, ABAB`);
    const latency = emptySides<Record<number, number[]>>(() => ({}));
    const lastIds = emptySides<Record<number, string[]>>(() => ({}));
    for (let round = 0; round < settings.latencySamples; round++) {
      for (const steps of settings.sizes) {
        for (const side of order) {
          const { id, ms } = await timed(side, { steps }, `s${steps}`);
          (latency[side][steps] ??= []).push(ms);
          (lastIds[side][steps] ??= []).push(id);
        }
      }
    }

    log(
      `failure path: ${settings.failureSamples} samples per side, ${settings.failureSteps} steps failing at the last`
    );
    const failure = emptySides<number[]>(() => []);
    const failureIds = emptySides<string[]>(() => []);
    for (let i = 0; i < settings.failureSamples; i++) {
      for (const side of order) {
        const { id, ms } = await timed(side, failureShape, 'fail');
        failure[side].push(ms);
        failureIds[side].push(id);
      }
    }

    log(
      `throughput: 3-step processes, ${settings.concurrency} in flight, ${settings.throughputRounds} rounds of ${settings.throughputPerRound} per side, ABAB`
    );
    const throughputCpu = emptySides<{ processes: number; benchMs: number; serverMs: number }>(() => ({
      processes: 0,
      benchMs: 0,
      serverMs: 0,
    }));
    const throughputRun = async (side: SideName, count: number, record: boolean): Promise<number> => {
      const start = performance.now();
      const cpu0 = process.cpuUsage();
      const server0 = server.cpuMs();
      await pool(count, settings.concurrency, async () => {
        await runToResult(client, side, queues[side], { steps: 3 }, nextId(side, 'tput'));
      });
      const elapsed = performance.now() - start;
      const cpu = process.cpuUsage(cpu0);
      const server1 = server.cpuMs();
      if (record) {
        throughputCpu[side].processes += count;
        throughputCpu[side].benchMs += (cpu.user + cpu.system) / 1000;
        throughputCpu[side].serverMs += server0 !== undefined && server1 !== undefined ? server1 - server0 : NaN;
      }
      return elapsed;
    };
    for (const side of order) await throughputRun(side, settings.throughputWarmup, false);
    const throughputMs = emptySides<number[]>(() => []);
    for (let round = 0; round < settings.throughputRounds; round++) {
      for (const side of order) throughputMs[side].push(await throughputRun(side, settings.throughputPerRound, true));
    }

    log('histories: fetching and counting events');
    const histories = emptySides<HistoryFigures>(() => ({ bySteps: {}, failure: { events: 0, bytes: 0 }, types: {} }));
    const replaySets = emptySides<{ workflowId: string; history: History }[]>(() => []);
    for (const side of SIDES) {
      for (const steps of settings.sizes) {
        const ids = lastIds[side][steps] ?? [];
        const fetched = await Promise.all(ids.slice(-10).map((id) => fetchHistory(client, id)));
        const last = fetched[fetched.length - 1];
        if (!last) throw new Error(`no ${side} run at ${steps} steps`);
        histories[side].bySteps[steps] = { events: last.events, bytes: last.bytes };
        if (steps === 3) histories[side].types = countTypes(last.types);
        replaySets[side].push(...fetched.map((f) => ({ workflowId: f.id, history: f.history })));
      }
      const failed = await Promise.all(failureIds[side].slice(-10).map((id) => fetchHistory(client, id)));
      const lastFailed = failed[failed.length - 1];
      if (!lastFailed) throw new Error(`no ${side} failure run`);
      histories[side].failure = { events: lastFailed.events, bytes: lastFailed.bytes };
      histories[side].failureTypes = countTypes(lastFailed.types);
      replaySets[side].push(...failed.map((f) => ({ workflowId: f.id, history: f.history })));
    }

    for (const worker of workers) worker.shutdown();
    await Promise.all(running);
    await connection.close();
    await nativeConnection.close();

    log('replay');
    const { histories: committed, problem } = loadCommittedHistories();
    const replay: { source: string; committed?: ReplayFigures; jipper: ReplayFigures; handwritten: ReplayFigures } = {
      source: committed.length
        ? `test/histories (${committed.length} files) and this run's histories`
        : `this run's histories (${problem})`,
      jipper: await replayFigures(JIPPER_BUNDLE, replaySets.jipper, settings.replayMinSeconds),
      handwritten: await replayFigures(HANDWRITTEN_BUNDLE, replaySets.handwritten, settings.replayMinSeconds),
      ...(committed.length
        ? { committed: await replayFigures(JIPPER_BUNDLE, committed, settings.replayMinSeconds) }
        : {}),
    };

    log('worker start, in fresh processes');
    const starts = async (side: SideName, bundle: 'prebuilt' | 'at-start', runs: number) => {
      const results: WorkerStartResult[] = [];
      for (let i = 0; i < runs; i++)
        results.push(await forkChild<WorkerStartResult>(['worker-start', server.address, side, bundle]));
      return {
        runs,
        createMs: median(results.map((r) => r.createMs)),
        connectMs: median(results.map((r) => r.connectMs)),
        bootMs: median(results.map((r) => r.bootMs)),
        totalMs: median(results.map((r) => r.totalMs)),
      };
    };
    const workerStart = {
      jipperPrebuilt: await starts('jipper', 'prebuilt', settings.workerStartRuns.prebuilt),
      jipperAtStart: await starts('jipper', 'at-start', settings.workerStartRuns.atStart),
      handwrittenPrebuilt: await starts('handwritten', 'prebuilt', settings.workerStartRuns.prebuilt),
    };

    log(`memory: ${settings.memory.n} parked runs per side, in fresh processes`);
    const memory = emptySides<MemoryResult | undefined>(() => undefined);
    for (const side of order) {
      memory[side] = await forkChild<MemoryResult>(
        ['memory', server.address, side, String(settings.memory.warm), String(settings.memory.n)],
        ['--expose-gc']
      );
    }

    const sides = emptySides<SideFigures>(() => ({}) as SideFigures);
    for (const side of SIDES) {
      const bySteps: SideFigures['latency'] = {};
      for (const steps of settings.sizes) {
        const samples = latency[side][steps] ?? [];
        bySteps[steps] = {
          p50: percentile(samples, 50),
          p99: percentile(samples, 99),
          mean: avg(samples),
          n: samples.length,
        };
      }
      const fit = (p: 'p50' | 'p99') =>
        linearFit(settings.sizes.map((x) => ({ x, y: (bySteps[x] as { p50: number; p99: number })[p] })));
      const tputMs = throughputMs[side].reduce((a, b) => a + b, 0);
      const counts = settings.throughputPerRound * settings.throughputRounds;
      sides[side] = {
        latency: bySteps,
        slope: { p50: fit('p50').slope, p99: fit('p99').slope },
        intercept: { p50: fit('p50').intercept, p99: fit('p99').intercept },
        failure: { p50: percentile(failure[side], 50), p99: percentile(failure[side], 99), n: failure[side].length },
        throughput: counts / (tputMs / 1000),
        cpuPerProcess: {
          workerAndClientMs: throughputCpu[side].benchMs / throughputCpu[side].processes,
          serverMs: throughputCpu[side].serverMs / throughputCpu[side].processes,
        },
        history: histories[side],
        replay: replay[side],
        memory: memory[side] as MemoryResult,
      };
    }

    const ratio = (f: (s: SideFigures) => number) => f(sides.jipper) / f(sides.handwritten);
    const slopeRatio = { p50: ratio((s) => s.slope.p50), p99: ratio((s) => s.slope.p99) };
    const slopeInterval = (p: number): Target['interval'] => {
      const [low, high] = slopeRatioInterval(latency.jipper, latency.handwritten, settings.sizes, p);
      return { low, high, kind: '90% bootstrap' };
    };
    // A round's ratio: both sides ran the same number of processes, so it is the inverse ratio of their times.
    const roundRatios = throughputMs.handwritten.map((h, i) => h / (throughputMs.jipper[i] as number));
    const throughputInterval: Target['interval'] = {
      low: Math.min(...roundRatios),
      high: Math.max(...roundRatios),
      kind: `rounds`,
    };
    const replayTarget = replay.committed ?? replay.jipper;
    const targets: Target[] = [
      target(
        'per-step slope, p50 (Jipper ÷ hand-written)',
        '≤ 1.05×',
        slopeRatio.p50,
        (v) => v <= 1.05,
        'x',
        slopeInterval(50)
      ),
      target(
        'per-step slope, p99 (Jipper ÷ hand-written)',
        '≤ 1.10×',
        slopeRatio.p99,
        (v) => v <= 1.1,
        'x',
        slopeInterval(99)
      ),
      target(
        'throughput (Jipper ÷ hand-written)',
        '≥ 0.9×',
        ratio((s) => s.throughput),
        (v) => v >= 0.9,
        'x',
        throughputInterval
      ),
      target('throughput, Jipper 3-step processes/s', '≥ 5/s', sides.jipper.throughput, (v) => v >= 5, '/s'),
      target(
        'worker start with the prebuilt bundle (createJipperWorker)',
        '≤ 1 s',
        workerStart.jipperPrebuilt.createMs / 1000,
        (v) => v <= 1,
        's'
      ),
      target(
        `replay speed (${replay.committed ? 'committed histories' : "this run's Jipper histories"})`,
        '≥ 5,000 events/s',
        replayTarget.eventsPerSecond,
        (v) => v >= 5000,
        'events/s'
      ),
      target(
        'memory per cached Jipper workflow (RSS)',
        '≤ 1 MB',
        sides.jipper.memory.rssPerWorkflowKb / 1024,
        (v) => v <= 1,
        'MB'
      ),
    ];

    const results: BenchResults = {
      meta: {
        date: startedAt.toISOString(),
        command: `npm run bench${quick || stock ? ` --${quick ? ' --quick' : ''}${stock ? ' --stock-server' : ''}` : ''}`,
        quick,
        durationSeconds: (performance.now() - t0) / 1000,
        machine: {
          nproc: availableParallelism(),
          cpu: cpus()[0]?.model ?? 'unknown',
          memoryGb: totalmem() / 2 ** 30,
          os: `${platform()} ${release()}`,
          loadAverageAtStart: loadStart,
          loadAverageAtEnd: loadavg(),
        },
        versions: { node: process.version, sdk: sdkVersion(), cli: server.cliVersion },
        dynamicConfig: server.dynamicConfig,
        workerOptions: BENCH_WORKER_OPTIONS,
        settings,
      },
      sides,
      ratios: {
        slopeP50: slopeRatio.p50,
        slopeP99: slopeRatio.p99,
        throughput: ratio((s) => s.throughput),
        cpuPerProcess: ratio((s) => s.cpuPerProcess.workerAndClientMs + s.cpuPerProcess.serverMs),
        failureP50: ratio((s) => s.failure.p50),
        failureP99: ratio((s) => s.failure.p99),
        eventsPerProcess3: ratio((s) => s.history.bySteps[3]?.events ?? NaN),
        replay: ratio((s) => s.replay.eventsPerSecond),
        memory: ratio((s) => s.memory.rssPerWorkflowKb),
      },
      replaySource: replay.source,
      ...(replay.committed ? { committedReplay: replay.committed } : {}),
      workerStart,
      targets,
      samples: { latency, failure },
    };
    printTable(results);
    writeFileSync(join(PROJECT_ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeBenchmarksMd(join(PROJECT_ROOT, 'BENCHMARKS.md'), results);
    log(`wrote BENCHMARKS.md and bench/results.json in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await server.stop();
  }
}

function emptySides<T>(make: () => T): Record<SideName, T> {
  return { handwritten: make(), jipper: make() };
}

function avg(samples: number[]): number {
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

function target(
  name: string,
  wanted: string,
  value: number,
  ok: (v: number) => boolean,
  unit: string,
  interval?: Target['interval']
): Target {
  return { name, target: wanted, value, unit, met: ok(value), ...(interval ? { interval } : {}) };
}

function countTypes(types: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of types) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

interface FetchedHistory {
  id: string;
  history: History;
  events: number;
  bytes: number;
  types: string[];
}

type History = temporal.api.history.v1.IHistory;

async function fetchHistory(client: Client, id: string): Promise<FetchedHistory> {
  const history = await client.workflow.getHandle(id).fetchHistory();
  const events = history.events ?? [];
  return {
    id,
    history,
    events: events.length,
    bytes: temporal.api.history.v1.History.encode(history).finish().byteLength,
    types: events.map((e) =>
      (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? 'UNKNOWN').replace(/^EVENT_TYPE_/, '')
    ),
  };
}

/**
 * The replay fixtures the test suite commits, `test/histories/*.json`, or why they could not be used (none yet, or
 * a file that does not load).
 */
function loadCommittedHistories(): { histories: { workflowId: string; history: History }[]; problem?: string } {
  const dir = join(PROJECT_ROOT, 'test', 'histories');
  const files = existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith('.json')) : [];
  if (!files.length) return { histories: [], problem: 'test/histories has none yet' };
  try {
    return {
      histories: files.map((file) => ({
        workflowId: historyWorkflowId(file),
        history: historyFromJson(JSON.parse(readFileSync(join(dir, file), 'utf8'))),
      })),
    };
  } catch (err) {
    return {
      histories: [],
      problem: `test/histories did not load: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

/**
 * Replays the histories with a replay worker, over and over until `minSeconds` of replay have passed. The worker's
 * creation (bundle load, sandbox) is timed apart from the replay itself.
 */
async function replayFigures(
  bundlePath: string,
  histories: { workflowId: string; history: History }[],
  minSeconds: number
): Promise<ReplayFigures> {
  const eventsPerPass = histories.reduce((sum, h) => sum + (h.history.events?.length ?? 0), 0);
  const creationMs: number[] = [];
  let cpuMs = 0;
  let replayMs = 0;
  let events = 0;
  let failures = 0;
  let passes = 0;
  while (passes === 0 || replayMs < minSeconds * 1000) {
    const start = performance.now();
    let ready = start;
    let last = start;
    let cpuStart = process.cpuUsage();
    let cpu = cpuStart;
    const source = (async function* () {
      ready = performance.now();
      cpuStart = process.cpuUsage();
      yield* histories;
    })();
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: bundlePath }, replayName: 'bench' },
      source
    )) {
      if (result.error) failures += 1;
      last = performance.now();
      cpu = process.cpuUsage(cpuStart);
    }
    creationMs.push(ready - start);
    replayMs += last - ready;
    cpuMs += (cpu.user + cpu.system) / 1000;
    events += eventsPerPass;
    passes += 1;
  }
  return {
    histories: histories.length,
    passes,
    events,
    seconds: replayMs / 1000,
    eventsPerSecond: events / (replayMs / 1000),
    eventsPerCpuSecond: events / (cpuMs / 1000),
    workerCreationMs: median(creationMs),
    firstWorkerCreationMs: creationMs[0] ?? NaN,
    failures: failures / passes,
  };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
