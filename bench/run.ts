/**
 * `npm run bench`: Jipper against a hand-written saga in the Temporal samples' style, in one run, against one local
 * dev server this script starts (in memory, headless, on a free loopback port), with identical worker settings for
 * both sides. Prints a table and writes BENCHMARKS.md and bench/results.json.
 *
 *   npm run bench              the full run (a few minutes on 2 cores)
 *   npm run bench -- --quick   a short run, for checking the harness (figures are rougher)
 *   npm run bench -- --stock-server       the dev server's default dynamic config (see server.ts)
 *   npm run bench -- --report-only        rewrite BENCHMARKS.md from bench/results.json (after editing notes.md)
 *   npm run bench -- --local              only local jobs and eager starts (bench/local.ts), a minute or two
 *
 * Measures: end-to-end latency (start → result) at 1, 3 and 10 steps, alternated ABAB after a warm-up, with the
 * per-step slope at p50 and p99; compensation latency (from the failing step's failure to the run's end, every
 * completed step reverted) with 3 and 10 completed steps; Jipper's code-first `runSaga` beside its definition runs
 * (the same latencies); throughput of 3-step processes at a fixed concurrency; history events per step and per
 * process; history bytes per step of long processes (every run of a continued-as-new chain); replay speed and replay
 * worker creation; worker start with the prebuilt bundle and with bundling at start; memory per cached workflow. Every
 * figure is compared as a ratio measured in the same run; nothing here is a timed assertion in `npm test`.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, availableParallelism, release, platform } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { ProcessShape } from './jobs';
import { payloadDefinition } from './jobs';
import type {
  BenchResults,
  CodeFirstFigures,
  CompensationFigures,
  HistoryBytesFigures,
  HistoryFigures,
  HistoryTimes,
  ReplayFigures,
  SideBreakdown,
  SideFigures,
  Target,
} from './report';
import { historyRunLabel, printTable, writeBenchmarksMd } from './report';
import { historyFromJson } from '../src/worker/history-json';
import { historyWorkflowId } from '../src/worker/replay';
import { startBenchServer } from './server';
import { runLocalBench } from './local';
import type { SideName } from './sides';
import {
  ALL_SIDES,
  BENCH_WORKER_OPTIONS,
  HANDWRITTEN_BUNDLE,
  JIPPER_BUNDLE,
  PROJECT_ROOT,
  SIDES,
  benchRegistry,
  createSideWorker,
  nextId,
  runToResult,
  writeBenchBundles,
} from './sides';
import type { MemoryResult, WorkerStartResult } from './child';
import { replayPass } from './replay-pass';
import { linearFit, median, percentile, percentileRatioInterval, pool, slopeRatioInterval } from './stats';
import { startProcess, waitForReport } from '../src/client';

interface Settings {
  sizes: number[];
  warmupRuns: number;
  latencySamples: number;
  /** Completed steps before the failing one, for compensation latency. */
  compensationSizes: number[];
  compensationSamples: number;
  /**
   * The long processes whose history bytes are measured: their steps, and the history length at which they continue
   * as new (Jipper's default, 8,000 events, when not given); and the characters of data in each step's result.
   */
  historyRuns: { steps: number; continueAsNewAfterEvents?: number }[];
  historyResultChars: number;
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
  compensationSizes: [3, 10],
  compensationSamples: 200,
  // 1,000 steps stay in one run at the default (about 6,000 events); the last one continues as new every 1,000 events.
  historyRuns: [{ steps: 10 }, { steps: 100 }, { steps: 1_000 }, { steps: 1_000, continueAsNewAfterEvents: 1_000 }],
  historyResultChars: 480,
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
  compensationSamples: 15,
  historyRuns: [{ steps: 10 }, { steps: 100 }, { steps: 100, continueAsNewAfterEvents: 200 }],
  throughputWarmup: 20,
  throughputPerRound: 40,
  replayMinSeconds: 1,
  workerStartRuns: { prebuilt: 2, atStart: 1 },
  memory: { warm: 10, n: 100 },
};

