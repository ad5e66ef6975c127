/**
 * Two operator commands through the built `jipper` against the real server (issue 12): `jipper revise` changes the
 * steps a running process has not started — checked against the job libraries with the run's own parameters, refused
 * whole by the process when a started step would change — and `jipper tokens` shows who holds a resource token and who
 * waits for it. Each test checks the effects too: the sandbox the volume jobs write, the journal of the test jobs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectSandbox, volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import { getReport, startProcess } from '../../src/client';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { ProcessReport } from '../../src/shared/report';
import type { TokensView } from '../../src/workflows/messages';
import type { CliResult } from '../support/cli';
import { cliEnv, jipper, jipperExpect, requireBuiltCli } from '../support/cli';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitUntil } from '../support/observe';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
let sandbox: string;
let files: string;
let tw: TestWorker;
let env: NodeJS.ProcessEnv;
let registry: JobRegistry;

beforeAll(async () => {
  requireBuiltCli();
  sandbox = mkdtempSync(join(tmpdir(), 'jipper-revise-sandbox-'));
  files = mkdtempSync(join(tmpdir(), 'jipper-revise-files-'));
  const libraries = [volumeLibrary({ root: sandbox }), journalLibrary(journal)];
  registry = new JobRegistry(libraries);
  tw = await startTestWorker(libraries, 'revise-tokens');
  env = cliEnv(tw.taskQueue, sandbox);
});

afterAll(async () => {
  await tw?.shutdown();
  for (const dir of [sandbox, files]) if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[]) => jipper(args, env);
const expectExit = (args: string[], code: number) => jipperExpect(args, env, code);
const uniqueId = (name: string) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
const reportOf = (id: string) => getReport(tw.client, id);
const anyString: unknown = expect.any(String);

function file(name: string, text: string): string {
  const path = join(files, name);
  writeFileSync(path, text);
  return path;
}

function expectLines(result: CliResult, code: number, stderr: string[]): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' });
  expect(result.stderr).toBe(stderr.map((line) => `jipper: ${line}\n`).join(''));
}

/** allocate zero-fills for ~4 s; audit logs the run's `note` (a parameter only --set gives); filesystem lays it out. */
const original = `name: revise-me
params:
  volume: rv-0
steps:
  - id: allocate
    job: allocate-volume
    args:
      volume: { $param: volume }
      sizeMb: 8
      zeroFill: true
      ioLimitMbPerSec: 2
  - id: audit
    job: record-audit-event
    args: { volume: { $param: volume }, message: { $param: note } }
  - id: filesystem
    job: create-filesystem
    args: { volume: { $from: allocate.volume } }
`;

/**
 * The revision: allocate as it is (its keys written in another order), audit with a message of its own (the run's
 * `note` is no longer used: no typo for that), filesystem replaced by a quota.
 */
const revised = `name: revise-me
params:
  volume: rv-0
steps:
  - job: allocate-volume
    id: allocate
    args:
      ioLimitMbPerSec: 2
      zeroFill: true
      sizeMb: 8
      volume: { $param: volume }
  - id: audit
    job: record-audit-event
    args: { volume: { $param: volume }, message: 'allocated, then revised' }
  - id: quota
    job: set-quota
    args: { volume: { $from: allocate.volume }, limitMb: 4 }
`;

