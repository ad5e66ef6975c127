/**
 * Workflow-side CPU per history, measured by replay: replay runs exactly the workflow code a worker runs, with no
 * server and no other process in the way, so the CPU time a replay takes is a clean measure of the workflow's own
 * cost, and far less sensitive to a busy machine than end-to-end latency. Used to find where Jipper's time goes and to
 * compare engine variants before a live run (see bench/notes.md).
 *
 *   npm run bench:replay-cpu -- record <dir> [runs]
 *       bundles the hand-written and code-first sagas into dist/bench/, starts a dev server and the benchmark's
 *       workers, runs each shape `runs` times per side (forward: 1, 3, 10 steps; compensation: 3 and 10 completed
 *       steps, then a failing one) and writes every history to <dir>
 *   npm run bench:replay-cpu -- replay <dir> <side>:<label>=<bundle> ... [--rounds n]
 *       replays each side's histories with each bundle given for it (`jipper:before=/tmp/a.js jipper:after=dist/…`),
 *       interleaved over `n` rounds (default 7), and prints the median CPU ms per history of each shape, then the
 *       events per CPU-second of each shape and of all shapes (`npm run bench`'s unit), with each variant's ratio to
 *       the hand-written saga's when `handwritten:<label>=<bundle>` is given too
 *   npm run bench:replay-cpu -- rate <dir> <side>:<label>=<bundle> ... [--rounds n]
 *       `npm run bench`'s replay figure alone: each variant replays all its side's histories as one set per pass (one
 *       replay worker per pass, its creation timed apart), in a fresh process per round, interleaved; prints the
 *       median events/s (wall) and events per CPU-second, with ratios to the hand-written saga's
 *   npm run bench:replay-cpu -- count <dir> <side>:<label>=<bundle> ...
 *       replays each side's histories once per bundle and prints, per history of each shape, the promises the
 *       workflow code created (in the workflow's V8 context) and the calls into that context (each one a
 *       `runInContext` with a timeout: Node starts a watchdog thread for it). Counts, not times: the machine's load
 *       does not move them.
 *   npm run bench:replay-cpu -- sites <bundle> <history.json> ...
 *       replays the histories with the bundle and prints where the workflow code's promises come from, per history:
 *       the two innermost frames of each promise's creation (source-mapped by the SDK), most first.
 *
 * Each replay of a set runs in a fresh Node process: the first cancellation scope a workflow runs switches on Node's
 * async hooks in its thread for good (see bench/notes.md), and a replay runs in the main thread, so one set must not
 * pay for the scopes of another.
 *
 * Sides: `jipper` (definition runs, dist/workflow-bundle.js), `handwritten` (dist/bench/handwritten-bundle.js),
 * `codefirst` (dist/bench/code-first-bundle.js). A variant bundle is any other build of the same workflows, e.g. one
 * built from another commit; it must replay the recorded histories (a replay that fails stops the tool).
 */
import { execFileSync } from 'node:child_process';
import { promiseHooks } from 'node:v8';
import { Script } from 'node:vm';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { historyFromJson, historyToJson } from '../src/worker/history-json';
import type { ProcessShape } from './jobs';
import { startBenchServer } from './server';
import type { SideName } from './sides';
import { ALL_SIDES, PROJECT_ROOT, createSideWorker, nextId, runToResult, writeBenchBundles } from './sides';
import { replayPass } from './replay-pass';
import { median } from './stats';

const log = (line: string): void => void process.stderr.write(`[replay-cpu] ${line}\n`);

const SHAPES: Record<string, ProcessShape> = {
  f1: { steps: 1 },
  f3: { steps: 3 },
  f10: { steps: 10 },
  c3: { steps: 4, failAt: 4 },
  c10: { steps: 11, failAt: 11 },
};

async function record(dir: string, runs: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await writeBenchBundles(log);
  const server = await startBenchServer({ projectRoot: PROJECT_ROOT, stock: false, log });
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  try {
    const native = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const queues = Object.fromEntries(ALL_SIDES.map((side) => [side, `replay-cpu-${side}-${randomUUID()}`]));
    const workers = await Promise.all(ALL_SIDES.map((side) => createSideWorker(side, native, queues[side] as string)));
    const running = workers.map((w) => w.run());
    for (const [name, shape] of Object.entries(SHAPES)) {
      for (const side of ALL_SIDES) {
        for (let i = 0; i < runs + 2; i++) {
          const id = nextId(side, name);
          await runToResult(client, side, queues[side] as string, shape, id);
          if (i < 2) continue; // warm-up
          const history = await client.workflow.getHandle(id).fetchHistory();
          writeFileSync(join(dir, `${side}.${name}.${i - 2}.json`), historyToJson(history));
        }
      }
      log(`recorded ${name}`);
    }
    for (const worker of workers) worker.shutdown();
    await Promise.all(running);
    await connection.close();
    await native.close();
  } finally {
    await server.stop();
  }
}