const began = performance.now();
const log = (line: string): void =>
  void process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(0)} s] ${line}\n`);

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
  // Only the cases of local jobs and eager starts (bench/local.ts), on a server of their own.
  if (process.argv.includes('--local')) return runLocalBench(log, process.argv.includes('--quick'));
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
    await writeBenchBundles(log);

    const nativeConnection = await NativeConnection.connect({ address: server.address });
    // Large enough for the history pages of long processes (a run's history can exceed gRPC's default 4 MB).
    const connection = await Connection.connect({
      address: server.address,
      channelArgs: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 },
    });
    const client = new Client({ connection });
    const queues: Record<SideName, string> = {
      handwritten: `bench-handwritten-${randomUUID()}`,
      jipper: `bench-jipper-${randomUUID()}`,
      codefirst: `bench-codefirst-${randomUUID()}`,
    };
    const workers = await Promise.all(ALL_SIDES.map((side) => createSideWorker(side, nativeConnection, queues[side])));
    const running = workers.map((w) => w.run());
    // Jipper first in every round: A = jipper, B = hand-written, then Jipper's code-first saga.
    const order: SideName[] = ['jipper', 'handwritten', 'codefirst'];

    const timed = async (side: SideName, shape: ProcessShape, label: string): Promise<{ id: string; ms: number }> => {
      const id = nextId(side, label);
      const start = performance.now();
      await runToResult(client, side, queues[side], shape, id);
      return { id, ms: Math.round((performance.now() - start) * 100) / 100 };
    };

    log(`warm-up: ${settings.warmupRuns} runs per side and shape`);
    // Compensation: `completed` steps succeed, the next one fails (non-retryable), the completed ones are reverted.
    const failureShape = (completed: number): ProcessShape => ({ steps: completed + 1, failAt: completed + 1 });
    for (const shape of [
      ...settings.sizes.map((steps) => ({ steps })),
      ...settings.compensationSizes.map(failureShape),
    ]) {
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
      `compensation: ${settings.compensationSamples} samples per side with ${settings.compensationSizes.join(', ')} completed steps, ABAB`
    );
    const failureEndToEnd = emptySides<Record<number, number[]>>(() => ({}));
    const failureIds = emptySides<Record<number, string[]>>(() => ({}));
    for (let i = 0; i < settings.compensationSamples; i++) {
      for (const completed of settings.compensationSizes) {
        for (const side of order) {
          const { id, ms } = await timed(side, failureShape(completed), `fail${completed}`);
          (failureEndToEnd[side][completed] ??= []).push(ms);
          (failureIds[side][completed] ??= []).push(id);
        }
      }
    }
    log("where the time goes: reading every latency and compensation sample's history");
    const breakdown = emptySides<SideBreakdown>(() => ({ latency: {}, unwinding: {} }));
    const unwinding = emptySides<Record<number, number[]>>(() => ({}));
    for (const side of order) {
      for (const steps of settings.sizes) {
        const times = await inBatches(lastIds[side][steps] ?? [], (id) => historyTimes(client, id));
        breakdown[side].latency[steps] = meanTimes(times);
      }
      for (const completed of settings.compensationSizes) {
        const times = await inBatches(failureIds[side][completed] ?? [], (id) => unwindingTimes(client, id, completed));
        unwinding[side][completed] = times.map((t) => t.spanMs);
        breakdown[side].unwinding[completed] = meanTimes(times);
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
    const pair: SideName[] = ['jipper', 'handwritten'];
    for (const side of pair) await throughputRun(side, settings.throughputWarmup, false);
    const throughputMs = emptySides<number[]>(() => []);
    for (let round = 0; round < settings.throughputRounds; round++) {
      for (const side of pair) throughputMs[side].push(await throughputRun(side, settings.throughputPerRound, true));
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
      const failed = await Promise.all(
        (failureIds[side][settings.compensationSizes[0] as number] ?? [])
          .slice(-10)
          .map((id) => fetchHistory(client, id))
      );
      const lastFailed = failed[failed.length - 1];
      if (!lastFailed) throw new Error(`no ${side} failure run`);
      histories[side].failure = { events: lastFailed.events, bytes: lastFailed.bytes };
      histories[side].failureTypes = countTypes(lastFailed.types);
      replaySets[side].push(...failed.map((f) => ({ workflowId: f.id, history: f.history })));
    }

    log(
      `history bytes: processes of ${settings.historyRuns.map(historyRunLabel).join(', ')}, results of ${settings.historyResultChars} characters`
    );
    const historyBytes: HistoryBytesFigures = { resultChars: settings.historyResultChars, runs: [] };
    for (const run of settings.historyRuns) {
      historyBytes.runs.push(await historyBytesOf(client, queues.jipper, run, settings.historyResultChars));
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
    for (const side of pair) {
      memory[side] = await forkChild<MemoryResult>(
        ['memory', server.address, side, String(settings.memory.warm), String(settings.memory.n)],
        ['--expose-gc']
      );
    }

    const latencyFigures = (side: SideName): Pick<SideFigures, 'latency' | 'slope' | 'intercept'> => {
      const bySteps: SideFigures['latency'] = {};
      for (const steps of settings.sizes) bySteps[steps] = figures(latency[side][steps] ?? []);
      const fit = (p: 'p50' | 'p99') =>
        linearFit(settings.sizes.map((x) => ({ x, y: (bySteps[x] as { p50: number; p99: number })[p] })));
      return {
        latency: bySteps,
        slope: { p50: fit('p50').slope, p99: fit('p99').slope },
        intercept: { p50: fit('p50').intercept, p99: fit('p99').intercept },
      };
    };
    const compensationFigures = (side: SideName): Record<number, CompensationFigures> =>
      Object.fromEntries(
        settings.compensationSizes.map((completed) => [
          completed,
          {
            unwinding: figures(unwinding[side][completed] ?? []),
            endToEnd: figures(failureEndToEnd[side][completed] ?? []),
          },
        ])
      );
    const sides = {} as Record<(typeof SIDES)[number], SideFigures>;
    for (const side of SIDES) {
      const tputMs = throughputMs[side].reduce((a, b) => a + b, 0);
      const counts = settings.throughputPerRound * settings.throughputRounds;
      sides[side] = {
        ...latencyFigures(side),
        compensation: compensationFigures(side),
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
    const percentileInterval = (
      a: readonly number[],
      b: readonly number[],
      p: number
    ): NonNullable<Target['interval']> => {
      const [low, high] = percentileRatioInterval(a, b, p);
      return { low, high, kind: '90% bootstrap' };
    };
    const compensationRatios: BenchResults['ratios']['compensation'] = {};
    for (const completed of settings.compensationSizes) {
      const a = unwinding.jipper[completed] ?? [];
      const b = unwinding.handwritten[completed] ?? [];
      compensationRatios[completed] = {
        p50: percentile(a, 50) / percentile(b, 50),
        p99: percentile(a, 99) / percentile(b, 99),
        p50Interval: percentileInterval(a, b, 50),
        p99Interval: percentileInterval(a, b, 99),
      };
    }
    const codeFirstFigures: CodeFirstFigures = {
      ...latencyFigures('codefirst'),
      compensation: compensationFigures('codefirst'),
    };
    const codeFirstSlope = (p: number, key: 'p50' | 'p99') => {
      const [low, high] = slopeRatioInterval(latency.codefirst, latency.jipper, settings.sizes, p);
      return {
        value: codeFirstFigures.slope[key] / sides.jipper.slope[key],
        interval: { low, high, kind: '90% bootstrap' },
      };
    };
    const codeFirstRatios: BenchResults['ratios']['codeFirst'] = {
      slopeP50: codeFirstSlope(50, 'p50'),
      slopeP99: codeFirstSlope(99, 'p99'),
      compensation: Object.fromEntries(
        settings.compensationSizes.map((completed) => {
          const a = unwinding.codefirst[completed] ?? [];
          const b = unwinding.jipper[completed] ?? [];
          return [
            completed,
            {
              p50: percentile(a, 50) / percentile(b, 50),
              p99: percentile(a, 99) / percentile(b, 99),
              p50Interval: percentileInterval(a, b, 50),
              p99Interval: percentileInterval(a, b, 99),
            },
          ];
        })
      ),
    };
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
      ...settings.compensationSizes.flatMap((completed) => {
        const r = compensationRatios[completed] as BenchResults['ratios']['compensation'][number];
        return (['p50', 'p99'] as const).map((p) =>
          target(
            `compensation latency ${p}, ${completed} completed steps (Jipper ÷ hand-written)`,
            '≤ 1.0×',
            r[p],
            (v) => v <= 1,
            'x',
            r[`${p}Interval`]
          )
        );
      }),
      ...(['p50', 'p99'] as const).map((p) => {
        const r = codeFirstRatios[p === 'p50' ? 'slopeP50' : 'slopeP99'];
        return target(
          `code-first per-step slope, ${p} (runSaga ÷ definition run)`,
          'within noise: interval reaches 1.0×',
          r.value,
          () => (r.interval?.low ?? Infinity) <= 1,
          'x',
          r.interval
        );
      }),
      ...historyFlatTarget(historyBytes),
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
        compensation: compensationRatios,
        codeFirst: codeFirstRatios,
        eventsPerProcess3: ratio((s) => s.history.bySteps[3]?.events ?? NaN),
        replay: ratio((s) => s.replay.eventsPerSecond),
        memory: ratio((s) => s.memory.rssPerWorkflowKb),
      },
      codeFirst: codeFirstFigures,
      breakdown,
      historyBytes,
      replaySource: replay.source,
      ...(replay.committed ? { committedReplay: replay.committed } : {}),
      workerStart,
      targets,
      samples: { latency, unwinding, failureEndToEnd },
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
  return { handwritten: make(), jipper: make(), codefirst: make() };
}

function avg(samples: readonly number[]): number {
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

function figures(samples: readonly number[]): { p50: number; p99: number; mean: number; n: number } {
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), mean: avg(samples), n: samples.length };
}

const EventType = temporal.api.enums.v1.EventType;

/** Runs `f` over `items`, 20 at a time. */
async function inBatches<T, R>(items: readonly T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 20) out.push(...(await Promise.all(items.slice(i, i + 20).map(f))));
  return out;
}

/**
 * Where a run's time went, from the server's event times, over its events from `from` on: the span from the event
 * before `from` (or the first) to the last; the workflow tasks' time with the worker (`WORKFLOW_TASK_STARTED` →
 * `COMPLETED`: the task's delivery, the worker's activation, the reply), their time in the queue (`SCHEDULED` →
 * `STARTED`), and the activities' (`ACTIVITY_TASK_SCHEDULED` → `COMPLETED` or `FAILED`). What is left of the span is
 * the server's own handling between them.
 */
function timesOf(events: readonly HistoryEvent[], from = 0): HistoryTimes {
  const at = (e: HistoryEvent | undefined) => tsToMs(e?.eventTime);
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const since = (id: unknown, e: HistoryEvent) => at(e) - at(byId.get(Number(id)));
  const times: HistoryTimes = { spanMs: 0, workflowTaskMs: 0, workflowTaskQueueMs: 0, activityMs: 0, workflowTasks: 0 };
  const window = events.slice(from);
  for (const e of window) {
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        times.workflowTaskQueueMs += since(e.workflowTaskStartedEventAttributes?.scheduledEventId, e);
        times.workflowTasks += 1;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        times.workflowTaskMs += since(e.workflowTaskCompletedEventAttributes?.startedEventId, e);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        times.activityMs += since(e.activityTaskCompletedEventAttributes?.scheduledEventId, e);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        times.activityMs += since(e.activityTaskFailedEventAttributes?.scheduledEventId, e);
        break;
    }
  }
  times.spanMs = at(events.at(-1)) - at(events[Math.max(0, from - 1)]);
  return times;
}

/** Where a successful run's time went, first event to last. */
async function historyTimes(client: Client, id: string): Promise<HistoryTimes> {
  const history = await client.workflow.getHandle(id).fetchHistory();
  return timesOf(history.events ?? []);
}

/**
 * Compensation latency of one failed run, from its history: from the failing step's failure (the server's
 * `ACTIVITY_TASK_FAILED`) to the run's end (`WORKFLOW_EXECUTION_FAILED`), which comes once every completed step is
 * reverted; and where that time went. Checks that the run did revert exactly `completed` steps after the failure.
 */
async function unwindingTimes(client: Client, id: string, completed: number): Promise<HistoryTimes> {
  const history = await client.workflow.getHandle(id).fetchHistory();
  const events = history.events ?? [];
  const failedAt = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED);
  const end = events.at(-1);
  if (failedAt < 0 || end?.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED) {
    throw new Error(`${id}: no failed step, or the run did not end failed`);
  }
  const reverts = events
    .slice(failedAt)
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length;
  if (reverts !== completed) throw new Error(`${id}: ${reverts} steps reverted after the failure, not ${completed}`);
  return timesOf(events, failedAt + 1);
}

function meanTimes(times: readonly HistoryTimes[]): HistoryTimes {
  const mean = (key: keyof HistoryTimes) => avg(times.map((t) => t[key]));
  return {
    spanMs: mean('spanMs'),
    workflowTaskMs: mean('workflowTaskMs'),
    workflowTaskQueueMs: mean('workflowTaskQueueMs'),
    activityMs: mean('activityMs'),
    workflowTasks: mean('workflowTasks'),
  };
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * Runs a chain of payload steps (each result `resultChars` characters of data, each step reading the one before it)
 * and sums the history of every run of its continued-as-new chain: protobuf bytes as the server stores them, and JSON
 * bytes as the long-process fault test measured them (`JSON.stringify` of the fetched history). Also each run's
 * events, the largest run, and the carried state: the input each continue-as-new hands on, which the history holds
 * twice (in the `WORKFLOW_EXECUTION_CONTINUED_AS_NEW` event that ends a run and in the next run's start).
 */
async function historyBytesOf(
  client: Client,
  taskQueue: string,
  run: Settings['historyRuns'][number],
  resultChars: number
): Promise<HistoryBytesFigures['runs'][number]> {
  const { steps, continueAsNewAfterEvents } = run;
  const id = nextId('jipper', `history${steps}`);
  const start = performance.now();
  const handle = await startProcess(client, payloadDefinition(steps, resultChars, continueAsNewAfterEvents), {
    taskQueue,
    id,
    registry: benchRegistry,
  });
  const report = await waitForReport(handle);
  const ms = performance.now() - start;
  if (report.status !== 'succeeded') throw new Error(`${id}: expected succeeded, got ${report.status}`);
  let runs = 0;
  let events = 0;
  let bytes = 0;
  let jsonBytes = 0;
  let largestRunBytes = 0;
  let carriedBytes = 0;
  const runEvents: number[] = [];
  const payloadBytes = (payloads: temporal.api.common.v1.IPayloads | null | undefined) =>
    payloads ? temporal.api.common.v1.Payloads.encode(payloads).finish().byteLength : 0;
  // From the last run back to the first: each run's first event names the run it continues.
  for (let runId: string | undefined = report.runId; runId;) {
    const history = await client.workflow.getHandle(id, runId).fetchHistory();
    runs += 1;
    events += history.events?.length ?? 0;
    runEvents.unshift(history.events?.length ?? 0);
    const runBytes = temporal.api.history.v1.History.encode(history).finish().byteLength;
    bytes += runBytes;
    largestRunBytes = Math.max(largestRunBytes, runBytes);
    jsonBytes += Buffer.byteLength(JSON.stringify(history));
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    runId = started?.continuedExecutionRunId || undefined;
    if (runId) carriedBytes += payloadBytes(started?.input);
    carriedBytes += payloadBytes(history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.input);
  }
  if (runs !== (report.continuedAsNew ?? 0) + 1) throw new Error(`${id}: walked ${runs} runs of ${id}'s chain`);
  return {
    steps,
    ...(continueAsNewAfterEvents !== undefined ? { continueAsNewAfterEvents } : {}),
    runs,
    runEvents,
    events,
    bytes,
    jsonBytes,
    largestRunBytes,
    carriedBytes,
    seconds: ms / 1000,
  };
}

/**
 * History bytes per step stay flat: the longest process at the default continue-as-new setting against the shortest,
 * bytes of every run summed, per step. A call carrying every earlier result would make this grow with the steps.
 */
function historyFlatTarget(figures: HistoryBytesFigures): Target[] {
  const plain = figures.runs.filter((run) => run.continueAsNewAfterEvents === undefined);
  const shortest = plain[0];
  const longest = plain.at(-1);
  if (!shortest || !longest || shortest === longest) return [];
  const perStep = (run: HistoryBytesFigures['runs'][number]) => run.bytes / run.steps;
  return [
    target(
      `history bytes per step, ${historyRunLabel(longest)} ÷ ${historyRunLabel(shortest)}`,
      '≤ 1.10× (flat)',
      perStep(longest) / perStep(shortest),
      (v) => v <= 1.1,
      'x'
    ),
  ];
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
    const pass = await replayPass(bundlePath, histories, 'bench');
    failures += pass.failures.length;
    creationMs.push(pass.creationMs);
    replayMs += pass.wallMs;
    cpuMs += pass.cpuMs;
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
