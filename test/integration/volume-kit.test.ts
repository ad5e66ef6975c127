/**
 * Jipper's own example library, tested the way a team tests theirs: with jipper/testing. Every run's effects in the
 * sandbox are checked against its report, and the failure matrix of two definitions — examples/provision-volume.yaml
 * (a parallel group, a job without a revert) and a variant with a pivot, parallel reverts, park mode and
 * `revertOnFailure` — runs one case per job failing, per cancel at each job, and per revert failing. A recorded
 * history replays, and a tampered one does not.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { MatrixCase, TestWorker } from '../../src/testing';
import {
  INJECTED_FAULT_TYPE,
  OutcomeMismatchError,
  ReplayMismatchError,
  expectEffects,
  expectReplays,
  failureMatrix,
  loadDefinitionFileSync,
  startTestWorker,
} from '../../src/testing';
import { historyToJson } from '../../src/worker/history-json';
import { serverAddress } from '../support/worker';
import { volumeProbes } from '../support/volume-effects';

const sandbox = mkdtempSync(join(tmpdir(), 'jipper-volume-kit-'));
const library = volumeLibrary({ root: sandbox });
const probes = volumeProbes(sandbox);
const listed = loadDefinitionFileSync('examples/provision-volume.yaml') as ProcessDefinition;

/** The same jobs with a pivot (the export), reverts all at once, park mode, and an allocation reverted if it fails. */
const pivoted: ProcessDefinition = {
  name: 'provision-volume-pivoted',
  params: { volume: 'vol-p', exportName: 'share-p' },
  options: { revertMode: 'parallel', onRevertFailure: 'park' },
  steps: [
    {
      id: 'allocate',
      job: 'allocate-volume',
      args: { volume: { $param: 'volume' }, sizeMb: 8 },
      revertOnFailure: true,
    },
    {
      id: 'prepare',
      parallel: [
        { id: 'filesystem', job: 'create-filesystem', args: { volume: { $from: 'allocate.volume' } } },
        { id: 'quota', job: 'set-quota', args: { volume: { $param: 'volume' }, limitMb: 4 } },
      ],
    },
    {
      id: 'export',
      job: 'export-volume',
      pivot: true,
      args: { volume: { $param: 'volume' }, exportName: { $param: 'exportName' } },
    },
    {
      id: 'register',
      job: 'register-volume',
      args: {
        volume: { $param: 'volume' },
        path: { $from: 'allocate.path' },
        exportName: { $from: 'export.exportName' },
      },
    },
  ],
};

const listedCases = failureMatrix(listed, [library]);
const pivotedCases = failureMatrix(pivoted, [library]);

/** Names of its own for each case's volume and export, so cases never meet in the sandbox. */
const paramsOf = (c: MatrixCase, prefix: string) => ({ volume: `${prefix}-${c.id}`, exportName: `${prefix}-${c.id}` });

let worker: TestWorker;
beforeAll(async () => {
  worker = await startTestWorker([library], { address: serverAddress(), name: 'volume-kit' });
});
afterAll(async () => {
  await worker?.shutdown();
  rmSync(sandbox, { recursive: true, force: true });
});

