/**
 * The cost of a child-process step (issue 27): the same 3 no-op jobs run inline in a process, and as one child step
 * (`process:` — a Temporal child workflow), on one Jipper worker against the benchmark's dev server. Both shapes run
 * alternated (ABAB), each sample one process at a time: success latency, compensation latency (a 4th inline step fails
 * after the 3 jobs, so they are reverted — inside a child workflow on the child side), and history events (the
 * parent's, and the tree's: parent + child [+ its unwind]). Prints one JSON object and a Markdown table.
 *
 * `npm run bench:children` (`-- --quick` for a short check).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { runProcess } from '../src/client';
import type { ProcessDefinition } from '../src/schema/definition';
import { createJipperWorker } from '../src/worker/worker';
import { benchLibrary, benchStep } from './jobs';
import { BENCH_WORKER_OPTIONS, JIPPER_BUNDLE, PROJECT_ROOT, benchRegistry } from './sides';
import { startBenchServer } from './server';
import { percentile } from './stats';

const quick = process.argv.includes('--quick');
const settings = quick ? { warmup: 3, samples: 30 } : { warmup: 10, samples: 150 };
const log = (line: string) => console.error(`[bench:children] ${line}`);

type Shape = 'inline' | 'child';
const jobs = (fail: boolean) => [
  ...['a', 'b', 'c'].map((id) => ({ id, job: benchStep.name, args: { fail: false } })),
  ...(fail ? [{ id: 'fails', job: benchStep.name, args: { fail: true } }] : []),
];

function definition(shape: Shape, fail: boolean): ProcessDefinition {
  if (shape === 'inline') return { name: 'bench-inline', steps: jobs(fail) };
  const child = { id: 'kid', process: { name: 'bench-kid', steps: jobs(false) } };
  const after = fail ? [{ id: 'fails', job: benchStep.name, args: { fail: true } }] : [];
  return { name: 'bench-parent', steps: [child, ...after] } as unknown as ProcessDefinition;
}

async function events(client: Client, id: string): Promise<number> {
  const history = await client.workflow.getHandle(id).fetchHistory();
  return history.events?.length ?? 0;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startBenchServer({ projectRoot: PROJECT_ROOT, stock: false, log });
  const connection = await NativeConnection.connect({ address: server.address });
  const taskQueue = `bench-children-${randomUUID()}`;
  const { worker } = await createJipperWorker({
    connection,
    taskQueue,
    libraries: [benchLibrary],
    workflowBundlePath: JIPPER_BUNDLE,
    workerOptions: BENCH_WORKER_OPTIONS,
  });
  const running = worker.run();
  const clientConnection = await Connection.connect({ address: server.address });
  const client = new Client({ connection: clientConnection });
  let sequence = 0;
  const run = async (shape: Shape, fail: boolean) => {
    sequence += 1;
    const id = `bench-children-${shape}-${process.pid}-${sequence}`;
    const t0 = performance.now();
    const report = await runProcess(client, definition(shape, fail), { taskQueue, id, registry: benchRegistry });
    const ms = performance.now() - t0;
    if (report.status !== (fail ? 'reverted' : 'succeeded')) throw new Error(`${id}: ${report.status}`);
    return { id, ms };
  };
  const result: Record<
    string,
    Record<Shape, { p50: number; p99: number; parentEvents: number; treeEvents: number }>
  > = {};
  try {
    for (const fail of [false, true]) {
      const label = fail ? 'compensation' : 'success';
      log(`${label}: ${settings.warmup} warm-up runs, then ${settings.samples} samples per shape, ABAB`);
      for (const shape of ['inline', 'child'] as const)
        for (let i = 0; i < settings.warmup; i++) await run(shape, fail);
      const samples: Record<Shape, number[]> = { inline: [], child: [] };
      const last: Record<Shape, string> = { inline: '', child: '' };
      for (let i = 0; i < settings.samples; i++) {
        for (const shape of i % 2 === 0 ? (['inline', 'child'] as const) : (['child', 'inline'] as const)) {
          const { id, ms } = await run(shape, fail);
          samples[shape].push(ms);
          last[shape] = id;
        }
      }
      const tree = async (shape: Shape) => {
        const parent = await events(client, last[shape]);
        if (shape === 'inline') return { parent, tree: parent };
        const kid = await events(client, `${last[shape]}/kid`);
        const unwind = fail ? await events(client, `${last[shape]}/kid/revert`) : 0;
        return { parent, tree: parent + kid + unwind };
      };
      result[label] = {} as Record<Shape, { p50: number; p99: number; parentEvents: number; treeEvents: number }>;
      for (const shape of ['inline', 'child'] as const) {
        const counted = await tree(shape);
        (result[label] as Record<Shape, unknown>)[shape] = {
          p50: percentile(samples[shape], 50),
          p99: percentile(samples[shape], 99),
          parentEvents: counted.parent,
          treeEvents: counted.tree,
        };
      }
    }
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await clientConnection.close();
    await server.stop();
  }
  console.log(JSON.stringify({ settings, result }, null, 1));
  const rows = Object.entries(result).flatMap(([label, shapes]) => {
    const { inline, child } = shapes;
    return [
      `| ${label} latency p50 (ms) | ${inline.p50.toFixed(1)} | ${child.p50.toFixed(1)} | ${(child.p50 / inline.p50).toFixed(2)}× |`,
      `| ${label} latency p99 (ms) | ${inline.p99.toFixed(1)} | ${child.p99.toFixed(1)} | ${(child.p99 / inline.p99).toFixed(2)}× |`,
      `| ${label} history events, the parent's | ${inline.parentEvents} | ${child.parentEvents} | ${(child.parentEvents / inline.parentEvents).toFixed(2)}× |`,
      `| ${label} history events, the whole tree | ${inline.treeEvents} | ${child.treeEvents} | ${(child.treeEvents / inline.treeEvents).toFixed(2)}× |`,
    ];
  });
  console.log(['| 3 jobs | inline | as a child step | child ÷ inline |', '|---|---:|---:|---:|', ...rows].join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
