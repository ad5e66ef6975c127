/**
 * The testing kit's failure matrix inside child processes, on a real server: a definition whose middle step runs a
 * child process gets a case for each job failing, cancelled while it runs and its revert failing — the child's jobs
 * by path (`db/grant`) — each injected in the test worker inside the child workflow and checked against the
 * prediction (`simulateTree`). The jobs' own journal shows the faults reached the child; a wrong prediction fails.
 */
import { randomUUID } from 'node:crypto';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { MatrixCase, TestWorker } from '../../src/testing';
import { INJECTED_FAULT_TYPE, OutcomeMismatchError, failureMatrix, startTestWorker } from '../../src/testing';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { serverAddress } from '../support/worker';

const journal: JournalEntry[] = [];
const library = journalLibrary(journal, new Set());

type Step = ProcessDefinition['steps'][number];
const task = (id: string): Step => ({ id, job: 'task', args: { value: id } });
const database: ProcessDefinition = {
  name: 'database',
  steps: [task('create'), task('grant')],
};
const tenant: ProcessDefinition = {
  name: 'tenant',
  steps: [task('account'), { id: 'db', process: database } as unknown as Step, task('dns')],
};
const cases = failureMatrix(tenant, [library]);

/** What the jobs did under a case's process, its child's included, in order: `[kind, stepId]`. */
const ledger = (processId: string) =>
  journal
    .filter((e) => e.key.startsWith(`${processId}/`))
    .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
    .map((e) => `${e.kind} ${e.stepId}`);

let worker: TestWorker;
beforeAll(async () => {
  worker = await startTestWorker([library], { address: serverAddress(), name: 'children-matrix' });
});
afterAll(async () => {
  await worker?.shutdown();
});

test("the matrix has a case for each job inside the child, by path, predicted by the child's own unwind", () => {
  const jobs = ['account', 'db.create', 'db.grant', 'dns'];
  expect(cases.map((c) => c.id)).toEqual([
    ...jobs.map((j) => `fail-${j}`),
    ...jobs.map((j) => `cancel-${j}`),
    ...['account', 'db.create', 'db.grant'].map((j) => `revert-fail-${j}`),
  ]);
  expect(cases.find((c) => c.id === 'fail-db.grant')?.expected).toMatchObject({
    status: 'reverted',
    failedStep: 'db',
    revertOrder: [['db/create'], ['account']],
    jobs: { 'db/grant': { status: 'failed', errorType: INJECTED_FAULT_TYPE }, dns: { status: 'not_run' } },
  });
  expect(cases.find((c) => c.id === 'fail-dns')?.expected.revertOrder).toEqual([
    ['db/grant'],
    ['db/create'],
    ['account'],
  ]);
});

describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c: MatrixCase) => {
  it('ends as predicted', async () => {
    const run = await worker.runCase(c);
    expect(run.report.processId).toMatch(new RegExp(`^${c.id}-`));
  });
});

test('faults reach the jobs inside the child workflow: the journal shows the unwind the prediction names', async () => {
  const failGrant = cases.find((c) => c.id === 'fail-db.grant') as MatrixCase;
  const run = await worker.runCase(failGrant);
  // The injected fault stops grant before its code runs: only create ran in the child, and it alone is reverted there.
  expect(ledger(run.processId)).toEqual(['run account', 'run create', 'revert create', 'revert account']);
  const revertFail = cases.find((c) => c.id === 'revert-fail-db.create') as MatrixCase;
  const second = await worker.runCase(revertFail);
  expect(ledger(second.processId)).toEqual([
    'run account',
    'run create',
    'run grant',
    'revert grant',
    'revert account',
  ]);
});

test('a wrong prediction for a job inside a child fails the case', async () => {
  const c = cases.find((x) => x.id === 'fail-db.grant') as MatrixCase;
  const wrong: MatrixCase = { ...c, expected: { ...c.expected, revertOrder: [['account']] } };
  await expect(worker.runCase(wrong, { id: `wrong-${randomUUID()}` })).rejects.toThrow(OutcomeMismatchError);
});
