/**
 * A revision (`jipper revise`, `reviseProcess`) that adds a child-process step to a running process, on a real server:
 * the child runs as a child workflow where the revision put it, its outputs feed the steps after it, and a later
 * failure unwinds it in its place, newest first — as the jobs' own journal shows.
 */
import { randomUUID } from 'node:crypto';
import { reviseProcess, startProcess, waitForReport } from '../../src/client';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitUntil } from '../support/observe';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
const blocked = new Set<string>();
let tw: TestWorker;

beforeAll(async () => {
  tw = await startTestWorker([journalLibrary(journal, blocked)], 'children-revise');
});
afterAll(async () => {
  await tw?.shutdown();
});

type Step = ProcessDefinition['steps'][number];
const task = (id: string, args: Record<string, unknown> = {}): Step => ({
  id,
  job: 'task',
  args: { value: id, ...args },
});
const database: ProcessDefinition = {
  name: 'database',
  params: { owner: 'nobody' },
  outputs: { url: { $from: 'db-create.value' } },
  steps: [task('db-create', { value: { $param: 'owner' } }), task('db-grant')],
};
const withChild = (last: Step): ProcessDefinition => ({
  name: 'tenant',
  steps: [task('account'), { id: 'db', process: database, params: { owner: 'acme' } } as unknown as Step, last],
});
const ledger = (id: string, kind: JournalEntry['kind']) =>
  journal
    .filter((e) => e.key.startsWith(`${id}/`) && e.kind === kind)
    .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
    .map((e) => e.stepId);

/** Starts `tenant` without the child, holding `account` until the revision is in. */
async function startHeld(last: Step): Promise<string> {
  const id = `revise-kid-${randomUUID()}`;
  blocked.add('account/hold');
  await startProcess(
    tw.client,
    { name: 'tenant', steps: [task('account'), last] },
    {
      taskQueue: tw.taskQueue,
      registry: tw.registry,
      id,
    }
  );
  await waitUntil(
    async () => journal.some((e) => e.key.startsWith(`${id}/`) && e.stepId === 'account'),
    'account runs'
  );
  return id;
}

afterEach(() => blocked.delete('account/hold'));

test('a revision adds a child step: the child runs in its place and its output feeds the next step', async () => {
  const id = await startHeld(task('dns'));
  const last = task('dns', { value: { $from: 'db.url' } });
  const revised = await reviseProcess(tw.client, id, withChild(last), { registry: tw.registry });
  expect(revised.added).toEqual(['db']);
  blocked.delete('account/hold');
  const report = await waitForReport(tw.client.workflow.getHandle(id));
  expect(report.status).toBe('succeeded');
  expect(ledger(id, 'run')).toEqual(['account', 'db-create', 'db-grant', 'dns']);
  expect(journal.find((e) => e.key.startsWith(`${id}/`) && e.stepId === 'dns')?.input).toMatchObject({ value: 'acme' });
  const row = report.jobs.find((j) => j.stepId === 'db');
  expect(row).toMatchObject({ job: 'process:database', status: 'succeeded', child: { processId: `${id}/db` } });
});

test('a child added by a revision is unwound in its place when a later step fails', async () => {
  const failing = task('dns', { outcome: 'fail-nonretryable' });
  const id = await startHeld(failing);
  await reviseProcess(tw.client, id, withChild(failing), { registry: tw.registry });
  blocked.delete('account/hold');
  const report = await waitForReport(tw.client.workflow.getHandle(id));
  expect(report.status).toBe('reverted');
  expect(report.revertOrder).toEqual(['db', 'account']);
  expect(ledger(id, 'revert')).toEqual(['db-grant', 'db-create', 'account']);
});
