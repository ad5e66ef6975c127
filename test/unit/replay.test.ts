/**
 * Replay: the histories of real runs of the examples (test/histories/, exported with `jipper history`; regenerate
 * with `npm run record-histories`) replay against the current workflow code, so a change that running processes
 * could not survive fails here. A workflow that starts a group's members in another order is caught.
 *
 * Each way a process ends is there twice: planned from the `jipper` command's job facts (the files named after the
 * outcome), and `worker-planned-*`, recorded before clients planned, when every run was planned by the worker's
 * `jipper.plan` local activity (what a process started without job facts still does). A process of local jobs is there
 * as recorded before runs of local jobs (`local-one-by-one-succeeded`) and after (`local-run-succeeded`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import type { ReplayResult } from '@temporalio/worker';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { historyWorkflowId, replayHistoryFiles } from '../../src/worker/replay';
import { historyFromJson } from '../../src/worker/history-json';
import { workflowsPath } from '../../src/worker/worker';

const dir = join(__dirname, '..', 'histories');
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => join(dir, name));

const quiet = new DefaultLogger('ERROR');
let released: string;
let reordered: string;

beforeAll(async () => {
  try {
    Runtime.install({ logger: quiet });
  } catch {
    // Another test file in this jest worker installed it already.
  }
  const bundle = async (path: string) => (await bundleWorkflowCode({ workflowsPath: path, logger: quiet })).code;
  released = await bundle(workflowsPath());
  reordered = await bundle(require.resolve('../support/reordered-workflows'));
}, 120_000);

function histories(): HistoryAndWorkflowId[] {
  return files.map((file) => ({
    workflowId: historyWorkflowId(file),
    history: historyFromJson(JSON.parse(readFileSync(file, 'utf8'))),
  }));
}

async function replayAll(code: string): Promise<Record<string, string | undefined>> {
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { code } }, histories())) results.push(result);
  return Object.fromEntries(
    results.map((r) => [r.workflowId, r.error ? `${r.error.name}: ${r.error.message}` : undefined])
  );
}

const outcomes = ['cancelled', 'failed-past-pivot', 'parked-then-decided', 'reverted', 'succeeded'];
// Local jobs (examples/provision-volume-local.yaml): one local activity per job, as recorded before runs of local jobs
// (commit ec704ea), and a run of local jobs as one (the `jipper.local-runs` patch).
const local = ['local-one-by-one-succeeded', 'local-run-succeeded'];
const recorded = [...outcomes, ...outcomes.map((o) => `worker-planned-${o}`), ...local].sort();

test('there is a recorded history for every way a process ends, planned by the client and by the worker', () => {
  expect(files.map(historyWorkflowId)).toEqual(recorded);
});

test('every recorded history replays against the current workflow code', async () => {
  expect(await replayAll(released)).toEqual(Object.fromEntries(recorded.map((id) => [id, undefined])));
});

test('a workflow that starts group members in another order is a determinism violation', async () => {
  const results = await replayAll(reordered);
  // The runs with a parallel group break; the others never reach the changed code path.
  const withGroup = recorded.filter((id) => /(^|-)(reverted|succeeded)$/.test(id));
  expect(withGroup).toHaveLength(6);
  for (const id of recorded) {
    if (withGroup.includes(id)) {
      expect([id, results[id]]).toEqual([
        id,
        expect.stringMatching(/^DeterminismViolationError: .*'filesystem\.run' does not match .*'quota\.run'/),
      ]);
    } else expect([id, results[id]]).toEqual([id, undefined]);
  }
});

test('replayHistoryFiles (what `jipper replay` runs) replays them too', async () => {
  const results = await replayHistoryFiles(files);
  expect(results.map((r) => r.error)).toEqual(files.map(() => undefined));
});
