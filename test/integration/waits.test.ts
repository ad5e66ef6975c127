/**
 * Wait steps on a real server: approvals approved and rejected, waits that expire (each `onTimeout`), events by name
 * and `--to`, and the one-line refusals — through the client and the built `jipper` command. Effects are checked in
 * the job journal (what ran and what was reverted), not only in the report.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobRegistry as JobRegistryType } from '../../src/runtime/registry';
import { JobRegistry } from '../../src/runtime/registry';
import {
  OperatorActionRejectedError,
  approve,
  cancelProcess,
  decide,
  getReport,
  reject,
  reviseProcess,
  sendEvent,
  startProcess,
} from '../../src/client';
import { failureMatrix } from '../../src/testing/matrix';
import { startTestWorker as startKitWorker } from '../../src/testing/worker';
import type { ProcessReport } from '../../src/shared/report';
import { cliEnv, jipper, jipperExpect, requireBuiltCli } from '../support/cli';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitForReportWhere, waitUntil } from '../support/observe';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
let tw: TestWorker;
let env: NodeJS.ProcessEnv;
let registry: JobRegistryType;
let n = 0;

beforeAll(async () => {
  requireBuiltCli();
  const libraries = [journalLibrary(journal)];
  registry = new JobRegistry(libraries);
  tw = await startTestWorker(libraries, 'waits');
  env = cliEnv(tw.taskQueue, '/nonexistent', { JIPPER_IDENTITY: 'carol' });
});

afterAll(async () => {
  await tw?.shutdown();
});

const uid = (what: string) => `waits-${what}-${Date.now().toString(36)}-${(n += 1)}`;

/** `a` (a job), then the wait step, then `b` (a job that reads the wait's result). */
function around(id: string, wait: Record<string, unknown>, params: Record<string, unknown> = {}) {
  return {
    name: 'waits',
    params,
    steps: [
      { id: 'a', job: 'task', args: { value: id } },
      { id: 'gate', ...wait },
      { id: 'b', job: 'task', args: { value: { $from: 'gate' } } },
    ],
  };
}

const ran = (id: string, kind: JournalEntry['kind']) =>
  journal.filter((e) => e.kind === kind && e.key.startsWith(`${id}/`)).map((e) => e.stepId);

async function startWaiting(id: string, definition: object): Promise<ProcessReport> {
  await startProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry, id });
  // A wait is open (not a delayed start's `waiting`, which getReport may say for a run that has only just started).
  const open = (r: ProcessReport) => r.status === 'waiting' && r.jobs.some((j) => j.wait && j.status === 'running');
  return waitForReportWhere(tw.client, id, open, `${id} to wait`);
}

const ended = (id: string) =>
  waitForReportWhere(tw.client, id, (r) => !['running', 'waiting', 'unwinding'].includes(r.status), `${id} to end`);

test('an approval: a decider outside approvers is refused and nothing changes; an approver goes on', async () => {
  const id = uid('approve');
  const waiting = await startWaiting(
    id,
    around(id, { approve: { prompt: 'Charge the card?', approvers: ['alice', 'bob'], timeout: '1h' } })
  );
  const gate = waiting.jobs.find((j) => j.stepId === 'gate');
  expect(gate).toMatchObject({ status: 'running', wait: { kind: 'approve', prompt: 'Charge the card?' } });
  expect(gate?.wait?.settle).toContain(`jipper approve ${id} gate`);

  await expect(approve(tw.client, id, 'gate', { as: 'mallory' })).rejects.toThrow(
    new OperatorActionRejectedError(`"mallory" may not decide step "gate" of ${id}: its approvers are alice, bob`)
  );
  await expect(approve(tw.client, id, 'b', { as: 'alice' })).rejects.toThrow(/step "b" .* is not waiting/);
  expect((await getReport(tw.client, id)).status).toBe('waiting');
  expect(ran(id, 'run')).toEqual(['a']);

  await approve(tw.client, id, 'gate', { as: 'alice', reason: 'invoice checked' });
  const report = await ended(id);
  expect(report.status).toBe('succeeded');
  expect(ran(id, 'run')).toEqual(['a', 'b']);
  const bInput = journal.find((e) => e.kind === 'run' && e.key === `${id}/b`)?.input as { value: unknown };
  expect(bInput.value).toMatchObject({ approved: true, by: 'alice', reason: 'invoice checked' });
  expect(report.jobs.find((j) => j.stepId === 'gate')?.wait).toMatchObject({
    outcome: 'approved',
    by: 'alice',
    reason: 'invoice checked',
  });
}, 60_000);

