/**
 * `jipper report --coverage`: processes that ended partly compensated, from visibility and memos only, grouped by
 * process name and step — a revert that failed (`revert_failed`), reverts an operator settled by `skip` and
 * `mark-reverted` after the process parked, a revert skipped (a job with none), effects past the pivot
 * (`not-unwound`) — and a fully unwound process is not there. Real server; each process named for this run.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decide, getReport, startProcess, waitForReport } from '../../src/client';
import type { CompensationReport } from '../../src/client/compensation-report';
import { compensationReport } from '../../src/client/compensation-report';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { TestWorker } from '../../src/testing/worker';
import { startTestWorker } from '../../src/testing/worker';
import { cliEnv, jipper, requireBuiltCli } from '../support/cli';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitUntil } from '../support/observe';
import { serverAddress } from '../support/worker';
import { encryptingDataConverter } from '../../src/codec/data-converter';
import { generateKey, parseInlineKeyRing } from '../../src/codec/keyring';

const stamp = randomUUID().slice(0, 8);
const journal: JournalEntry[] = [];
let worker: TestWorker;
let secret: TestWorker;
const RING = `k1:${generateKey()}`;
let scratch: string;
const started = new Date();

const failing = { id: 'boom', job: 'task', args: { outcome: 'fail-nonretryable' } };
const definitions: Record<string, ProcessDefinition> = {
  broken: {
    name: `cov-broken-${stamp}`,
    steps: [{ id: 'a', job: 'task' }, { id: 'b', job: 'task', args: { revertOutcome: 'fail' } }, failing],
  },
  oneway: { name: `cov-oneway-${stamp}`, steps: [{ id: 'o', job: 'one-way' }, failing] },
  pivot: { name: `cov-pivot-${stamp}`, steps: [{ id: 'p', job: 'task', pivot: true }, failing] },
  clean: { name: `cov-clean-${stamp}`, steps: [{ id: 'a', job: 'task' }, failing] },
};
const parked: ProcessDefinition = {
  name: `cov-parked-${stamp}`,
  options: { onRevertFailure: 'park' },
  steps: [
    { id: 'a', job: 'task', args: { revertOutcome: 'fail' } },
    { id: 'm', job: 'task', args: { revertOutcome: 'fail' } },
    failing,
  ],
};

/** Waits for the process to park on `stepId`'s revert, then decides. */
async function settle(processId: string, stepId: string, decision: 'skip' | 'mark-reverted'): Promise<void> {
  await waitUntil(async () => {
    const report = await getReport(worker.client, processId);
    return report.status === 'parked' && report.needsAttention.includes(stepId);
  }, `${processId} to park on ${stepId}`);
  await decide(worker.client, processId, stepId, decision);
}

beforeAll(async () => {
  requireBuiltCli();
  scratch = mkdtempSync(join(tmpdir(), 'jipper-report-coverage-'));
  worker = await startTestWorker([journalLibrary(journal)], { address: serverAddress(), name: 'report-coverage' });
  secret = await startTestWorker([journalLibrary(journal)], {
    address: serverAddress(),
    name: 'report-coverage-secret',
    dataConverter: encryptingDataConverter(parseInlineKeyRing(RING, 'the test key ring')),
  });
  const runs = Object.values(definitions).map((d) => worker.run(d));
  const encrypted = secret.run({ ...definitions.oneway, name: `cov-secret-${stamp}` });
  const handle = await startProcess(worker.client, parked, { taskQueue: worker.taskQueue, registry: worker.registry });
  await settle(handle.workflowId, 'm', 'skip');
  await settle(handle.workflowId, 'a', 'mark-reverted');
  expect((await waitForReport(handle)).status).toBe('reverted');
  expect((await encrypted).report.status).toBe('reverted');
  expect((await Promise.all(runs)).map((r) => r.report.status)).toEqual([
    'revert_failed',
    'reverted',
    'failed',
    'reverted',
  ]);
}, 90_000);

afterAll(async () => {
  await worker?.shutdown();
  await secret?.shutdown();
  rmSync(scratch, { recursive: true, force: true });
});

/** This run's rows: `process step job how×n...`. */
function rowsOf(report: CompensationReport): string[] {
  return report.rows
    .filter((row) => row.process.endsWith(stamp))
    .map(
      (row) =>
        `${row.process.replace(`-${stamp}`, '')} ${row.stepId} ${row.job} ${Object.entries(row.counts)
          .map(([how, n]) => `${how}×${n}`)
          .join(',')}`
    );
}

const expected = [
  'cov-broken b task revert_failed×1',
  'cov-oneway o one-way skipped×1',
  'cov-parked a task mark-reverted×1',
  'cov-parked m task skip×1',
  'cov-pivot p task not-unwound×1',
];

test('the processes that ended partly compensated, by process and step, from visibility and memos', async () => {
  // Visibility catches up with the memos shortly after the runs end.
  let seen: unknown;
  await waitUntil(
    async () => {
      const r = await compensationReport(worker.client, started);
      seen = { ...r, rows: rowsOf(r) };
      return rowsOf(r).length === expected.length;
    },
    'visibility to list the ended runs',
    20_000
  ).catch((e: Error) => {
    throw new Error(`${e.message}: ${JSON.stringify(seen)}`);
  });
  const env = cliEnv(worker.taskQueue, scratch);
  const json = await jipper(['report', '--coverage', '--json'], env);
  expect(json.stderr).toBe('');
  expect(json.code).toBe(0);
  expect(rowsOf(JSON.parse(json.stdout) as CompensationReport)).toEqual(expected);

  // With the key ring the encrypted run's memo is read; without it, it is counted as not readable.
  const keyed = await jipper(['report', '--coverage', '--json'], { ...env, JIPPER_ENCRYPTION_KEYS: RING });
  expect(rowsOf(JSON.parse(keyed.stdout) as CompensationReport)).toEqual(
    [...expected, 'cov-secret o one-way skipped×1'].sort()
  );

  const table = await jipper(['report', '--coverage', '--since', '1h'], env);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(
    /processes ended in the last 1h; \d+ partly compensated \(\d+ not readable without their encryption key\)/
  );
  expect(table.stdout).toContain(`cov-parked-${stamp}`);
  expect(table.stdout).not.toContain(`cov-clean-${stamp}`);
});

test('bad input is one line each', async () => {
  const env = cliEnv(worker.taskQueue, scratch);
  const cases: [string[], string][] = [
    [['report', '--coverage', '--since', 'a week'], '--since'],
    [['report', '--coverage', 'some-id'], '--coverage covers every process: name no id'],
    [['report', '--since', '7d'], '--since goes with --coverage'],
    [['report'], "missing required argument 'id' (or --coverage, for every process)"],
  ];
  for (const [args, words] of cases) {
    const result = await jipper(args, env);
    expect([args.join(' '), result.code]).toEqual([args.join(' '), 2]);
    expect(result.stderr).toMatch(/^jipper: .+\n$/);
    expect(result.stderr).toContain(words);
  }
});
