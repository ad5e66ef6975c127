/**
 * Timeouts and heartbeats: a job that hangs is timed out by its own timeout and then retried or failed as its retry
 * policy says; a job that stops heartbeating is detected after its heartbeat timeout, long before its start-to-close
 * timeout; a revert that hangs is timed out by the revert's own options. (Recovery from a worker crash within the
 * heartbeat timeout, with a real killed process, is in worker-crash.test.ts.)
 */
import type { ProcessDefinition, Step } from '../../src/schema/definition';
import type { ProcessReport } from '../../src/shared/report';
import { runProcess } from '../../src/client';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
let tw: TestWorker;

beforeAll(async () => {
  tw = await startTestWorker([journalLibrary(journal)], 'timeouts');
});
afterAll(async () => {
  await tw?.shutdown();
});

const runsOf = (report: ProcessReport, stepId: string, kind: JournalEntry['kind'] = 'run') =>
  journal.filter((e) => e.key.startsWith(`${report.processId}/`) && e.stepId === stepId && e.kind === kind);

async function timed(name: string, steps: Step[]): Promise<{ report: ProcessReport; ms: number }> {
  const started = Date.now();
  const definition: ProcessDefinition = { name, steps };
  const report = await runProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry: tw.registry });
  return { report, ms: Date.now() - started };
}

const first = { id: 'a', job: 'task', args: { value: 'a' } };
const fast = { initialInterval: '100ms', backoffCoefficient: 1 };

test.each([
  { maximumAttempts: 3, attempts: 3 },
  { maximumAttempts: 1, attempts: 1 },
])(
  'a hanging job is timed out by its timeout, tried $maximumAttempts time(s) as its policy says, then fails and unwinds',
  async ({ maximumAttempts, attempts }) => {
    const { report, ms } = await timed('hang', [
      first,
      {
        id: 'stuck',
        job: 'task',
        args: { outcome: 'hang' },
        timeout: '1s',
        heartbeatTimeout: '30s',
        retry: { maximumAttempts, ...fast },
      },
    ]);
    expect(report).toMatchObject({ status: 'reverted', failedStep: 'stuck', error: { type: 'timeout' } });
    expect(report.error?.message).toMatch(/start.to.close timeout/i);
    expect(report.jobs[1]).toMatchObject({ status: 'failed', attempts });
    expect(runsOf(report, 'stuck')).toHaveLength(attempts);
    expect(report.jobs[0]?.status).toBe('reverted');
    expect(ms).toBeGreaterThanOrEqual(attempts * 1_000);
    expect(ms).toBeLessThan(attempts * 1_000 + 10_000);
  }
);

test('a job that stops heartbeating is retried after its heartbeat timeout, not its start-to-close timeout', async () => {
  const { report, ms } = await timed('silent', [
    {
      id: 'silent',
      job: 'task',
      args: { outcome: 'hang' },
      timeout: '5m',
      heartbeatTimeout: '1s',
      retry: { maximumAttempts: 2, ...fast },
    },
  ]);
  expect(report).toMatchObject({ status: 'reverted', failedStep: 'silent', error: { type: 'timeout' } });
  expect(report.error?.message).toMatch(/heartbeat timeout/i);
  expect(runsOf(report, 'silent')).toHaveLength(2);
  expect(ms).toBeLessThan(15_000);
});

test('a job that heartbeats runs past its heartbeat timeout as long as it keeps heartbeating', async () => {
  const { report } = await timed('busy', [
    {
      id: 'busy',
      job: 'task',
      args: { durationMs: 3_000 },
      timeout: '1m',
      heartbeatTimeout: '1s',
      retry: { maximumAttempts: 1 },
    },
  ]);
  expect(report.status).toBe('succeeded');
  expect(report.jobs[0]?.attempts).toBe(1);
});

test('a timed-out job whose outcome is unknown is reverted itself when its step says revertOnFailure', async () => {
  const { report } = await timed('unknown-outcome', [
    first,
    {
      id: 'stuck',
      job: 'task',
      args: { outcome: 'hang' },
      timeout: '1s',
      retry: { maximumAttempts: 1 },
      revertOnFailure: true,
    },
  ]);
  expect(report.status).toBe('reverted');
  expect(report.revertOrder).toEqual(['stuck', 'a']);
  expect(runsOf(report, 'stuck', 'revert')).toEqual([expect.objectContaining({ afterFailure: true })]);
});

test('a revert that hangs is timed out by the revert options and retried, then the process ends revert_failed', async () => {
  const { report } = await timed('revert-hangs', [
    {
      id: 'a',
      job: 'task',
      args: { revertDurationMs: 60_000 },
      revert: { timeout: '1s', retry: { maximumAttempts: 2, ...fast } },
    },
    { id: 'b', job: 'task', args: { outcome: 'fail-nonretryable' } },
  ]);
  expect(report).toMatchObject({ status: 'revert_failed', needsAttention: ['a'] });
  expect(report.jobs[0]?.revert).toMatchObject({ status: 'revert_failed', attempts: 2, error: { type: 'timeout' } });
  expect(runsOf(report, 'a', 'revert')).toHaveLength(2);
});