test('jipper reject: the process unwinds (a reverted), b never runs; the report says who, when and why', async () => {
  const id = uid('reject');
  await startWaiting(id, around(id, { approve: { prompt: 'Ship it?', timeout: '1h' } }));
  const refused = await jipper(['approve', id, 'nope'], env);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  expect(refused.stderr).toContain('step "nope"');

  const status = (await jipperExpect(['status', id], env, 0)).stdout;
  expect(status).toContain('waiting for approval gate ("Ship it?"; until ');
  expect(status).toContain(`jipper approve ${id} gate`);
  await waitUntil(
    async () => (await jipperExpect(['list', '--status', 'waiting'], env, 0)).stdout.includes(id),
    `${id} in list --status waiting`
  );
  await jipperExpect(['reject', id, 'gate', '--reason', 'no budget'], env, 0);
  const report = await ended(id);
  expect(report.status).toBe('reverted');
  expect(report.error).toMatchObject({ type: 'rejected', class: 'business' });
  expect(ran(id, 'run')).toEqual(['a']);
  expect(ran(id, 'revert')).toEqual(['a']);
  const gate = report.jobs.find((j) => j.stepId === 'gate');
  expect(gate?.wait).toMatchObject({ outcome: 'rejected', by: 'carol', reason: 'no budget' });
  expect(gate?.wait?.at).toMatch(/Z$/);
  const shown = (await jipperExpect(['report', id], env, 0)).stdout;
  expect(shown).toContain('rejected by carol');
}, 60_000);

test('reject in the client: a rejection needs a reason; with one, the process unwinds', async () => {
  const id = uid('client-reject');
  await startWaiting(id, around(id, { approve: { prompt: 'Go?', approvers: ['dave'], timeout: '1h' } }));
  await expect(reject(tw.client, id, 'gate', { as: 'dave', reason: ' ' })).rejects.toThrow(
    'a rejection needs a reason'
  );
  expect((await getReport(tw.client, id)).status).toBe('waiting');
  await reject(tw.client, id, 'gate', { as: 'dave', reason: 'wrong customer' });
  const report = await ended(id);
  expect(report.status).toBe('reverted');
  expect(ran(id, 'revert')).toEqual(['a']);
  expect(report.jobs.find((j) => j.stepId === 'gate')?.wait).toMatchObject({ outcome: 'rejected', by: 'dave' });
}, 60_000);

test.each([
  ['revert', 'reverted', ['a'], ['a']],
  ['continue', 'succeeded', ['a', 'b'], []],
] as const)(
  'a wait that expires with onTimeout %s ends %s',
  async (onTimeout, status, runs, reverts) => {
    const id = uid(`timeout-${onTimeout}`);
    await startProcess(tw.client, around(id, { waitFor: { event: 'never.comes', timeout: '1s', onTimeout } }), {
      taskQueue: tw.taskQueue,
      registry,
      id,
    });
    const report = await ended(id);
    expect(report.status).toBe(status);
    expect(ran(id, 'run')).toEqual(runs);
    expect(ran(id, 'revert')).toEqual(reverts);
    expect(report.jobs.find((j) => j.stepId === 'gate')?.wait?.outcome).toBe('timed-out');
    if (onTimeout === 'revert') expect(report.error).toMatchObject({ class: 'timeout' });
    // A wait has no effect of its own: its expiry is not an "outcome unknown" (nothing to revert, nothing that may stand).
    expect(report.jobs.find((j) => j.stepId === 'gate')?.revert).toBeUndefined();
  },
  60_000
);

