/**
 * `jipper check --deploy` against a real server with processes in flight (each held at its last step):
 *
 * - a bundle whose workflow starts a group's members in another order breaks the run with a group (a determinism
 *   violation, exit code 1) and not the plain list;
 * - the same job with a new default timeout (its shape unchanged) is `changed`, not breaking (exit code 0), and a
 *   revised definition shows how each run's revert plan changes; a run the worker planned (no job facts in its start
 *   request) is compared through the plan recorded in its history;
 * - encrypted runs are decrypted with the key ring (their start input read, their history replayed);
 * - bad input is one line each: an unreadable history file, a query that matches nothing, a bundle that fails to load.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { startProcess, waitForReport } from '../../src/client';
import { encryptingDataConverter } from '../../src/codec/data-converter';
import { generateKey, parseInlineKeyRing } from '../../src/codec/keyring';
import type { TestWorker } from '../../src/testing/worker';
import { startTestWorker } from '../../src/testing/worker';
import { historyToJson } from '../../src/worker/history-json';
import { checkDeploy } from '../../src/testing';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { JobLibrary } from '../../src/jobs/library';
import { cliEnv, jipper, requireBuiltCli } from '../support/cli';
import { waitUntil } from '../support/observe';
import { serverAddress } from '../support/worker';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the same CommonJS library the command loads
const jobs = require('../support/deploy-jobs.cjs') as { library: JobLibrary; state: { held: boolean } };
const LIBRARY = resolve('test/support/deploy-jobs.cjs');
const RING = `k1:${generateKey()}`;

const grouped: ProcessDefinition = {
  name: 'grouped',
  steps: [
    {
      parallel: [
        { id: 'g1', job: 'step' },
        { id: 'g2', job: 'step' },
      ],
    },
    { id: 'hold', job: 'step', args: { hold: true } },
  ],
};
const listed: ProcessDefinition = {
  name: 'listed',
  steps: [
    { id: 'a', job: 'step' },
    { id: 'b', job: 'step', args: { hold: true } },
  ],
};

let scratch: string;
let plain: TestWorker;
let secret: TestWorker;
let handles: WorkflowHandle[] = [];
let reordered: string;

/** Starts a process and waits for its last step to run; without `registry` the worker plans it. */
async function inFlight(worker: TestWorker, definition: ProcessDefinition, withFacts = true): Promise<WorkflowHandle> {
  const handle = await startProcess(worker.client, definition, {
    taskQueue: worker.taskQueue,
    ...(withFacts ? { registry: worker.registry } : {}),
  });
  const last = definition.steps.at(-1) as { id: string };
  await waitUntil(async () => worker.calls(handle.workflowId).some((c) => c.stepId === last.id), `${last.id} to start`);
  return handle;
}

beforeAll(async () => {
  requireBuiltCli();
  scratch = mkdtempSync(join(tmpdir(), 'jipper-check-deploy-'));
  plain = await startTestWorker([jobs.library], { address: serverAddress(), name: 'deploy-plain' });
  secret = await startTestWorker([jobs.library], {
    address: serverAddress(),
    name: 'deploy-secret',
    dataConverter: encryptingDataConverter(parseInlineKeyRing(RING, 'the test key ring')),
  });
  handles = [
    await inFlight(plain, grouped),
    await inFlight(plain, listed),
    await inFlight(secret, listed),
    await inFlight(plain, { ...listed, name: 'worker-planned' }, false),
  ];
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../support/reordered-workflows'),
    logger: new DefaultLogger('ERROR'),
  });
  reordered = join(scratch, 'reordered.js');
  writeFileSync(reordered, code);
}, 120_000);

afterAll(async () => {
  jobs.state.held = false;
  await Promise.all(handles.map((h) => waitForReport(h).catch(() => undefined)));
  await plain?.shutdown();
  await secret?.shutdown();
  rmSync(scratch, { recursive: true, force: true });
});

const env = (taskQueue: string, extra: NodeJS.ProcessEnv = {}) =>
  cliEnv(taskQueue, scratch, { JIPPER_LIBRARIES: LIBRARY, ...extra });

interface DeployJson {
  ok: boolean;
  runs: { workflowId: string; process?: string; verdict: string; reasons: string[]; revertPlan?: unknown }[];
}

function byName(runs: DeployJson['runs']): Record<string, DeployJson['runs'][number]> {
  const named: Record<string, DeployJson['runs'][number]> = {};
  for (const run of runs) named[run.process ?? ''] = run;
  return named;
}

