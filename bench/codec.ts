/**
 * `npm run bench:codec`: what payload encryption costs. One run, one local dev server (bench/server.ts), two Jipper
 * workers in this process with identical settings — one plain, one encrypting (AES-256-GCM with the key ring, the
 * encrypting bundle and failure converter) — and their clients, measured side by side:
 *
 * - latency start → result at 1, 3 and 10 steps, alternated ABAB, with the per-step slope of the p50 line: the cost
 *   per step and per process, encrypted ÷ plain;
 * - CPU time of this process (workers and clients: everything that encodes and decodes) per 3-step process, over
 *   alternating rounds at a fixed concurrency, and the throughput of those rounds;
 * - history bytes of a 10-step process, and the codec alone on typical payloads (µs per encode + decode).
 *
 * Writes bench/codec-results.json and rewrites BENCHMARKS.md (its "Payload encryption" section comes from that file).
 *   npm run bench:codec              the full run (a few minutes on 2 cores)
 *   npm run bench:codec -- --quick   a short run, for checking the harness
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { JobRegistry } from '../src/runtime/registry';
import { runProcess } from '../src/client';
import { encryptingDataConverter } from '../src/codec/data-converter';
import { EncryptionCodec } from '../src/codec/encryption-codec';
import { FileKeyRing, addKeyToFile, generateKey, parseInlineKeyRing } from '../src/codec/keyring';
import { createJipperWorker } from '../src/worker/worker';
import type { CodecResults, CodecSide } from './codec-report';
import { benchLibrary, jipperDefinition } from './jobs';
import type { BenchResults } from './report';
import { writeBenchmarksMd } from './report';
import { startBenchServer } from './server';
import { BENCH_WORKER_OPTIONS, JIPPER_BUNDLE, PROJECT_ROOT } from './sides';
import { linearFit, percentile, pool } from './stats';

const quick = process.argv.includes('--quick');
const settings = quick
  ? { sizes: [1, 3, 10], warmup: 3, samples: 20, rounds: 2, perRound: 30, concurrency: 10, codecOps: 500 }
  : { sizes: [1, 3, 10], warmup: 15, samples: 150, rounds: 4, perRound: 120, concurrency: 20, codecOps: 5_000 };
const log = (line: string) => console.error(`[bench:codec] ${line}`);
const registry = new JobRegistry([benchLibrary]);

interface Side {
  name: CodecSide;
  client: Client;
  taskQueue: string;
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = loadavg();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startBenchServer({ projectRoot: PROJECT_ROOT, stock: false, log });
  const connection = await NativeConnection.connect({ address: server.address });
  // A ring file, as in production: the ring follows its file and counts encryptions (src/codec/keyring.ts).
  const ringFile = join(mkdtempSync(join(tmpdir(), 'jipper-bench-ring-')), 'keys.json');
  addKeyToFile(ringFile, 'bench');
  const encrypting: DataConverter = encryptingDataConverter(new FileKeyRing(ringFile));
  const sides: Side[] = [];
  const workers = [];
  for (const name of ['plain', 'encrypted'] as const) {
    const taskQueue = `bench-codec-${name}-${randomUUID()}`;
    const dataConverter = name === 'encrypted' ? encrypting : undefined;
    const { worker } = await createJipperWorker({
      connection,
      taskQueue,
      libraries: [benchLibrary],
      ...(dataConverter ? { dataConverter } : {}),
      workflowBundlePath:
        name === 'encrypted' ? join(PROJECT_ROOT, 'dist', 'workflow-bundle.encrypted.js') : JIPPER_BUNDLE,
      workerOptions: BENCH_WORKER_OPTIONS,
    });
    workers.push({ worker, running: worker.run() });
    sides.push({
      name,
      taskQueue,
      client: new Client({ connection, namespace: 'default', ...(dataConverter ? { dataConverter } : {}) }),
    });
  }
  let sequence = 0;
  const run = async (side: Side, steps: number) => {
    sequence += 1;
    const report = await runProcess(side.client, jipperDefinition({ steps }), {
      taskQueue: side.taskQueue,
      id: `bench-codec-${side.name}-${steps}-${process.pid}-${sequence}`,
      registry,
    });
    if (report.status !== 'succeeded') throw new Error(`${report.processId}: ${report.status}`);
    return report.processId;
  };

  try {
    log(
      `latency: ${settings.warmup} warm-up runs, then ${settings.samples} samples per side at ${settings.sizes.join(', ')} steps, ABAB`
    );
    const latency: Record<CodecSide, Record<number, number[]>> = { plain: {}, encrypted: {} };
    for (const steps of settings.sizes) {
      for (const side of sides) for (let i = 0; i < settings.warmup; i++) await run(side, steps);
      for (const side of sides) latency[side.name][steps] = [];
      for (let i = 0; i < settings.samples; i++) {
        for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
          const t0 = performance.now();
          await run(side, steps);
          latency[side.name][steps]?.push(performance.now() - t0);
        }
      }
    }

    log(
      `CPU and throughput: ${settings.rounds} rounds × ${settings.perRound} three-step processes per side, ${settings.concurrency} in flight`
    );
    const rounds: Record<CodecSide, { cpuMsPerProcess: number; perSecond: number }[]> = { plain: [], encrypted: [] };
    for (let round = 0; round < settings.rounds; round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await pool(settings.perRound, settings.concurrency, async () => void (await run(side, 3)));
        const seconds = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        rounds[side.name].push({
          cpuMsPerProcess: (cpu.user + cpu.system) / 1000 / settings.perRound,
          perSecond: settings.perRound / seconds,
        });
      }
    }

    log('history bytes of a 10-step process');
    const historyBytes = {} as Record<CodecSide, number>;
    for (const side of sides) {
      const id = await run(side, 10);
      const history = await side.client.workflow.getHandle(id).fetchHistory();
      historyBytes[side.name] = temporal.api.history.v1.History.encode(history).finish().length;
    }

    log(`the codec alone: ${settings.codecOps} encode + decode of each payload, after a fifth as many to warm up`);
    const codec = new EncryptionCodec(parseInlineKeyRing(`bench:${generateKey()}`, 'bench'));
    const job = (i: number) => ({
      stepId: `s${i}`,
      job: 'bench-step',
      status: 'succeeded',
      attempts: 1,
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
      result: { step: i },
    });
    const samples = {
      'a job call (3rd step)': {
        processId: 'bench-3-x',
        stepId: 's3',
        job: 'bench-step',
        input: { fail: false },
        results: { s1: { step: 1 }, s2: { step: 2 } },
      },
      'a 10-job report': {
        processId: 'bench-10-x',
        name: 'bench-10',
        status: 'succeeded',
        jobs: Array.from({ length: 10 }, (_, i) => job(i)),
      },
      'a 200-job report': {
        processId: 'bench-200-x',
        name: 'bench-200',
        status: 'succeeded',
        jobs: Array.from({ length: 200 }, (_, i) => job(i)),
      },
    };
    const payloadFigures = [];
    for (const [label, value] of Object.entries(samples)) {
      const payload = defaultPayloadConverter.toPayload(value);
      const [encoded] = await codec.encode([payload]);
      for (let i = 0; i < settings.codecOps / 5; i++) await codec.decode(await codec.encode([payload]));
      const t0 = performance.now();
      for (let i = 0; i < settings.codecOps; i++) await codec.decode(await codec.encode([payload]));
      payloadFigures.push({
        label,
        plainBytes: payload.data?.length ?? 0,
        encryptedBytes: encoded?.data?.length ?? 0,
        microsecondsPerRoundTrip: ((performance.now() - t0) * 1000) / settings.codecOps,
      });
    }

    const p50 = (name: CodecSide, steps: number) => percentile(latency[name][steps] ?? [], 50);
    const p99 = (name: CodecSide, steps: number) => percentile(latency[name][steps] ?? [], 99);
    const slope = (name: CodecSide) => linearFit(settings.sizes.map((x) => ({ x, y: p50(name, x) }))).slope;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const results: CodecResults = {
      meta: {
        command: `npm run bench:codec${quick ? ' -- --quick' : ''}`,
        date: new Date().toISOString(),
        durationSeconds: (Date.now() - started) / 1000,
        quick,
        cpus: availableParallelism(),
        loadAverageAtStart: loadAtStart,
        loadAverageAtEnd: loadavg(),
        settings,
      },
      latency: settings.sizes.map((steps) => ({
        steps,
        plainP50: p50('plain', steps),
        encryptedP50: p50('encrypted', steps),
        plainP99: p99('plain', steps),
        encryptedP99: p99('encrypted', steps),
      })),
      perStep: { plain: slope('plain'), encrypted: slope('encrypted') },
      cpu: {
        plain: mean(rounds.plain.map((r) => r.cpuMsPerProcess)),
        encrypted: mean(rounds.encrypted.map((r) => r.cpuMsPerProcess)),
      },
      throughput: {
        plain: mean(rounds.plain.map((r) => r.perSecond)),
        encrypted: mean(rounds.encrypted.map((r) => r.perSecond)),
      },
      historyBytes,
      payloads: payloadFigures,
    };
    writeFileSync(join(PROJECT_ROOT, 'bench', 'codec-results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const benchResults = join(PROJECT_ROOT, 'bench', 'results.json');
    if (existsSync(benchResults)) {
      writeBenchmarksMd(
        join(PROJECT_ROOT, 'BENCHMARKS.md'),
        JSON.parse(readFileSync(benchResults, 'utf8')) as BenchResults
      );
    }
    log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s: bench/codec-results.json, BENCHMARKS.md`);
  } finally {
    for (const { worker } of workers) worker.shutdown();
    await Promise.all(workers.map((w) => w.running));
    await connection.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