type Loaded = { workflowId: string; history: ReturnType<typeof historyFromJson> };

async function cpuPerHistory(bundle: string, histories: Loaded[]): Promise<number> {
  let cpuStart = process.cpuUsage();
  let cpu = cpuStart;
  const source = (async function* () {
    cpuStart = process.cpuUsage();
    yield* histories;
  })();
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: bundle }, replayName: 'cpu' },
    source
  )) {
    if (result.error) throw new Error(`${result.workflowId} did not replay with ${bundle}: ${String(result.error)}`);
    cpu = process.cpuUsage(cpuStart);
  }
  return (cpu.user + cpu.system) / 1000 / histories.length;
}

/**
 * Child mode: replays the files with the bundle in this fresh process, a few passes to warm up (the JIT), then more,
 * and prints the median CPU ms per history of the measured passes.
 */
async function replayOne(bundle: string, files: string[]): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const histories = files.map((file) => ({
    workflowId: file,
    history: historyFromJson(JSON.parse(readFileSync(file, 'utf8'))),
  }));
  for (let i = 0; i < WARM_PASSES; i++) await cpuPerHistory(bundle, histories);
  const passes: number[] = [];
  for (let i = 0; i < MEASURED_PASSES; i++) passes.push(await cpuPerHistory(bundle, histories));
  console.log(String(median(passes)));
}

/**
 * Child mode for `rate`: replays all the files as one set per pass, as `npm run bench` does (one replay worker per
 * pass, its creation timed apart), three passes to warm up and five measured; prints the measured passes' events,
 * wall ms and CPU ms, summed, as JSON.
 */
async function rateOne(bundle: string, files: string[]): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const histories = files.map((file) => ({
    workflowId: file,
    history: historyFromJson(JSON.parse(readFileSync(file, 'utf8'))),
  }));
  const events = histories.reduce((sum, h) => sum + (h.history.events?.length ?? 0), 0);
  const pass = async (): Promise<{ wallMs: number; cpuMs: number }> => {
    const { wallMs, cpuMs, failures } = await replayPass(bundle, histories, 'rate');
    if (failures.length) throw new Error(`did not replay with ${bundle}: ${failures.join('; ')}`);
    return { wallMs, cpuMs };
  };
  for (let i = 0; i < WARM_PASSES; i++) await pass();
  let wallMs = 0;
  let cpuMs = 0;
  for (let i = 0; i < MEASURED_PASSES; i++) {
    const p = await pass();
    wallMs += p.wallMs;
    cpuMs += p.cpuMs;
  }
  console.log(JSON.stringify({ events: events * MEASURED_PASSES, wallMs, cpuMs }));
}

/**
 * `rate` mode: each variant replays all of its side's histories (every shape) as one set, in a fresh process per
 * round, the variants interleaved; prints events/s (wall, as `npm run bench` reports) and events per CPU-second, the
 * median over the rounds, with each variant's ratio to the hand-written saga's.
 */
async function rate(dir: string, variants: { side: SideName; label: string; bundle: string }[], rounds: number) {
  const sets = historySets(dir);
  const filesOf = (side: SideName): string[] =>
    [...sets].filter(([key]) => key.startsWith(`${side}.`)).flatMap(([, files]) => files);
  const perSecond = new Map<string, number[]>();
  const perCpuSecond = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      const out = execFileSync(process.execPath, [__filename, 'rate-one', variant.bundle, ...filesOf(variant.side)], {
        encoding: 'utf8',
      });
      const { events, wallMs, cpuMs } = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
        events: number;
        wallMs: number;
        cpuMs: number;
      };
      const key = `${variant.side}:${variant.label}`;
      (perSecond.get(key) ?? perSecond.set(key, []).get(key))?.push(events / (wallMs / 1000));
      (perCpuSecond.get(key) ?? perCpuSecond.set(key, []).get(key))?.push(events / (cpuMs / 1000));
    }
    log(`round ${round + 1} of ${rounds}`);
  }
  const hand = variants.find((v) => v.side === 'handwritten');
  const handKey = hand ? `${hand.side}:${hand.label}` : undefined;
  console.log(['variant', 'histories', 'events/s', 'events per CPU-second'].join('\t'));
  for (const variant of variants) {
    const key = `${variant.side}:${variant.label}`;
    const cell = (m: Map<string, number[]>): string => {
      const value = median(m.get(key) ?? []);
      const base = handKey && key !== handKey ? median(m.get(handKey) ?? []) : undefined;
      return `${value.toFixed(0)}${base ? ` (${(value / base).toFixed(2)}x)` : ''}`;
    };
    console.log([key, String(filesOf(variant.side).length), cell(perSecond), cell(perCpuSecond)].join('\t'));
  }
}

