/**
 * One timed replay pass, as `npm run bench` and `bench:replay-cpu rate` measure replay: a fresh replay worker for the
 * set, its creation timed apart (from the call until it asks for the first history), then the set's replay, in wall
 * time and in this process's CPU time.
 */
import { performance } from 'node:perf_hooks';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';

export interface ReplayPass {
  creationMs: number;
  wallMs: number;
  cpuMs: number;
  /** The workflow ids that did not replay, with why. */
  failures: string[];
}

export async function replayPass(
  bundlePath: string,
  histories: { workflowId: string; history: temporal.api.history.v1.IHistory }[],
  replayName: string
): Promise<ReplayPass> {
  const start = performance.now();
  let ready = start;
  let last = start;
  let cpuStart = process.cpuUsage();
  let cpu = cpuStart;
  const failures: string[] = [];
  const source = (async function* () {
    ready = performance.now();
    cpuStart = process.cpuUsage();
    yield* histories;
  })();
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: bundlePath }, replayName },
    source
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    last = performance.now();
    cpu = process.cpuUsage(cpuStart);
  }
  return { creationMs: ready - start, wallMs: last - ready, cpuMs: (cpu.user + cpu.system) / 1000, failures };
}
