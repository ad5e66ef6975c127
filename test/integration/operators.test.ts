/**
 * The operator's side of a run, through the built `jipper` command against the real server (issue 12): every outcome
 * told truly — a run Temporal terminated or timed out, a process parked on a failed revert, a paused one — and
 * following a run from any terminal (`watch`, `--json` streams), pausing and resuming it, and detaching with Ctrl-C.
 * Each test checks the effects too: which jobs and reverts actually ran (the journal), not only what the command says.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectSandbox, volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import { getReport, startProcess } from '../../src/client';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { ProcessReport } from '../../src/shared/report';
import type { CliResult } from '../support/cli';
import { CLI_PATH, jipper, jipperExpect, requireBuiltCli, cliEnv } from '../support/cli';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitUntil } from '../support/observe';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
const blocked = new Set<string>();
let sandbox: string;
let tw: TestWorker;
let env: NodeJS.ProcessEnv;
let registry: JobRegistry;

beforeAll(async () => {
  requireBuiltCli();
  sandbox = mkdtempSync(join(tmpdir(), 'jipper-operators-'));
  const libraries = [volumeLibrary({ root: sandbox }), journalLibrary(journal, blocked)];
  registry = new JobRegistry(libraries);
  tw = await startTestWorker(libraries, 'operators');
  env = cliEnv(tw.taskQueue, sandbox);
});

afterAll(async () => {
  await tw?.shutdown();
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

const run = (args: string[]) => jipper(args, env);
const expectExit = (args: string[], code: number) => jipperExpect(args, env, code);
const uniqueId = (name: string) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

function expectOneLineError(result: CliResult, code: number, text: string): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' });
  expect(result.stderr).toMatch(/^jipper: [^\n]+\n$/);
  expect(result.stderr).toContain(text);
}

/** Starts a definition of journal jobs as the client does (checked against the libraries). */
async function start(definition: ProcessDefinition, id: string, taskQueue = tw.taskQueue): Promise<void> {
  await startProcess(tw.client, definition, { taskQueue, registry, id });
}

const reportOf = async (id: string) =>
  JSON.parse((await expectExit(['report', id, '--json'], 0)).stdout) as ProcessReport;
const ran = (id: string, kind: 'run' | 'revert') =>
  [...new Set(journal.filter((e) => e.kind === kind && e.key.startsWith(`${id}/`)).map((e) => e.stepId))].sort();
const jobStatus = async (id: string, stepId: string) =>
  (await getReport(tw.client, id)).jobs.find((j) => j.stepId === stepId)?.status;

/** a succeeds; b runs for a minute (heartbeating); c waits for it. */
const longB = (name: string): ProcessDefinition => ({
  name,
  steps: [
    { id: 'a', job: 'task' },
    { id: 'b', job: 'task', args: { durationMs: 60_000 } },
    { id: 'c', job: 'task' },
  ],
});