test('the matrices have a case per job failing, per cancel at each job, and per revert that can fail', () => {
  const ids = (cases: MatrixCase[]) => cases.map((c) => c.id);
  const jobs = ['allocate', 'filesystem', 'quota', 'audit', 'export', 'register'];
  expect(ids(listedCases)).toEqual([
    ...jobs.map((j) => `fail-${j}`),
    ...jobs.map((j) => `cancel-${j}`),
    // The audit line has no revert; nothing after register can fail, so its revert is never reached.
    ...['allocate', 'filesystem', 'quota', 'export'].map((j) => `revert-fail-${j}`),
  ]);
  const failExport = listedCases.find((c) => c.id === 'fail-export');
  expect(failExport?.expected.revertOrder.map((wave) => [...wave].sort())).toEqual([
    ['filesystem', 'quota'],
    ['allocate'],
  ]);
  expect(failExport?.expected).toMatchObject({
    status: 'reverted',
    failedStep: 'export',
    jobs: {
      audit: { status: 'skipped', revert: 'skipped' },
      export: { status: 'failed', errorType: INJECTED_FAULT_TYPE },
    },
  });
  // A cancel while a group runs cancels its other member too: neither is reverted, the allocation is.
  expect(listedCases.find((c) => c.id === 'cancel-quota')?.expected).toMatchObject({
    status: 'cancelled',
    alsoCancelled: ['filesystem'],
    revertOrder: [['allocate']],
    jobs: {
      filesystem: { status: 'failed', errorType: 'cancelled' },
      quota: { status: 'failed', errorType: 'cancelled' },
    },
  });
  // Past the pivot nothing is unwound; in park mode a failure there waits for a decision (the case retries).
  expect(pivotedCases.find((c) => c.id === 'cancel-register')?.expected).toMatchObject({
    status: 'cancelled',
    stoppedPastPivot: true,
    revertOrder: [],
  });
  expect(pivotedCases.find((c) => c.id === 'fail-register')?.expected).toMatchObject({
    status: 'succeeded',
    parkedAt: 'register',
  });
  // revertOnFailure: the failed allocation is reverted too.
  expect(pivotedCases.find((c) => c.id === 'fail-allocate')?.expected).toMatchObject({
    status: 'reverted',
    revertOrder: [['allocate']],
    jobs: { allocate: { status: 'failed', revert: 'reverted' } },
  });
  // The export is the pivot: a failure at it still unwinds, so it triggers the revert failures before it.
  expect(pivotedCases.filter((c) => c.scenario.kind === 'revert-fail').map((c) => c.scenario)).toEqual([
    { kind: 'revert-fail', stepId: 'allocate', trigger: 'export' },
    { kind: 'revert-fail', stepId: 'filesystem', trigger: 'export' },
    { kind: 'revert-fail', stepId: 'quota', trigger: 'export' },
  ]);
});

test('a run that succeeds leaves every effect; a domain failure unwinds them', async () => {
  const ok = await worker.run(listed, { params: { volume: 'kit-ok', exportName: 'kit-ok' } });
  expect(ok.report.status).toBe('succeeded');
  await expectEffects(ok, probes);
  const taken = await worker.run(listed, { params: { volume: 'kit-taken', exportName: 'kit-ok' } });
  expect(taken.report).toMatchObject({
    status: 'reverted',
    failedStep: 'export',
    error: { type: 'NameAlreadyExportedError' },
  });
  await expectEffects(taken, probes);
});

test('expectEffects fails a run whose effects disagree with its report', async () => {
  const ok = await worker.run(listed, { params: { volume: 'kit-lie', exportName: 'kit-lie' } });
  const lie = {
    ...ok,
    report: {
      ...ok.report,
      jobs: ok.report.jobs.map((j) => (j.stepId === 'quota' ? { ...j, status: 'reverted' as const } : j)),
    },
  };
  await expect(expectEffects(lie, probes)).rejects.toThrow(
    /step quota \(job set-quota\) was reverted, yet its effect is still there: its revert did not undo it/
  );
});

describe('failure matrix: examples/provision-volume.yaml', () => {
  test.each(listedCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await expectEffects(await worker.runCase(c, { params: paramsOf(c, 'l') }), probes);
  });
});

describe('failure matrix: a pivot, parallel reverts, park mode, revertOnFailure', () => {
  test.each(pivotedCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await expectEffects(await worker.runCase(c, { params: paramsOf(c, 'p') }), probes);
  });
});

test('a case whose report differs from the expectation fails with every difference', async () => {
  const c = listedCases.find((x) => x.id === 'fail-quota') as MatrixCase;
  const wrong: MatrixCase = { ...c, expected: { ...c.expected, revertOrder: [['allocate'], ['filesystem']] } };
  await expect(worker.runCase(wrong, { params: paramsOf(c, 'w') })).rejects.toThrow(OutcomeMismatchError);
});

test('a recorded history replays on the current code; a tampered one does not', async () => {
  const run = await worker.run(listed, { params: { volume: 'kit-hist', exportName: 'kit-ok' } });
  expect(run.report.status).toBe('reverted');
  const history = await worker.client.workflow.getHandle(run.processId).fetchHistory();
  const file = join(sandbox, `${run.processId}.json`);
  writeFileSync(file, historyToJson(history));
  await expectReplays(file);
  const tampered = join(sandbox, 'tampered.json');
  writeFileSync(
    tampered,
    readFileSync(file, 'utf8').replace(/"activityId": "quota\.run"/, '"activityId": "quota-renamed.run"')
  );
  await expect(expectReplays([file, tampered])).rejects.toThrow(ReplayMismatchError);
  await expect(expectReplays([file, tampered])).rejects.toThrow(
    /1 of 2 histories do not replay.*\n.*tampered\.json: determinism violation/
  );
});