test('a wait that expires with onTimeout park parks; skip goes on without it', async () => {
  const id = uid('timeout-park');
  const definition = around(id, { approve: { prompt: 'ok?', timeout: '1s', onTimeout: 'park' } });
  // b does not read the skipped wait's result (a $from to it would not resolve, and the process would unwind).
  definition.steps[2] = { id: 'b', job: 'task', args: { value: id } };
  await startProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry, id });
  await waitForReportWhere(tw.client, id, (r) => r.status === 'parked', `${id} to park`);
  expect(ran(id, 'run')).toEqual(['a']);
  await decide(tw.client, id, 'gate', 'skip');
  const report = await ended(id);
  expect(report.status).toBe('succeeded');
  expect(ran(id, 'run')).toEqual(['a', 'b']);
}, 60_000);

test('events: by name, only to the process whose match holds; --to; the data reaches later steps by $from', async () => {
  const wait = { waitFor: { event: 'payment.settled', match: 'event.orderId == params.orderId', timeout: '1h' } };
  const first = uid('event-1');
  const second = uid('event-2');
  await startWaiting(first, around(first, wait, { orderId: `${first}-o` }));
  await startWaiting(second, around(second, wait, { orderId: `${second}-o` }));

  // Visibility is eventually consistent: the search attribute lists a waiting process shortly after it waits.
  let sent = await sendEvent(tw.client, 'payment.settled', { orderId: `${first}-o`, amount: 12 });
  for (let tries = 0; !sent.delivered.length && tries < 50; tries++) {
    await new Promise((r) => setTimeout(r, 200));
    sent = await sendEvent(tw.client, 'payment.settled', { orderId: `${first}-o`, amount: 12 });
  }
  expect(sent.delivered).toEqual([{ processId: first, stepId: 'gate' }]);
  expect((await ended(first)).status).toBe('succeeded');
  const bInput = journal.find((e) => e.kind === 'run' && e.key === `${first}/b`)?.input as { value: unknown };
  expect(bInput.value).toEqual({ orderId: `${first}-o`, amount: 12 });
  expect((await getReport(tw.client, second)).status).toBe('waiting');

  const wrong = await jipper(['send-event', 'payment.settled', '--data', '{"orderId":"x"}', '--to', second], env);
  expect(wrong.code).not.toBe(0);
  expect(wrong.stderr).toContain('does not match');
  const bad = await jipper(['send-event', 'payment.settled', '--data', '{oops', '--to', second], env);
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  expect((await getReport(tw.client, second)).status).toBe('waiting');

  await jipperExpect(
    ['send-event', 'payment.settled', '--data', JSON.stringify({ orderId: `${second}-o` }), '--to', second],
    env,
    0
  );
  expect((await ended(second)).status).toBe('succeeded');
  expect(ran(second, 'run')).toEqual(['a', 'b']);
}, 90_000);

test('a pause during a wait holds the next step; cancelling during a wait unwinds', async () => {
  const id = uid('pause-cancel');
  await startWaiting(id, around(id, { approve: { prompt: 'ok?', timeout: '1h' } }));
  await jipperExpect(['pause', id], env, 0);
  await approve(tw.client, id, 'gate');
  await waitForReportWhere(tw.client, id, (r) => r.status === 'paused', `${id} to be paused once the wait settled`);
  expect(ran(id, 'run')).toEqual(['a']);
  await jipperExpect(['resume', id], env, 0);
  expect((await ended(id)).status).toBe('succeeded');

  const other = uid('cancel');
  await startWaiting(other, around(other, { waitFor: { event: 'never.comes', timeout: '1h' } }));
  await cancelProcess(tw.client, other);
  const report = await ended(other);
  expect(report.status).toBe('cancelled');
  expect(ran(other, 'revert')).toEqual(['a']);
  expect(ran(other, 'run')).toEqual(['a']);
}, 60_000);

test("the process's deadline during a wait unwinds (a timeout)", async () => {
  const id = uid('deadline');
  const definition = { ...around(id, { approve: { prompt: 'ok?', timeout: '1h' } }), options: { deadline: '2s' } };
  await startProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry, id });
  const report = await ended(id);
  expect(report.status).toBe('reverted');
  expect(report.jobs.find((j) => j.stepId === 'gate')?.error).toMatchObject({ type: 'deadline', class: 'timeout' });
  expect(ran(id, 'revert')).toEqual(['a']);
}, 60_000);