test('revise: the steps not yet started change, a started one may not; the effects follow the revision', async () => {
  const id = uniqueId('rv');
  const volume = `rv-${Math.floor(Math.random() * 1e6)}`;
  const path = file('original.yaml', original);
  await expectExit(['start', path, '--id', id, '--set', `volume=${volume}`, '--set', 'note=allocated'], 0);
  await waitUntil(async () => (await reportOf(id)).jobs[0]?.status === 'running', 'allocate to run');
  // Paused once allocate settles, so nothing else starts while the revisions come (whatever the timing).
  await expectExit(['pause', id, '--reason', 'revising'], 0);
  await waitUntil(async () => (await reportOf(id)).status === 'paused', 'the process to pause');

  // A revision that changes the step that ran is refused whole, with the process's reason; nothing changes.
  const changesAllocate = file('changes-allocate.yaml', revised.replace('sizeMb: 8', 'sizeMb: 16'));
  expectLines(await run(['revise', id, changesAllocate]), 2, [
    `${id} refused the revision: steps: step "allocate" has started: it must stay as it is`,
  ]);
  expect((await reportOf(id)).revisions).toBeUndefined();

  // Checked before it is sent, like start: a typo, and what a revision cannot change.
  const typo = file('typo.yaml', revised.replace('job: set-quota', 'job: set-qouta'));
  expectLines(await run(['revise', id, typo]), 2, [
    `${typo}:16:10: steps[2].job: unknown job "set-qouta" (did you mean "set-quota"?); known jobs: allocate-volume, create-filesystem, export-volume, http-request, record-audit-event, register-volume, send-email, set-quota`,
  ]);
  const options = file('options.yaml', revised.replace('steps:', 'options: { revertMode: parallel }\nsteps:'));
  expectLines(await run(['revise', id, options]), 2, [
    `${options}:4:10: options: a revision changes only the steps: ${id} keeps the options it was started with; put them back as they were, or start a new run`,
  ]);
  expectLines(await run(['revise', id, path, '--set', 'volume=other']), 2, [
    '--set: a revision keeps the parameters the process was started with; to run with others, start a new run',
  ]);
  expect((await reportOf(id)).revisions).toBeUndefined();

  const accepted = await expectExit(['revise', id, file('revised.yaml', revised), '--reason', 'a quota instead'], 0);
  expect(accepted.stdout).toBe(
    [
      `${id} revised (a quota instead): 1 step added, 1 step removed, 1 step changed (jipper watch ${id})`,
      '  added    quota (set-quota)',
      '  removed  filesystem (create-filesystem)',
      '  changed  audit: args',
      '',
    ].join('\n')
  );
  // The process now runs the revised steps: the same file again changes nothing (and is not sent).
  const again: unknown = JSON.parse(
    (await expectExit(['revise', id, join(files, 'revised.yaml'), '--json'], 0)).stdout
  );
  expect(again).toEqual({ id, revised: false, added: [], removed: [], changed: [] });
  const report = await reportOf(id);
  expect(report.revisions).toEqual([
    { at: anyString, reason: 'a quota instead', added: ['quota'], removed: ['filesystem'] },
  ]);
  expect(report.jobs.map((j) => j.stepId)).toEqual(['allocate', 'audit', 'quota']);
  expect((await expectExit(['report', id], 0)).stdout).toContain(
    `revised at ${report.revisions?.[0]?.at} (a quota instead): added quota; removed filesystem`
  );

  await expectExit(['resume', id], 0);
  const final: unknown = JSON.parse(
    (await expectExit(['watch', id, '--json'], 0)).stdout.trim().split('\n').at(-1) as string
  );
  expect((final as ProcessReport).status).toBe('succeeded');
  // The effects: a quota and no filesystem for the volume; the audit log has the revised message.
  const effects = await inspectSandbox(sandbox);
  expect(effects.quotas).toContain(volume);
  expect(effects.mounts).not.toContain(volume);
  expect(effects.audit.filter((line) => line.includes(`${id}/audit`))).toEqual([
    expect.stringMatching(new RegExp(`${volume}: allocated, then revised$`)),
  ]);

  expectLines(await run(['revise', id, join(files, 'revised.yaml')]), 2, [
    `${id} has already ended (succeeded); nothing to revise`,
  ]);
  expectLines(await run(['revise', 'no-such-process', path]), 2, ['no process with id "no-such-process"']);
}, 120_000);

/** Twenty audit events (enough for a continue-as-new every 100 events), then the slow allocate, then one more event. */
const continued = (steps: string) => `name: revise-continued
params:
  volume: rc-0
options:
  continueAsNewAfterEvents: 100
steps:
${Array.from({ length: 20 }, (_, i) => `  - { id: e${i}, job: record-audit-event, args: { volume: { $param: volume }, message: event ${i} } }`).join('\n')}
  - id: allocate
    job: allocate-volume
    args: { volume: { $param: volume }, sizeMb: 8, zeroFill: true, ioLimitMbPerSec: 2 }
${steps}`;

test('revise a process that has continued as new: its parameters and earlier results still hold', async () => {
  const id = uniqueId('rc');
  const volume = `rc-${Math.floor(Math.random() * 1e6)}`;
  const path = file(
    'continued.yaml',
    continued(
      '  - { id: last, job: record-audit-event, args: { volume: { $param: volume }, message: { $param: note } } }'
    )
  );
  await expectExit(['start', path, '--id', id, '--set', `volume=${volume}`, '--set', 'note=as started'], 0);
  const handle = tw.client.workflow.getHandle(id);
  await waitUntil(
    async () => (await reportOf(id)).jobs.find((j) => j.stepId === 'allocate')?.status === 'running',
    'allocate to run'
  );
  await expectExit(['pause', id, '--reason', 'revising'], 0);
  await waitUntil(async () => (await reportOf(id)).status === 'paused', 'the process to pause');
  // The run being revised is not the first of its chain: the twenty events made it continue as new.
  const described = await handle.describe();
  expect(described.raw.workflowExecutionInfo?.firstRunId).toEqual(expect.any(String));
  expect(described.runId).not.toBe(described.raw.workflowExecutionInfo?.firstRunId);

  // The new steps use the run's parameter (only --set gave it) and the result of allocate (in this run's carried state).
  const revisedPath = file(
    'continued-revised.yaml',
    continued(`  - id: quota
    job: set-quota
    args: { volume: { $from: allocate.volume }, limitMb: 4 }
  - { id: final, job: record-audit-event, args: { volume: { $from: allocate.volume }, message: { $param: note } } }`)
  );
  const accepted = await expectExit(['revise', id, revisedPath, '--json'], 0);
  expect(JSON.parse(accepted.stdout)).toMatchObject({
    id,
    revised: true,
    added: ['quota', 'final'],
    removed: ['last'],
  });
  await expectExit(['resume', id], 0);
  const final = JSON.parse(
    (await expectExit(['watch', id, '--json'], 0)).stdout.trim().split('\n').at(-1) as string
  ) as ProcessReport;
  expect(final.status).toBe('succeeded');
  expect(final.jobs.map((j) => j.stepId).slice(-3)).toEqual(['allocate', 'quota', 'final']);
  expect(final.revisions).toEqual([{ at: anyString, added: ['quota', 'final'], removed: ['last'] }]);
  // The effects: every event once, the revised step's with the run's note; a quota; nothing of the removed step.
  const effects = await inspectSandbox(sandbox);
  expect(effects.quotas).toContain(volume);
  const ours = effects.audit.filter((line) => line.includes(` ${id}/`));
  expect(ours).toHaveLength(21);
  expect(ours.filter((line) => line.includes(`${id}/final `))).toEqual([
    expect.stringMatching(new RegExp(`${volume}: as started$`)),
  ]);
  expect(ours.some((line) => line.includes(`${id}/last `))).toBe(false);
}, 180_000);

