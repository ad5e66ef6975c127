/**
 * A parent in park mode whose child's unwind leaves a revert failed parks at the child step; an operator's `retry`
 * runs the child's unwind again, on a real server. The unwind reverts only what the first one left standing: a job it
 * reverted already is not reverted again (before the fix, the retried unwind tried to, and its workflow task failed
 * for ever: "cannot revert-start while reverted").
 */
import { randomUUID } from 'node:crypto';
import { decide, getReport, startProcess, waitForReport } from '../../src/client';
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
  tw = await startTestWorker([journalLibrary(journal, blocked)], 'children-revert-retry');
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

test("a retried child unwind reverts only what the first left standing; the parent's unwind then ends", async () => {
  const id = `kid-retry-${randomUUID()}`;
  blocked.add('db-grant/revert');
  try {
    const handle = await startProcess(
      tw.client,
      {
        name: 'tenant',
        options: { onRevertFailure: 'park' },
        steps: [
          task('account'),
          { id: 'db', process: { name: 'database', steps: [task('db-create'), task('db-grant')] } } as unknown as Step,
          task('dns', { outcome: 'fail-nonretryable' }),
        ],
      },
      { taskQueue: tw.taskQueue, registry: tw.registry, id }
    );
    const parked = await waitUntil(async () => {
      const report = await getReport(tw.client, id);
      return report.status === 'parked' && report.needsAttention.includes('db') ? report : undefined;
    }, 'the parent to park at db');
    expect(parked.jobs.find((j) => j.stepId === 'db')?.revert?.status).toBe('parked');
    blocked.delete('db-grant/revert');
    await decide(tw.client, id, 'db', 'retry');
    const report = await waitForReport(handle);
    expect(report.status).toBe('reverted');
    expect(report.jobs.find((j) => j.stepId === 'db')?.status).toBe('reverted');
    // db-create was reverted by the first unwind (the child goes on past a failed revert), once; db-grant (tried and
    // failed before the park) by the retry, then the parent's account.
    const reverts = journal.filter((e) => e.key.startsWith(`${id}/`) && e.kind === 'revert').map((e) => e.stepId);
    expect(reverts.filter((s) => s === 'db-create')).toHaveLength(1);
    expect(reverts.slice(-2)).toEqual(['db-grant', 'account']);
  } finally {
    blocked.delete('db-grant/revert');
  }
});