describe('a run Temporal ended is told as such, with the report it had', () => {
  test('terminated: list, status and report say terminated; the jobs as the run last knew them; nothing unwound', async () => {
    const id = uniqueId('op-terminated');
    await start(longB('terminate-me'), id);
    await waitUntil(async () => (await jobStatus(id, 'b')) === 'running', 'b to run');
    await tw.client.workflow.getHandle(id).terminate('stuck, by hand');

    const listed = async (status: string) =>
      (
        JSON.parse((await expectExit(['list', '--status', status, '--json', '--limit', '200'], 0)).stdout) as {
          id: string;
          status: string;
        }[]
      )
        .filter((r) => r.id === id)
        .map((r) => r.status);
    await waitUntil(async () => (await listed('terminated')).length > 0, 'the run under --status terminated');
    expect(await listed('terminated')).toEqual(['terminated']);
    expect(await listed('running')).toEqual([]);

    const status = (await expectExit(['status', id], 0)).stdout.trim();
    expect(status).toBe(
      `${id}: terminate-me terminated · was at b (task) · terminated: stuck, by hand · nothing unwound; left as they are: a · 1/3 jobs ran`
    );
    const report = await reportOf(id);
    expect(report).toMatchObject({
      status: 'terminated',
      lastKnown: 'replay',
      error: { type: 'terminated', message: 'stuck, by hand' },
    });
    expect(report.jobs.map((j) => `${j.stepId}=${j.status}`)).toEqual(['a=succeeded', 'b=running', 'c=not_run']);
    expect(report.endedAt).toBeDefined();
    const table = (await expectExit(['report', id], 0)).stdout;
    expect(table).toContain('status: terminated');
    expect(table).toContain('nothing was unwound: left as they are: a; running when it ended (outcome unknown): b');
    // The effects: a ran and was not reverted; c never ran.
    expect(ran(id, 'run')).toEqual(['a', 'b']);
    expect(ran(id, 'revert')).toEqual([]);
  });

  test('terminated, with no worker left to replay it: the report comes from its event history', async () => {
    const gone = await startTestWorker([journalLibrary(journal, blocked)], 'operators-gone');
    const id = uniqueId('op-no-worker');
    try {
      await start(longB('terminate-unreplayed'), id, gone.taskQueue);
      await waitUntil(async () => (await jobStatus(id, 'b')) === 'running', 'b to run');
      await tw.client.workflow.getHandle(id).terminate('the workers are gone');
    } finally {
      await gone.shutdown();
    }
    const report = await reportOf(id);
    expect(report).toMatchObject({ status: 'terminated', lastKnown: 'history', name: 'terminate-unreplayed' });
    expect(report.jobs.map((j) => `${j.stepId}=${j.status}`)).toEqual(['a=succeeded', 'b=running', 'c=not_run']);
    expect(report.jobs[0]?.result).toMatchObject({ step: 'a' });
    expect((await expectExit(['report', id], 0)).stdout).toContain(
      'jobs as its event history shows them (no worker could replay it)'
    );
  }, 120_000);

  test('timed out (a workflow execution timeout set by whoever started it): status and list say timed_out', async () => {
    const id = uniqueId('op-timed-out');
    await tw.client.workflow.start('jipperProcess', {
      taskQueue: tw.taskQueue,
      workflowId: id,
      args: [{ definition: longB('time-me-out') }],
      workflowExecutionTimeout: '4s',
    });
    await waitUntil(
      async () => (await tw.client.workflow.getHandle(id).describe()).status.name === 'TIMED_OUT',
      'the run to time out'
    );
    const status = (await expectExit(['status', id], 0)).stdout;
    expect(status).toMatch(
      new RegExp(
        `^${id}: time-me-out timed_out · was at b \\(task\\) · timed_out: its workflow execution timeout \\(4s\\) passed · nothing unwound; left as they are: a`
      )
    );
    await waitUntil(
      async () =>
        (
          JSON.parse((await expectExit(['list', '--status', 'timed_out', '--json', '--limit', '200'], 0)).stdout) as {
            id: string;
          }[]
        ).some((r) => r.id === id),
      'the run under --status timed_out'
    );
    expect(ran(id, 'revert')).toEqual([]);
  });
});

test('a process parked on a failed revert: the real step, its error and the decide command; never "reverted"', async () => {
  const id = uniqueId('op-parked');
  blocked.add('lockfile/revert');
  await start(
    {
      name: 'park-on-revert',
      options: { onRevertFailure: 'park' },
      steps: [
        { id: 'lockfile', job: 'task' },
        { id: 'deploy', job: 'task', args: { outcome: 'fail-nonretryable' } },
      ],
    },
    id
  );
  await waitUntil(async () => (await getReport(tw.client, id)).status === 'parked', 'the process to park');
  const hint = `waiting for a decision on lockfile (its revert failed: Error: revert of lockfile is blocked): jipper decide ${id} lockfile retry|skip|mark-reverted`;
  const status = (await expectExit(['status', id], 0)).stdout;
  expect(status).toContain(hint);
  expect(status).not.toMatch(/reverted[^·]*lockfile/);
  const table = (await expectExit(['report', id], 0)).stdout;
  expect(table).toContain(hint);
  expect(table).not.toContain('reverted, newest first: lockfile');
  const markdown = (await expectExit(['report', id, '--markdown'], 0)).stdout;
  expect(markdown).toContain(`\`jipper decide ${id} lockfile retry|skip|mark-reverted\``);
  expect(markdown).not.toContain('Reverted, in order: lockfile');

  // The operator fixes what blocked the revert and retries it, following the process to its end.
  blocked.delete('lockfile/revert');
  const decided = await expectExit(['decide', id, 'lockfile', 'retry', '--wait', '--json'], 1);
  const { report } = JSON.parse(decided.stdout) as { report: ProcessReport };
  expect(report).toMatchObject({ status: 'reverted', revertOrder: ['lockfile'], needsAttention: [] });
  expect(journal.filter((e) => e.kind === 'revert' && e.key === `${id}/lockfile/revert`).length).toBeGreaterThan(2);
});

