/** The benchmark's output: the console table and BENCHMARKS.md, both from the same results (bench/results.json). */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderTable } from '../src/cli/table';
import { codecSectionMd } from './codec-report';
import type { MemoryResult } from './child';
import type { SideName } from './sides';
import { ALL_SIDES } from './sides';

export interface LatencyFigures {
  p50: number;
  p99: number;
  mean: number;
  n: number;
}

export interface HistoryFigures {
  bySteps: Record<number, { events: number; bytes: number }>;
  failure: { events: number; bytes: number };
  /** Event types of one 3-step run. */
  types: Record<string, number>;
  /** Event types of one failure-path run. */
  failureTypes?: Record<string, number>;
}

export interface ReplayFigures {
  histories: number;
  passes: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Events per second of the process's CPU time (all threads): less sensitive to other load on the machine. */
  eventsPerCpuSecond: number;
  /** Median over the passes (each pass creates a replay worker). */
  workerCreationMs: number;
  /** The first pass: the first replay worker this process creates for the bundle. */
  firstWorkerCreationMs: number;
  /** Histories per pass that did not replay cleanly. */
  failures: number;
}

/** A failed run with some completed steps, every one reverted. */
export interface CompensationFigures {
  /** From the failing step's failure to the run's end (server event times): compensation latency. */
  unwinding: LatencyFigures;
  /** From start to result, at the client (the forward steps, the failure and the unwinding). */
  endToEnd: LatencyFigures;
}

export interface SideFigures {
  latency: Record<number, LatencyFigures>;
  /** Least-squares ms per step over the sizes, fitted to the p50 and to the p99 latencies. */
  slope: { p50: number; p99: number };
  intercept: { p50: number; p99: number };
  /** By number of completed steps. */
  compensation: Record<number, CompensationFigures>;
  /** 3-step processes per second. */
  throughput: number;
  /**
   * CPU time per 3-step process during the throughput rounds: this process (worker, activities and client) and the
   * dev server. Less sensitive to other load on the machine than wall-clock figures.
   */
  cpuPerProcess: { workerAndClientMs: number; serverMs: number };
  history: HistoryFigures;
  replay: ReplayFigures;
  memory: MemoryResult;
}

/** Jipper's code-first saga (`runSaga`), measured beside its definition runs. */
export type CodeFirstFigures = Pick<SideFigures, 'latency' | 'slope' | 'intercept' | 'compensation'>;

/**
 * Where a run's time went, from the server's event times (means over the samples): the span; the workflow tasks' time
 * with the worker (started → completed) and in the queue (scheduled → started); the activities' (scheduled → closed).
 */
export interface HistoryTimes {
  spanMs: number;
  workflowTaskMs: number;
  workflowTaskQueueMs: number;
  activityMs: number;
  workflowTasks: number;
}

/** By steps (successful runs, start to end) and by completed steps (the unwinding, failure to end). */
export interface SideBreakdown {
  latency: Record<number, HistoryTimes>;
  unwinding: Record<number, HistoryTimes>;
}

/** History bytes of long processes: every run of the continued-as-new chain, summed. */
export interface HistoryBytesFigures {
  /** Characters of data in each step's result. */
  resultChars: number;
  runs: {
    steps: number;
    /** The history length at which the process continues as new, when not Jipper's default. */
    continueAsNewAfterEvents?: number;
    /** Runs in the chain, and their events and bytes summed. */
    runs: number;
    /** Events of each run, first to last. */
    runEvents: number[];
    events: number;
    /** Protobuf, as the server stores them. */
    bytes: number;
    /** `JSON.stringify` of the fetched histories. */
    jsonBytes: number;
    largestRunBytes: number;
    /**
     * Protobuf bytes of the state each continue-as-new carries, as often as the history holds it: in the event that
     * ends a run and in the start of the next.
     */
    carriedBytes: number;
    /** Start to result. */
    seconds: number;
  }[];
}

/** A ratio of two sides' percentiles, with a 90% bootstrap interval for each. */
export interface PercentileRatios {
  p50: number;
  p99: number;
  p50Interval: NonNullable<Target['interval']>;
  p99Interval: NonNullable<Target['interval']>;
}

export interface Target {
  name: string;
  target: string;
  value: number;
  unit: string;
  met: boolean;
  /**
   * How far the samples of this one run let the figure move: a 90% bootstrap interval (slopes), or the lowest and
   * highest of the rounds (throughput). `met` judges `value` alone.
   */
  interval?: { low: number; high: number; kind: string };
}