test('a revision changes a wait not yet reached', async () => {
  const id = uid('revise');
  const definition = {
    name: 'waits',
    steps: [
      { id: 'a', job: 'task', args: { value: id, durationMs: 3000 } },
      { id: 'gate', approve: { prompt: 'ok?', timeout: '1h' } },
    ],
  };
  await startProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry, id });
  await waitForReportWhere(tw.client, id, (r) => r.jobs[0]?.status === 'running', `${id}: a to run`);
  const revised = structuredClone(definition) as { steps: Record<string, unknown>[] };
  revised.steps[1] = { id: 'gate', approve: { prompt: 'ok?', timeout: '1s', onTimeout: 'continue' } };
  await reviseProcess(tw.client, id, revised, { registry });
  const report = await ended(id);
  expect(report.status).toBe('succeeded');
  expect(report.jobs.find((j) => j.stepId === 'gate')).toMatchObject({ result: { timedOut: true } });
}, 60_000);

test("the testing kit's failure matrix runs a rejection and an expiry of a wait", async () => {
  const kitJournal: JournalEntry[] = [];
  const library = journalLibrary(kitJournal);
  const definition = {
    name: 'kit-waits',
    steps: [
      { id: 'a', job: 'task' },
      { id: 'gate', approve: { prompt: 'ok?', approvers: ['erin'], timeout: '1h', onTimeout: 'park' } },
      { id: 'paid', waitFor: { event: 'paid', timeout: '1h' } },
      { id: 'b', job: 'task' },
    ],
  };
  const cases = failureMatrix(definition, [library], { kinds: ['reject', 'timeout', 'fail'] });
  expect(cases.map((c) => c.id)).toEqual(['fail-a', 'fail-b', 'reject-gate', 'timeout-gate', 'timeout-paid']);
  const kit = await startKitWorker([library], { name: 'kit-waits' });
  try {
    for (const c of cases) await kit.runCase(c);
  } finally {
    await kit.shutdown();
  }
}, 240_000);

test('jipper validate refuses a match that does not parse in one line; jipper plan --timeout-at previews an expiry', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jipper-waits-'));
  try {
    const bad = join(dir, 'bad.json');
    const steps = [{ id: 'gate', waitFor: { event: 'e', match: 'event.a ==', timeout: '1h' } }];
    await writeFile(bad, JSON.stringify({ name: 'bad', steps }));
    const refused = await jipper(['validate', bad], env);
    expect(refused.code).toBe(2);
    expect(`${refused.stdout}${refused.stderr}`).toContain(
      'steps[0].waitFor.match: match does not parse: the expression ends too early'
    );
    const good = join(dir, 'good.json');
    const gated = [
      { id: 'first', approve: { prompt: 'go?', timeout: '1h' } },
      { id: 'gate', approve: { prompt: 'ok?', timeout: '1h', onTimeout: 'continue' } },
    ];
    await writeFile(good, JSON.stringify({ name: 'good', steps: gated }));
    const plan = (await jipperExpect(['plan', good, '--timeout-at', 'gate'], env, 0)).stdout;
    expect(plan).toContain('the wait gate expires');
    expect(plan).toMatch(/succeeded/);
    const notWait = await jipper(['plan', good, '--timeout-at', 'nope'], env);
    expect(notWait.code).toBe(2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 30_000);

test('continue-as-new before a wait: the wait not yet reached is carried, and opens in the new run', async () => {
  const id = uid('can');
  const jobs = Array.from({ length: 25 }, (_, i) => ({ id: `j${i}`, job: 'task', args: { value: i } }));
  const definition = {
    name: 'waits',
    options: { continueAsNewAfterEvents: 100 },
    steps: [...jobs, { id: 'gate', approve: { prompt: 'ok?', timeout: '1h' } }, { id: 'last', job: 'task' }],
  };
  await startWaiting(id, definition);
  await approve(tw.client, id, 'gate', { as: 'frank' });
  const report = await ended(id);
  expect(report.status).toBe('succeeded');
  expect(report.continuedAsNew).toBeGreaterThanOrEqual(1);
  expect(ran(id, 'run')).toEqual([...jobs.map((j) => j.id), 'last']);
}, 90_000);