/** A journal task holding `token` for a long while (cancellable: it heartbeats). */
const holding = (token: string): ProcessDefinition => ({
  name: 'token-holder',
  steps: [{ id: 'hold', job: 'task', args: { durationMs: 120_000 }, tokens: [token], timeout: '5m' }],
});
const wanting = (token: string): ProcessDefinition => ({
  name: 'token-waiter',
  steps: [
    { id: 'first', job: 'task' },
    { id: 'wants', job: 'task', tokens: [token], waitFor: '5m' },
  ],
});

test('tokens: who holds a token and who waits for it, as a table and as JSON; then the waiter gets it', async () => {
  const token = `lock/${uniqueId('t')}`;
  const [holder, waiter] = [uniqueId('holder'), uniqueId('waiter')];
  const tokensJson = async (...args: string[]) =>
    JSON.parse((await expectExit(['tokens', ...args, '--json'], 0)).stdout) as TokensView & { taskQueue: string };
  const ours = async () => (await tokensJson()).tokens.find((t) => t.name === token);

  await startProcess(tw.client, holding(token), { taskQueue: tw.taskQueue, registry, id: holder });
  await waitUntil(async () => (await ours())?.holders.length === 1, 'the holder to hold the token');
  await startProcess(tw.client, wanting(token), { taskQueue: tw.taskQueue, registry, id: waiter });
  await waitUntil(async () => (await ours())?.waiters.length === 1, 'the waiter to wait');

  const view = await tokensJson(token);
  expect(view.taskQueue).toBe(tw.taskQueue);
  expect(view.tokens).toEqual([
    {
      name: token,
      capacity: 1,
      used: 1,
      holders: [{ processId: holder, requestId: `${holder}/hold`, count: 1, since: anyString }],
      waiters: [{ processId: waiter, requestId: `${waiter}/wants`, count: 1, since: anyString, priority: 3 }],
    },
  ]);
  // The effects: the holder's job runs; the waiter's first job ran, the one that wants the token has not.
  const runs = (id: string) =>
    journal.filter((e) => e.kind === 'run' && e.key.startsWith(`${id}/`)).map((e) => e.stepId);
  expect(runs(holder)).toEqual(['hold']);
  expect(runs(waiter)).toEqual(['first']);

  const table = (await expectExit(['tokens', token], 0)).stdout;
  expect(table).toMatch(/^task queue \S+: 1 token in use, 1 request waiting\n┌/);
  expect(table).toMatch(new RegExp(`│ ${token} +│ 1/1 +│ ${holder} +│ hold +│ 1 +│ holds it · [\\d.]+m?s +│`));
  expect(table).toMatch(new RegExp(`│ +│ +│ ${waiter} +│ wants +│ 1 +│ waits #1 · [\\d.]+m?s +│`));
  expect((await expectExit(['tokens', 'lock/nobody-has-it'], 0)).stdout).toBe(
    `lock/nobody-has-it: free — nobody holds it or waits for it on task queue ${tw.taskQueue}\n`
  );
  expectLines(await run(['tokens', 'bad\nname']), 2, [
    "command-argument value 'bad name' is invalid for argument 'name'. a token name has no control characters",
  ]);

  // The holder is cancelled: its tokens come back once it has unwound, and the waiter gets the token and goes on.
  await expectExit(['cancel', holder, '--wait'], 0);
  await waitUntil(async () => (await reportOf(waiter)).status === 'succeeded', 'the waiter to succeed');
  expect(runs(waiter)).toEqual(['first', 'wants']);
  const hold = journal.find((e) => e.kind === 'run' && e.key === `${holder}/hold`);
  const wants = journal.find((e) => e.kind === 'run' && e.key === `${waiter}/wants`);
  expect(hold?.end).toBeDefined();
  expect(wants?.at).toBeGreaterThanOrEqual(hold?.end ?? Infinity);
  await waitUntil(async () => (await ours()) === undefined, 'the token to be free');
  expect((await tokensJson(token)).tokens).toEqual([]);
}, 120_000);