/**
 * Child mode: replays the files once to warm up, then once more counting the promises created in the workflow's
 * context (their constructor is the context's `Promise`, not this realm's) and the calls into the context; prints
 * both per history as JSON.
 */
async function countOne(bundle: string, files: string[]): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const histories = files.map((file) => ({
    workflowId: file,
    history: historyFromJson(JSON.parse(readFileSync(file, 'utf8'))),
  }));
  let counting = false;
  let promises = 0;
  let calls = 0;
  const stop = promiseHooks.onInit((promise) => {
    if (counting && (promise as { constructor: unknown }).constructor !== Promise) promises += 1;
  }) as () => void;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the script as `this` below
  const runInContext = Script.prototype.runInContext;
  Script.prototype.runInContext = function (this: Script, ...args: Parameters<Script['runInContext']>) {
    if (counting) calls += 1;
    return Reflect.apply(runInContext, this, args) as unknown;
  } as Script['runInContext'];
  await cpuPerHistory(bundle, histories);
  counting = true;
  await cpuPerHistory(bundle, histories);
  counting = false;
  stop();
  Script.prototype.runInContext = runInContext;
  console.log(JSON.stringify({ promises: promises / histories.length, calls: calls / histories.length }));
}

/** `sites` mode: promises created in the workflow's context per history, by the two innermost frames creating them. */
async function sites(bundle: string, files: string[]): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const histories = files.map((file) => ({
    workflowId: file,
    history: historyFromJson(JSON.parse(readFileSync(file, 'utf8'))),
  }));
  let counting = false;
  const bySite = new Map<string, number>();
  Error.stackTraceLimit = 30;
  const stop = promiseHooks.onInit((promise) => {
    if (!counting || (promise as { constructor: unknown }).constructor === Promise) return;
    const holder: { stack?: string } = {};
    Error.captureStackTrace(holder);
    const frames = (holder.stack ?? '')
      .split('\n')
      .slice(1)
      .filter((line) => !/node_modules|node:internal|webpack|evalmachine|replay-cpu/.test(line))
      .map((line) => line.trim().replace(/^at /, '').replace(`${PROJECT_ROOT}/`, ''));
    const site = frames.slice(0, 2).join(' < ') || '(the SDK)';
    bySite.set(site, (bySite.get(site) ?? 0) + 1);
  }) as () => void;
  await cpuPerHistory(bundle, histories);
  counting = true;
  await cpuPerHistory(bundle, histories);
  counting = false;
  stop();
  for (const [site, n] of [...bySite].sort((a, b) => b[1] - a[1])) {
    console.log(`${(n / histories.length).toFixed(1).padStart(7)}  ${site}`);
  }
}

async function count(dir: string, variants: { side: SideName; label: string; bundle: string }[]): Promise<void> {
  const sets = historySets(dir);
  console.log(['variant', ...Object.keys(SHAPES).map((s) => `${s} promises / calls`)].join('\t'));
  for (const variant of variants) {
    const row = Object.keys(SHAPES).map((shape) => {
      const set = sets.get(`${variant.side}.${shape}`);
      if (!set) return '-';
      const out = execFileSync(process.execPath, [__filename, 'count-one', variant.bundle, ...set], {
        encoding: 'utf8',
      });
      const { promises, calls } = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
        promises: number;
        calls: number;
      };
      return `${promises.toFixed(0)} / ${calls.toFixed(0)}`;
    });
    console.log([`${variant.side}:${variant.label}`, ...row].join('\t'));
  }
}

/** The recorded histories by `<side>.<shape>`. */
function historySets(dir: string): Map<string, string[]> {
  const sets = new Map<string, string[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const [side, shape] = file.split('.');
    const key = `${side}.${shape}`;
    (sets.get(key) ?? sets.set(key, []).get(key))?.push(join(dir, file));
  }
  return sets;
}

const WARM_PASSES = 3;
const MEASURED_PASSES = 5;