export interface WorkerStartFigures {
  runs: number;
  createMs: number;
  connectMs: number;
  bootMs: number;
  totalMs: number;
}

export interface BenchResults {
  meta: {
    date: string;
    command: string;
    quick: boolean;
    durationSeconds: number;
    machine: {
      nproc: number;
      cpu: string;
      memoryGb: number;
      os: string;
      loadAverageAtStart: number[];
      loadAverageAtEnd: number[];
    };
    versions: { node: string; sdk: string; cli: string };
    dynamicConfig: Record<string, number>;
    workerOptions: object;
    settings: {
      sizes: number[];
      latencySamples: number;
      warmupRuns: number;
      compensationSizes: number[];
      compensationSamples: number;
      historyRuns: { steps: number; continueAsNewAfterEvents?: number }[];
      historyResultChars: number;
      concurrency: number;
      throughputPerRound: number;
      throughputRounds: number;
      memory: { warm: number; n: number };
    };
  };
  sides: Record<'handwritten' | 'jipper', SideFigures>;
  ratios: {
    slopeP50: number;
    slopeP99: number;
    throughput: number;
    cpuPerProcess: number;
    /** Compensation latency, Jipper ÷ hand-written, by completed steps. */
    compensation: Record<number, PercentileRatios>;
    /** Jipper's code-first saga ÷ its definition runs. */
    codeFirst: {
      slopeP50: { value: number; interval: Target['interval'] };
      slopeP99: { value: number; interval: Target['interval'] };
      compensation: Record<number, PercentileRatios>;
    };
    eventsPerProcess3: number;
    replay: number;
    memory: number;
  };
  codeFirst: CodeFirstFigures;
  /** Where the time went, per side (hand-written, Jipper, code-first). */
  breakdown: Record<SideName, SideBreakdown>;
  historyBytes: HistoryBytesFigures;
  replaySource: string;
  committedReplay?: ReplayFigures;
  workerStart: {
    jipperPrebuilt: WorkerStartFigures;
    jipperAtStart: WorkerStartFigures;
    handwrittenPrebuilt: WorkerStartFigures;
  };
  targets: Target[];
  /** Raw latencies in ms, by side, and by steps (forward) or completed steps (compensation). */
  samples: {
    latency: Record<SideName, Record<number, number[]>>;
    unwinding: Record<SideName, Record<number, number[]>>;
    failureEndToEnd: Record<SideName, Record<number, number[]>>;
  };
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const x = (v: number): string => `${v.toFixed(2)}×`;
const num = (v: number, digits = 0): string =>
  v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function eventsPerStep(h: HistoryFigures, sizes: number[]): number {
  const first = sizes[0] as number;
  const last = sizes[sizes.length - 1] as number;
  return ((h.bySteps[last]?.events ?? NaN) - (h.bySteps[first]?.events ?? NaN)) / (last - first);
}

/** Compensation latency per reverted step at p50: the slope between the fewest and the most completed steps. */
export function perRevertMs(f: Pick<SideFigures, 'compensation'>, sizes: number[]): number {
  const first = sizes[0] as number;
  const last = sizes[sizes.length - 1] as number;
  const p50 = (n: number) => f.compensation[n]?.unwinding.p50 ?? NaN;
  return (p50(last) - p50(first)) / (last - first);
}

const SIDE_LABEL: Record<SideName, string> = { handwritten: 'hand-written', jipper: 'Jipper', codefirst: 'code-first' };

function timesRow(label: string, side: SideName, t: HistoryTimes | undefined): string[] {
  if (!t) return [label, SIDE_LABEL[side], '–', '–', '–', '–', '–', '–', '–'];
  const rest = t.spanMs - t.workflowTaskMs - t.workflowTaskQueueMs - t.activityMs;
  return [
    label,
    SIDE_LABEL[side],
    ms(t.spanMs),
    ms(t.workflowTaskMs),
    ms(t.workflowTaskQueueMs),
    ms(t.activityMs),
    ms(rest),
    t.workflowTasks.toFixed(1),
    (t.workflowTaskMs / t.workflowTasks).toFixed(2),
  ];
}

/** "1,000 steps", or "1,000 steps continuing as new every 1,000 events". */
export function historyRunLabel(run: { steps: number; continueAsNewAfterEvents?: number }): string {
  const steps = `${num(run.steps)} steps`;
  return run.continueAsNewAfterEvents === undefined
    ? steps
    : `${steps} continuing as new every ${num(run.continueAsNewAfterEvents)} events`;
}

function withInterval(value: number, interval: Target['interval']): string {
  return interval ? `${x(value)} (${x(interval.low)}–${x(interval.high)})` : x(value);
}

function formatValue(t: Target): string {
  if (t.unit === 'x')
    return t.interval ? `${x(t.value)} (${t.interval.kind} ${x(t.interval.low)}–${x(t.interval.high)})` : x(t.value);
  if (t.unit === 'events/s') return `${num(t.value)} events/s`;
  if (t.unit === '/s') return `${t.value.toFixed(1)}/s`;
  if (t.unit === 'MB') return `${(t.value * 1024).toFixed(0)} KB`;
  return `${t.value.toFixed(2)} ${t.unit}`;
}

/** Rows of [label, hand-written, Jipper, ratio]: the figures both ways. */
function summaryRows(r: BenchResults): string[][] {
  const { handwritten: h, jipper: j } = r.sides;
  const sizes = r.meta.settings.sizes;
  const rows: string[][] = [];
  for (const steps of sizes) {
    const a = h.latency[steps] as LatencyFigures;
    const b = j.latency[steps] as LatencyFigures;
    rows.push([`latency p50, ${steps} step${steps > 1 ? 's' : ''} (ms)`, ms(a.p50), ms(b.p50), x(b.p50 / a.p50)]);
    rows.push([`latency p99, ${steps} step${steps > 1 ? 's' : ''} (ms)`, ms(a.p99), ms(b.p99), x(b.p99 / a.p99)]);
  }
  rows.push(['per-step slope at p50 (ms/step)', ms(h.slope.p50), ms(j.slope.p50), x(r.ratios.slopeP50)]);
  rows.push(['per-step slope at p99 (ms/step)', ms(h.slope.p99), ms(j.slope.p99), x(r.ratios.slopeP99)]);
  for (const completed of r.meta.settings.compensationSizes) {
    const a = h.compensation[completed] as CompensationFigures;
    const b = j.compensation[completed] as CompensationFigures;
    for (const p of ['p50', 'p99'] as const) {
      rows.push([
        `compensation latency ${p}, ${completed} completed steps (ms)`,
        ms(a.unwinding[p]),
        ms(b.unwinding[p]),
        x(b.unwinding[p] / a.unwinding[p]),
      ]);
    }
  }
  const perRevert = (f: SideFigures | CodeFirstFigures) => perRevertMs(f, r.meta.settings.compensationSizes);
  if (r.meta.settings.compensationSizes.length > 1) {
    rows.push([
      'compensation, per reverted step at p50 (ms)',
      ms(perRevert(h)),
      ms(perRevert(j)),
      x(perRevert(j) / perRevert(h)),
    ]);
  }
  for (const completed of r.meta.settings.compensationSizes) {
    const a = h.compensation[completed] as CompensationFigures;
    const b = j.compensation[completed] as CompensationFigures;
    rows.push([
      `failed run, start → result p50, ${completed} completed steps (ms)`,
      ms(a.endToEnd.p50),
      ms(b.endToEnd.p50),
      x(b.endToEnd.p50 / a.endToEnd.p50),
    ]);
  }
  rows.push([
    `throughput, 3 steps, ${r.meta.settings.concurrency} in flight (/s)`,
    h.throughput.toFixed(1),
    j.throughput.toFixed(1),
    x(r.ratios.throughput),
  ]);
  rows.push([
    'CPU per 3-step process: bench process, worker + client (ms)',
    h.cpuPerProcess.workerAndClientMs.toFixed(1),
    j.cpuPerProcess.workerAndClientMs.toFixed(1),
    x(j.cpuPerProcess.workerAndClientMs / h.cpuPerProcess.workerAndClientMs),
  ]);
  rows.push([
    'CPU per 3-step process: dev server (ms)',
    h.cpuPerProcess.serverMs.toFixed(1),
    j.cpuPerProcess.serverMs.toFixed(1),
    x(j.cpuPerProcess.serverMs / h.cpuPerProcess.serverMs),
  ]);
  rows.push([
    'history events per step',
    eventsPerStep(h.history, sizes).toFixed(1),
    eventsPerStep(j.history, sizes).toFixed(1),
    x(eventsPerStep(j.history, sizes) / eventsPerStep(h.history, sizes)),
  ]);
  for (const steps of sizes) {
    const a = h.history.bySteps[steps]?.events ?? NaN;
    const b = j.history.bySteps[steps]?.events ?? NaN;
    rows.push([`history events per process, ${steps} step${steps > 1 ? 's' : ''}`, String(a), String(b), x(b / a)]);
  }
  const fs = (r.meta.settings.compensationSizes[0] ?? 0) + 1;
  rows.push([
    `history events, failure path (${fs} steps)`,
    String(h.history.failure.events),
    String(j.history.failure.events),
    x(j.history.failure.events / h.history.failure.events),
  ]);
  rows.push([
    "replay (events/s, this run's histories)",
    num(h.replay.eventsPerSecond),
    num(j.replay.eventsPerSecond),
    x(r.ratios.replay),
  ]);
  rows.push([
    'replay worker creation, first in the process (ms)',
    ms(h.replay.firstWorkerCreationMs),
    ms(j.replay.firstWorkerCreationMs),
    x(j.replay.firstWorkerCreationMs / h.replay.firstWorkerCreationMs),
  ]);
  const ws = r.workerStart;
  rows.push([
    'Worker.create, prebuilt bundle (ms)',
    ms(ws.handwrittenPrebuilt.createMs),
    ms(ws.jipperPrebuilt.createMs),
    x(ws.jipperPrebuilt.createMs / ws.handwrittenPrebuilt.createMs),
  ]);
  rows.push([
    'memory per cached workflow, RSS (KB)',
    h.memory.rssPerWorkflowKb.toFixed(0),
    j.memory.rssPerWorkflowKb.toFixed(0),
    x(r.ratios.memory),
  ]);
  return rows;
}

export function printTable(r: BenchResults): void {
  console.log(renderTable({ head: ['', 'hand-written', 'Jipper', 'Jipper ÷ hand-written'], rows: summaryRows(r) }));
  console.log(
    renderTable({
      head: ['target', 'wanted', 'measured', ''],
      rows: r.targets.map((t) => [t.name, t.target, formatValue(t), t.met ? 'met' : 'MISSED']),
    })
  );
  const cf = r.ratios.codeFirst;
  console.log(
    `code-first runSaga ÷ definition runs, per-step slope: p50 ${withInterval(cf.slopeP50.value, cf.slopeP50.interval)}, p99 ${withInterval(cf.slopeP99.value, cf.slopeP99.interval)}`
  );
  for (const run of r.historyBytes.runs) {
    console.log(
      `history bytes, ${historyRunLabel(run)}: ${run.runs} run(s), ${num(run.bytes)} bytes, ${num(run.bytes / run.steps)} per step`
    );
  }
  if (r.committedReplay)
    console.log(`replay of committed histories: ${num(r.committedReplay.eventsPerSecond)} events/s`);
  const ws = r.workerStart;
  console.log(
    `worker start (Jipper): prebuilt bundle ${ms(ws.jipperPrebuilt.createMs)} ms, bundling at start ${ms(ws.jipperAtStart.createMs)} ms` +
      ` (process start to polling: ${ms(ws.jipperPrebuilt.totalMs)} ms vs ${ms(ws.jipperAtStart.totalMs)} ms)`
  );
}

function mdTable(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

function typeDiff(a: Record<string, number>, b: Record<string, number>): string[][] {
  const types = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return types
    .map((type) => [type, String(a[type] ?? 0), String(b[type] ?? 0), (b[type] ?? 0) - (a[type] ?? 0)] as const)
    .filter(([, , , diff]) => diff !== 0)
    .map(([type, ha, jb, diff]) => [`\`${type}\``, ha, jb, diff > 0 ? `+${diff}` : String(diff)]);
}

export function writeBenchmarksMd(path: string, r: BenchResults): void {
  const { meta } = r;
  const { handwritten: h, jipper: j } = r.sides;
  const m = meta.machine;
  const s = meta.settings;
  const ws = r.workerStart;
  const notesPath = join(__dirname, '..', '..', '..', 'bench', 'notes.md');
  const notes = existsSync(notesPath) ? readFileSync(notesPath, 'utf8').trim() : '';
  // Measured by another command (npm run test:cluster), kept in its own file so regenerating this one keeps it.
  const clusterPath = join(__dirname, '..', '..', '..', 'bench', 'cluster.md');
  const cluster = existsSync(clusterPath) ? readFileSync(clusterPath, 'utf8').trim() : '';
  // Measured by npm run bench:waits, kept in its own file likewise.
  const waitsPath = join(__dirname, '..', '..', '..', 'bench', 'waits.md');
  const waits = existsSync(waitsPath) ? readFileSync(waitsPath, 'utf8').trim() : '';
  // Measured by npm run bench:children (bench/children.ts), kept in its own file for the same reason.
  const childrenPath = join(__dirname, '..', '..', '..', 'bench', 'children.md');
  const children = existsSync(childrenPath) ? readFileSync(childrenPath, 'utf8').trim() : '';
  // Measured by `npm run bench -- --local` (bench/local.ts), kept in its own file for the same reason.
  const localPath = join(__dirname, '..', '..', '..', 'bench', 'local.md');
  const local = existsSync(localPath) ? readFileSync(localPath, 'utf8').trim() : '';
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  const replayRow = (label: string, f: ReplayFigures) => [
    label,
    String(f.histories),
    num(f.events / f.passes),
    num(f.eventsPerSecond),
    num(f.eventsPerCpuSecond),
    `${ms(f.firstWorkerCreationMs)} / ${ms(f.workerCreationMs)}`,
    f.failures ? String(f.failures) : '0',
  ];
  const startRow = (label: string, f: WorkerStartFigures) => [
    label,
    String(f.runs),
    ms(f.createMs),
    ms(f.connectMs),
    ms(f.bootMs),
    ms(f.totalMs),
  ];
  const memRow = (label: string, f: MemoryResult) => [
    label,
    `${f.warm} + ${f.n}`,
    String(f.cached),
    `${f.rssBeforeMb.toFixed(0)} → ${f.rssAfterMb.toFixed(0)}`,
    f.rssPerWorkflowKb.toFixed(0),
    f.heapPerWorkflowKb.toFixed(1),
  ];

  const md = `# Benchmarks

Jipper against a hand-written saga in the Temporal samples' style (\`bench/workflows/handwritten-saga.ts\`: \`proxyActivities\`,
an array of compensations, compensations newest first), running identical no-op steps with identical activity options,
on one worker setting, against one local dev server the benchmark starts itself. Every comparison is a ratio measured
in the same run. Nothing here is a timed assertion in \`npm test\`.

_Generated by \`${meta.command}\` on ${meta.date} in ${meta.durationSeconds.toFixed(0)} s${meta.quick ? ' (quick run: few samples, rough figures)' : ''}. The figures come from this run
(also in \`bench/results.json\`); the analysis at the end is \`bench/notes.md\`. Re-run to refresh (\`npm run bench\`; \`npm run bench -- --quick\`, a few minutes, for a short check;
\`-- --report-only\` rewrites this file from the JSON); do not edit by hand._

## How it was run

| | |
|---|---|
| command | \`${meta.command}\` |
| machine | ${m.nproc} CPUs (\`nproc\`), ${m.cpu}, ${m.memoryGb.toFixed(0)} GB memory, ${m.os} |
| load average (1/5/15 min) | at start ${load(m.loadAverageAtStart)}, at end ${load(m.loadAverageAtEnd)} |
| versions | Node ${meta.versions.node}, Temporal TypeScript SDK ${meta.versions.sdk}, Temporal CLI ${meta.versions.cli} (dev server, in memory, headless, loopback) |
| dev server dynamic config | ${
    Object.keys(meta.dynamicConfig).length
      ? Object.entries(meta.dynamicConfig)
          .map(([k, v]) => `\`${k}=${v}\``)
          .join(', ') + ' (see bench/server.ts: the default, 20, locks every workflow task to a 50 ms tick)'
      : 'stock (`--stock-server`)'
  } |
| worker settings (both sides) | \`${JSON.stringify(meta.workerOptions)}\`, SDK defaults otherwise; the prebuilt workflow bundle |
| latency | ${s.warmupRuns} warm-up runs per side and shape, then ${s.latencySamples} samples per side at ${s.sizes.join(', ')} steps, one at a time, alternated in rounds (Jipper, hand-written, code-first) |
| compensation | ${s.compensationSamples} samples per side with ${s.compensationSizes.join(' and ')} completed steps: the next step fails (non-retryable), the completed ones are reverted; alternated in rounds like latency |
| code-first | Jipper's \`runSaga\` (\`bench/workflows/code-first.ts\`, the same steps) in every latency and compensation round, after the other two sides |
| history bytes | one Jipper process each of ${s.historyRuns.map(historyRunLabel).join('; ')}; each result ${s.historyResultChars} characters of data, each step reading the one before it (\`$from\`) |
| throughput | ${s.throughputRounds} rounds × ${s.throughputPerRound} three-step processes per side, ${s.concurrency} in flight, ABAB |
| memory | ${s.memory.warm} warm-up + ${s.memory.n} parked runs per side, each side in a fresh worker process |

## Targets

${mdTable(
  ['target', 'wanted', 'measured', ''],
  r.targets.map((t) => [t.name, t.target, formatValue(t), t.met ? 'met' : '**missed**'])
)}

## Summary

${mdTable(['', 'hand-written', 'Jipper', 'Jipper ÷ hand-written'], summaryRows(r))}

## Latency, start → result

Latency is measured at the client: from \`client.workflow.execute\` (hand-written) or Jipper's \`runProcess\` (which
also checks the definition before starting it) to the result. The per-step slope is the least-squares line through
the p50 (or p99) latencies at ${s.sizes.join(', ')} steps; its intercept is the fixed cost of a process.

${mdTable(
  ['', 'hand-written', 'Jipper'],
  [
    ['slope at p50 (ms/step)', ms(h.slope.p50), ms(j.slope.p50)],
    ['intercept at p50 (ms)', ms(h.intercept.p50), ms(j.intercept.p50)],
    ['slope at p99 (ms/step)', ms(h.slope.p99), ms(j.slope.p99)],
    ['intercept at p99 (ms)', ms(h.intercept.p99), ms(j.intercept.p99)],
    ...s.sizes.map((steps) => [
      `mean, ${steps} steps (ms)`,
      ms(h.latency[steps]?.mean ?? NaN),
      ms(j.latency[steps]?.mean ?? NaN),
    ]),
  ]
)}

## Where the time goes

Every latency and compensation sample's history, read back from the server: means over the samples, in ms, from the
server's event times (one clock for every side). "Span" runs from the first event to the last (for the unwinding,
from the failing step's \`ACTIVITY_TASK_FAILED\`); "with the worker" is each workflow task from
\`WORKFLOW_TASK_STARTED\` to \`COMPLETED\` (its delivery to the worker, the worker's activation of the workflow
code, the reply), "queued" from \`SCHEDULED\` to \`STARTED\`; "activities" from \`ACTIVITY_TASK_SCHEDULED\` to
its result; the rest of the span is the server's own handling between them. The client's start → result latency
adds the start request and the result's delivery.

${mdTable(
  [
    '',
    'side',
    'span',
    'with the worker',
    'queued',
    'activities',
    'rest',
    'workflow tasks',
    'with the worker, per task',
  ],
  [
    ...s.sizes.flatMap((steps) =>
      ALL_SIDES.map((side) => timesRow(`${steps} step${steps > 1 ? 's' : ''}`, side, r.breakdown[side].latency[steps]))
    ),
    ...s.compensationSizes.flatMap((completed) =>
      ALL_SIDES.map((side) =>
        timesRow(`unwinding, ${completed} completed`, side, r.breakdown[side].unwinding[completed])
      )
    ),
  ]
)}

## Compensation latency, failure → fully unwound

Each sample is a run whose first ${s.compensationSizes.join(' or ')} steps succeed and whose next step fails (non-retryable); every
completed step is then reverted, newest first, one at a time on every side. Compensation latency runs from the failing
step's \`ACTIVITY_TASK_FAILED\` to the run's \`WORKFLOW_EXECUTION_FAILED\`, both read from the server's history of
each sample (the server's clock, every side alike): the workflow task that sees the failure, one revert per completed
step, and the task that ends the run. Intervals are 90% bootstrap intervals of the ratio.

${mdTable(
  ['completed steps', '', 'hand-written', 'Jipper', 'Jipper ÷ hand-written', 'code-first', 'code-first ÷ Jipper'],
  s.compensationSizes.flatMap((completed) => {
    const a = h.compensation[completed] as CompensationFigures;
    const b = j.compensation[completed] as CompensationFigures;
    const c = r.codeFirst.compensation[completed] as CompensationFigures;
    const ratios = r.ratios.compensation[completed] as PercentileRatios;
    const codeFirst = r.ratios.codeFirst.compensation[completed] as PercentileRatios;
    return [
      ...(['p50', 'p99'] as const).map((p) => [
        String(completed),
        `compensation ${p} (ms)`,
        ms(a.unwinding[p]),
        ms(b.unwinding[p]),
        withInterval(ratios[p], ratios[`${p}Interval`]),
        ms(c.unwinding[p]),
        withInterval(codeFirst[p], codeFirst[`${p}Interval`]),
      ]),
      [
        String(completed),
        'start → result p50 (ms)',
        ms(a.endToEnd.p50),
        ms(b.endToEnd.p50),
        x(b.endToEnd.p50 / a.endToEnd.p50),
        ms(c.endToEnd.p50),
        x(c.endToEnd.p50 / b.endToEnd.p50),
      ],
    ];
  })
)}

${
  s.compensationSizes.length > 1
    ? `Per reverted step (the p50 slope between ${s.compensationSizes[0]} and ${s.compensationSizes.at(-1)} completed steps): hand-written ${ms(perRevertMs(h, s.compensationSizes))} ms, Jipper ${ms(perRevertMs(j, s.compensationSizes))} ms, code-first ${ms(perRevertMs(r.codeFirst, s.compensationSizes))} ms.\n\n`
    : ''
}## Code-first \`runSaga\` beside definition runs

The same steps written as a workflow on \`runSaga\` (\`bench/workflows/code-first.ts\`: one \`saga.run\` per step),
on Jipper's worker with the same job library and settings, in the same rounds as the other two sides.

${mdTable(
  ['', 'definition run', 'code-first', 'code-first ÷ definition'],
  [
    ...s.sizes.flatMap((steps) =>
      (['p50', 'p99'] as const).map((p) => {
        const a = j.latency[steps] as LatencyFigures;
        const b = r.codeFirst.latency[steps] as LatencyFigures;
        return [`latency ${p}, ${steps} step${steps > 1 ? 's' : ''} (ms)`, ms(a[p]), ms(b[p]), x(b[p] / a[p])];
      })
    ),
    [
      'per-step slope at p50 (ms/step)',
      ms(j.slope.p50),
      ms(r.codeFirst.slope.p50),
      withInterval(r.ratios.codeFirst.slopeP50.value, r.ratios.codeFirst.slopeP50.interval),
    ],
    [
      'per-step slope at p99 (ms/step)',
      ms(j.slope.p99),
      ms(r.codeFirst.slope.p99),
      withInterval(r.ratios.codeFirst.slopeP99.value, r.ratios.codeFirst.slopeP99.interval),
    ],
    [
      'intercept at p50 (ms)',
      ms(j.intercept.p50),
      ms(r.codeFirst.intercept.p50),
      x(r.codeFirst.intercept.p50 / j.intercept.p50),
    ],
  ]
)}

## History bytes per step

One Jipper process per row, every step returning ${num(r.historyBytes.resultChars)} characters of data and reading the
step before it (\`{ $from: "s<n>.step" }\`), so each call carries one earlier result (a call carries only the results
its step uses). A process's results may weigh 512 KiB in all (src/shared/limits.ts), which sets the result size at
1,000 steps. Bytes are summed over every run of the continued-as-new chain: protobuf as the server stores them, and
JSON (\`JSON.stringify\` of the fetched history, the measure of the long-process fault test). A process continues
as new at 8,000 events (\`options.continueAsNewAfterEvents\`) or as soon as Temporal suggests it
(\`continueAsNewSuggested\`, which the server sets from 4,096 events or a large history on, by default); a row with a
lower setting continues as new sooner. Each continue-as-new carries the definition and the whole state so far (the
report and every result), and the history holds that input twice: in the \`WORKFLOW_EXECUTION_CONTINUED_AS_NEW\`
event that ends one run and in the \`WORKFLOW_EXECUTION_STARTED\` event of the next. "Carried" counts both.

${mdTable(
  [
    'steps',
    'continues as new at (events)',
    'runs',
    'events per run',
    'bytes (protobuf)',
    'per step',
    'carried',
    'per step, without the carried state',
    'largest run',
    'JSON bytes',
    'JSON per step',
    'seconds',
  ],
  r.historyBytes.runs.map((f) => [
    num(f.steps),
    f.continueAsNewAfterEvents === undefined ? '8,000 (default)' : num(f.continueAsNewAfterEvents),
    String(f.runs),
    (f.runEvents ?? [f.events]).map((n) => num(n)).join(' + '),
    num(f.bytes),
    num(f.bytes / f.steps),
    num(f.carriedBytes),
    num((f.bytes - f.carriedBytes) / f.steps),
    num(f.largestRunBytes),
    num(f.jsonBytes),
    num(f.jsonBytes / f.steps),
    f.seconds.toFixed(1),
  ])
)}

## History events

${mdTable(
  ['steps', 'hand-written events', 'Jipper events', 'hand-written bytes (protobuf)', 'Jipper bytes (protobuf)'],
  [
    ...s.sizes.map((steps) => [
      String(steps),
      String(h.history.bySteps[steps]?.events),
      String(j.history.bySteps[steps]?.events),
      num(h.history.bySteps[steps]?.bytes ?? NaN),
      num(j.history.bySteps[steps]?.bytes ?? NaN),
    ]),
    [
      `failure path (${s.compensationSizes[0] ?? 0} completed + 1 failing)`,
      String(h.history.failure.events),
      String(j.history.failure.events),
      num(h.history.failure.bytes),
      num(j.history.failure.bytes),
    ],
  ]
)}

Events per step: hand-written ${eventsPerStep(h.history, s.sizes).toFixed(1)}, Jipper ${eventsPerStep(j.history, s.sizes).toFixed(1)}.

Where the event counts differ (one 3-step run):

${mdTable(['event type', 'hand-written', 'Jipper', 'extra'], typeDiff(h.history.types, j.history.types))}

On the failure path (${s.compensationSizes[0] ?? 0} completed steps, then one failing):

${mdTable(['event type', 'hand-written', 'Jipper', 'extra'], typeDiff(h.history.failureTypes ?? {}, j.history.failureTypes ?? {}))}

## Replay

Replay source: ${r.replaySource}. \`Worker.runReplayHistories\` with the prebuilt bundle, the set replayed until enough
time has passed; worker creation (bundle load, sandbox) is timed apart from replay.

${mdTable(
  [
    'histories',
    'count',
    'events per pass',
    'events/s',
    'events per CPU-second',
    'replay worker creation, first / median (ms)',
    'failed',
  ],
  [
    replayRow("hand-written, this run's", h.replay),
    replayRow("Jipper, this run's", j.replay),
    ...(r.committedReplay ? [replayRow('Jipper, test/histories', r.committedReplay)] : []),
  ]
)}

## Worker start

Each start runs in a fresh Node process against the running server: \`boot\` is Node start and module loading,
\`connect\` the \`NativeConnection\`, \`create\` is \`createJipperWorker\` (\`Worker.create\` for the hand-written saga),
\`total\` is process start to a polling worker. Medians.

${mdTable(
  ['', 'runs', 'create (ms)', 'connect (ms)', 'boot (ms)', 'total (ms)'],
  [
    startRow('Jipper, prebuilt bundle', ws.jipperPrebuilt),
    startRow('Jipper, bundling at start', ws.jipperAtStart),
    startRow('hand-written, prebuilt bundle', ws.handwrittenPrebuilt),
  ]
)}

## Memory per cached workflow

Each side runs in a fresh worker process (\`--expose-gc\`). It parks warm-up runs, measures, parks more, and measures
again once every run is cached and idle; the growth divided by the number of runs is the cost of one cached run. A
parked run has run 2 steps: Jipper's first step is a pivot and the second fails in park mode, so the run waits for an
operator's decision; the hand-written saga's second step fails and it waits for a signal before compensating. Workflow
state lives in the SDK's workflow thread and in Core (Rust), so RSS is the figure that counts; the main-thread heap is
shown for reference.

${mdTable(
  ['', 'runs', 'cached', 'RSS (MB)', 'RSS per run (KB)', 'main heap per run (KB)'],
  [memRow('hand-written', h.memory), memRow('Jipper', j.memory)]
)}
${codecSectionMd()}${notes ? `\n${notes}\n` : ''}${cluster ? `\n${cluster}\n` : ''}${children ? `\n${children}\n` : ''}${local ? `\n${local}\n` : ''}${waits ? `\n${waits}\n` : ''}`;
  writeFileSync(path, md);
}