test('watch --json: one report per change, the last one final; a run that ended shows its report', async () => {
  const id = uniqueId('op-watch');
  await start(
    {
      name: 'watch-me',
      steps: [
        { id: 'a', job: 'task', args: { durationMs: 2000 } },
        { id: 'b', job: 'task', args: { durationMs: 1000 } },
      ],
    },
    id
  );
  const watched = await expectExit(['watch', id, '--json'], 0);
  const reports = watched.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ProcessReport);
  expect(reports.length).toBeGreaterThanOrEqual(2);
  expect(reports.at(-1)).toMatchObject({ processId: id, status: 'succeeded' });
  for (let i = 1; i < reports.length; i++) expect(reports[i]).not.toEqual(reports[i - 1]);
  expect(reports.some((r) => r.jobs.some((j) => j.status === 'running'))).toBe(true);
  expect(ran(id, 'run')).toEqual(['a', 'b']);

  const again = await expectExit(['watch', id], 0);
  expect(again.stdout).toMatch(/status: succeeded/);
  expectOneLineError(await run(['watch', 'no-such-run']), 2, 'no process with id "no-such-run"');
});

test('pause and resume: no step starts while paused; status, list and report say so; resume goes on', async () => {
  const id = uniqueId('op-pause');
  await start(
    {
      name: 'pause-me',
      // Long enough that the pause arrives (a command's start takes a second or more) before the last one starts.
      steps: ['a', 'b', 'c', 'd', 'e'].map((step) => ({ id: step, job: 'task', args: { durationMs: 2000 } })),
    },
    id
  );
  await waitUntil(async () => (await jobStatus(id, 'a')) === 'running', 'a to run');
  const paused = await expectExit(['pause', id, '--reason', 'maintenance window'], 0);
  // Whichever job runs when the pause arrives settles first (the machine's load decides which).
  expect(paused.stdout).toMatch(new RegExp(`^${id} (pauses once [a-d] settles|is paused): no further step starts`));
  expectOneLineError(await run(['pause', id]), 2, `process ${id} is already paused`);
  await waitUntil(async () => (await getReport(tw.client, id)).status === 'paused', 'the process to be paused');
  const startedWhenPaused = ran(id, 'run');
  expect(startedWhenPaused.length).toBeLessThan(5);
  expect((await expectExit(['status', id], 0)).stdout).toContain(
    `paused (maintenance window): no further step starts; jipper resume ${id}`
  );
  expect((await expectExit(['report', id, '--markdown'], 0)).stdout).toContain(
    `Paused (maintenance window): no further step starts; jipper resume ${id}`
  );
  await waitUntil(
    async () =>
      (
        JSON.parse((await expectExit(['list', '--status', 'paused', '--json', '--limit', '200'], 0)).stdout) as {
          id: string;
        }[]
      ).some((r) => r.id === id),
    'the run under --status paused'
  );
  // While it stays paused, no further job starts.
  await new Promise((r) => setTimeout(r, 1500));
  expect(ran(id, 'run')).toEqual(startedWhenPaused);

  expect((await expectExit(['resume', id], 0)).stdout).toContain(`${id} resumed`);
  expectOneLineError(await run(['resume', id]), 2, `process ${id} is not paused`);
  await waitUntil(async () => (await getReport(tw.client, id)).status === 'succeeded', 'the process to succeed');
  expect(ran(id, 'run')).toEqual(['a', 'b', 'c', 'd', 'e']);
});

test('Ctrl-C during start --wait detaches: it says so and how to re-attach; the process goes on', async () => {
  const id = uniqueId('op-detach');
  const child = spawn(
    process.execPath,
    [CLI_PATH, 'start', 'examples/provision-volume-slow.yaml', '--id', id, '--set', 'volume=op-detach', '--wait'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] }
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitUntil(async () => stdout.includes('allocate: running'), 'the live view to show allocate running');
  child.kill('SIGINT');
  expect(await exited).toBe(130);
  expect(stderr).toBe(`jipper: detached from ${id} (running); the process goes on. Re-attach: jipper watch ${id}\n`);
  expect((await tw.client.workflow.getHandle(id).describe()).status.name).toBe('RUNNING');

  // Re-attached from another command, it follows the cancellation to the end; the volume is gone from the sandbox.
  const cancelled = await expectExit(['cancel', id, '--wait'], 0);
  expect(cancelled.stdout).toContain('status: cancelled');
  expect(cancelled.stdout).not.toContain('cancelled: cancelled');
  expect((await inspectSandbox(sandbox)).volumes).not.toContain('op-detach');
}, 120_000);