async function replay(dir: string, variants: { side: SideName; label: string; bundle: string }[], rounds: number) {
  const sets = historySets(dir);
  const samples = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      for (const shape of Object.keys(SHAPES)) {
        const set = sets.get(`${variant.side}.${shape}`);
        if (!set) continue;
        const key = `${variant.side}:${variant.label}\t${shape}`;
        const out = execFileSync(process.execPath, [__filename, 'replay-one', variant.bundle, ...set], {
          encoding: 'utf8',
        });
        (samples.get(key) ?? samples.set(key, []).get(key))?.push(Number(out.trim().split('\n').at(-1)));
      }
    }
    log(`round ${round + 1} of ${rounds}`);
  }
  console.log(['variant', ...Object.keys(SHAPES)].join('\t'));
  for (const variant of variants) {
    const row = Object.keys(SHAPES).map((shape) => {
      const s = samples.get(`${variant.side}:${variant.label}\t${shape}`);
      return s ? median(s).toFixed(2) : '-';
    });
    console.log([`${variant.side}:${variant.label}`, ...row].join('\t'));
  }
  printEventRates(sets, variants, samples);
}

/**
 * The replay speed in the unit `npm run bench` reports: events per CPU-second per shape (the shape's events per
 * history over its median CPU ms per history), and over all shapes (all events over all CPU), with each variant's
 * ratio to the hand-written saga's when it was replayed too.
 */
function printEventRates(
  sets: Map<string, string[]>,
  variants: { side: SideName; label: string }[],
  samples: Map<string, number[]>
): void {
  const eventsPer = (side: SideName, shape: string): number => {
    const set = sets.get(`${side}.${shape}`) ?? [];
    const total = set.reduce((sum, file) => sum + historyEvents(file), 0);
    return set.length ? total / set.length : NaN;
  };
  const rates = variants.map((variant) => {
    let events = 0;
    let ms = 0;
    const row = Object.keys(SHAPES).map((shape) => {
      const s = samples.get(`${variant.side}:${variant.label}\t${shape}`);
      if (!s) return NaN;
      events += eventsPer(variant.side, shape);
      ms += median(s);
      return eventsPer(variant.side, shape) / (median(s) / 1000);
    });
    return { name: `${variant.side}:${variant.label}`, side: variant.side, row, all: events / (ms / 1000) };
  });
  const hand = rates.find((r) => r.side === 'handwritten');
  console.log(['events per CPU-second', ...Object.keys(SHAPES), 'all shapes'].join('\t'));
  for (const r of rates) {
    const cells = [...r.row, r.all].map((rate, i) => {
      const base = hand ? [...hand.row, hand.all][i] : undefined;
      const ratio = base && r !== hand ? ` (${(rate / base).toFixed(2)}x)` : '';
      return Number.isFinite(rate) ? `${rate.toFixed(0)}${ratio}` : '-';
    });
    console.log([r.name, ...cells].join('\t'));
  }
}

function historyEvents(file: string): number {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { events?: unknown[] };
  return json.events?.length ?? 0;
}

async function main(): Promise<void> {
  const [mode, dir, ...rest] = process.argv.slice(2);
  if (mode === 'record' && dir) return record(dir, Number(rest[0] ?? 10));
  if (mode === 'replay-one' && dir) return replayOne(dir, rest);
  if (mode === 'count-one' && dir) return countOne(dir, rest);
  if (mode === 'rate-one' && dir) return rateOne(dir, rest);
  if (mode === 'sites' && dir) return sites(dir, rest);
  if ((mode === 'replay' || mode === 'count' || mode === 'rate') && dir) {
    const roundsAt = rest.indexOf('--rounds');
    const rounds = roundsAt >= 0 ? Number(rest[roundsAt + 1]) : 7;
    const variants = rest
      .filter((arg, i) => arg !== '--rounds' && (roundsAt < 0 || i !== roundsAt + 1))
      .map((arg) => {
        const match = /^(jipper|handwritten|codefirst):([^=]+)=(.+)$/.exec(arg);
        if (!match) throw new Error(`expected <side>:<label>=<bundle>, got ${arg}`);
        return { side: match[1] as SideName, label: match[2] as string, bundle: match[3] as string };
      });
    if (mode === 'rate') return rate(dir, variants, rounds);
    return mode === 'count' ? count(dir, variants) : replay(dir, variants, rounds);
  }
  throw new Error(
    'usage: replay-cpu record <dir> [runs] | replay|rate <dir> <side>:<label>=<bundle> ... [--rounds n] | count <dir> <side>:<label>=<bundle> ... | sites <bundle> <history.json> ...'
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