test('a reordered workflow breaks the in-flight run with a group, and only it (every open process on the queue)', async () => {
  const result = await jipper(['check', '--deploy', '--bundle', reordered, '--json'], env(plain.taskQueue));
  expect(result.stderr).toBe('');
  expect(result.code).toBe(1);
  const { runs, ok } = JSON.parse(result.stdout) as DeployJson;
  expect(ok).toBe(false);
  const byProcess = byName(runs);
  expect(runs).toHaveLength(3);
  expect(byProcess.grouped).toMatchObject({ verdict: 'breaks', workflowId: handles[0]?.workflowId });
  expect(byProcess.grouped?.reasons[0]).toMatch(/^determinism violation: /);
  expect(byProcess.listed).toMatchObject({ verdict: 'ok', reasons: [] });
  expect(byProcess['worker-planned']).toMatchObject({ verdict: 'ok', reasons: [] });
});

test('a changed job of the same shape is changed meaning, not breaking; a revised definition shows the revert plan change', async () => {
  const revised = join(scratch, 'listed.yaml');
  writeFileSync(
    revised,
    'name: listed\nsteps:\n  - { id: a, job: step, revert: none, reason: kept on purpose }\n  - { id: b, job: step }\n'
  );
  const result = await jipper(
    ['check', '--deploy', '--definition', revised, '--json'],
    env(plain.taskQueue, { DEPLOY_JOBS_TIMEOUT: '3m' })
  );
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const { runs } = JSON.parse(result.stdout) as DeployJson;
  const byProcess = byName(runs);
  expect(byProcess.grouped).toMatchObject({
    verdict: 'changed',
    reasons: ['job "step" changed since the run started (its revert or default options differ)'],
  });
  expect(byProcess.listed?.verdict).toBe('changed');
  expect(byProcess.listed?.revertPlan).toEqual({ failAt: 'b', before: ['a'], after: [], changed: true });
  expect(byProcess.listed?.reasons).toContain('revised definition: a failure of b would revert nothing (was a)');
  // Planned by the worker: the job versions come from the plan recorded in its history.
  expect(byProcess['worker-planned']).toMatchObject({
    verdict: 'changed',
    reasons: [expect.stringMatching(/^job "step" changed/)],
  });

  const table = await jipper(['check', '--deploy'], env(plain.taskQueue));
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/3 runs checked: 0 would break, 0 changed meaning/);
}, 60_000);

test('encrypted runs are read and replayed with the key ring', async () => {
  const result = await jipper(['check', '--deploy', '--json'], env(secret.taskQueue, { JIPPER_ENCRYPTION_KEYS: RING }));
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect((JSON.parse(result.stdout) as DeployJson).runs).toEqual([
    expect.objectContaining({ workflowId: handles[2]?.workflowId, process: 'listed', verdict: 'ok' }),
  ]);
  // The testing kit, on the same history with the wrong ring: not read, the replay fails.
  const history = await (handles[2] as WorkflowHandle).fetchHistory();
  const [wrong] = await checkDeploy([{ workflowId: 'secret', history }], {
    libraries: [jobs.library],
    dataConverter: encryptingDataConverter(parseInlineKeyRing(`k9:${generateKey()}`, 'a wrong ring')),
  });
  expect(wrong).toMatchObject({ verdict: 'breaks', reasons: [expect.stringMatching(/^cannot decrypt: .*"k1"/)] });
  expect(wrong?.process).toBeUndefined();
  // The command without a key ring: refused in one line, naming what to set.
  const blind = await jipper(['check', '--deploy', '--json'], env(secret.taskQueue));
  expect(blind.code).toBe(1);
  expect(blind.stderr).toMatch(/^jipper: .*encrypted and no key ring is configured: set JIPPER_ENCRYPTION_KEYS.*\n$/);
});

test('bad input is one line each: an unreadable history, a query that matches nothing, a bundle that fails to load', async () => {
  const history = join(scratch, 'grouped.json');
  writeFileSync(history, historyToJson(await (handles[0] as WorkflowHandle).fetchHistory()));
  const garbage = join(scratch, 'garbage.json');
  writeFileSync(garbage, '{ not json');
  const broken = join(scratch, 'broken.js');
  writeFileSync(broken, 'this is not javascript (');
  const cases: [string[], RegExp][] = [
    [['--history', join(scratch, 'missing.json')], /^jipper: --history .*missing\.json: no such file or directory\n$/],
    [['--history', garbage], /^jipper: --history .*garbage\.json: not a history: .+\n$/],
    [
      ['--query', `WorkflowId = 'no-such-process'`],
      /^jipper: no open process matches the query: WorkflowId = 'no-such-process'\n$/,
    ],
    [['--history', history, '--bundle', broken], /^jipper: bundle .*broken\.js does not load: .+\n$/],
    [['--query', 'WorkflowId = '], /^jipper: --query WorkflowId = : .*invalid query.*\n$/i],
  ];
  for (const [args, line] of cases) {
    const result = await jipper(['check', '--deploy', ...args], env(plain.taskQueue));
    expect([args.join(' '), result.code]).toEqual([args.join(' '), 2]);
    expect(result.stderr).toMatch(line);
    expect(result.stdout).toBe('');
  }
}, 60_000);
