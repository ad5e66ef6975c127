/**
 * The built `jipper` command on time and run-once, against the run's real server with a worker (the example volume
 * library in a sandbox of its own): delayed starts shown as waiting and called off with nothing to unwind; a used
 * `--id` refused in one line that names its run, and `--rerun`; `jipper schedule` from apply to delete; and bad input
 * (a cron the server cannot read, an unknown overlap policy, a start time in the past...) as one line, exit code 2.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectSandbox, volumeLibrary } from '../../src/examples/volume/volume-jobs';
import type { ProcessReport } from '../../src/shared/report';
import type { CliResult } from '../support/cli';
import { jipper, jipperExpect, requireBuiltCli, cliEnv } from '../support/cli';
import { waitUntil } from '../support/observe';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

let sandbox: string;
let scratch: string;
let tw: TestWorker;
let env: NodeJS.ProcessEnv;
const schedules: string[] = [];

beforeAll(async () => {
  requireBuiltCli();
  sandbox = mkdtempSync(join(tmpdir(), 'jipper-cli-time-sandbox-'));
  scratch = mkdtempSync(join(tmpdir(), 'jipper-cli-time-files-'));
  tw = await startTestWorker([volumeLibrary({ root: sandbox })], 'cli-time');
  env = cliEnv(tw.taskQueue, sandbox);
});

afterAll(async () => {
  for (const id of schedules)
    await tw.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await tw?.shutdown();
  rmSync(sandbox, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

const run = (args: string[]) => jipper(args, env);
const expectExit = (args: string[], code: number) => jipperExpect(args, env, code);
const uniqueId = (name: string) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

function expectOneLineError(result: CliResult, code: number, pattern: RegExp | string): void {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code, stderr: result.stderr });
  expect(result.stderr).toMatch(/^jipper: [^\n]+\n$/);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  if (typeof pattern === 'string') expect(result.stderr).toContain(pattern);
  else expect(result.stderr).toMatch(pattern);
}

const reportOf = async (id: string) =>
  JSON.parse((await expectExit(['report', id, '--json'], 0)).stdout) as ProcessReport;

test('start --start-in: waiting (status, report, list); cancelled before it starts, nothing to unwind', async () => {
  const id = uniqueId('cli-later');
  const started = await expectExit(
    ['start', 'examples/provision-volume.yaml', '--id', id, '--set', 'volume=cli-later', '--start-in', '2h'],
    0
  );
  expect(started.stdout).toMatch(/waiting to start at \S+Z \(in (1h59m|2h00m)\); jipper cancel \S+ calls it off/);
  const status = (await expectExit(['status', id], 0)).stdout;
  expect(status).toMatch(
    new RegExp(`^${id}: provision-volume waiting · starts at \\S+ \\(in (1h59m|2h00m)\\) · 0/6 jobs ran\\n$`)
  );
  expect((await reportOf(id)).jobs.every((j) => j.status === 'pending')).toBe(true);
  await waitUntil(async () => {
    const listed = JSON.parse(
      (await expectExit(['list', '--status', 'waiting', '--json', '--limit', '200'], 0)).stdout
    ) as {
      id: string;
      startsAt?: string;
    }[];
    return listed.some((r) => r.id === id && r.startsAt !== undefined);
  }, 'the waiting run in jipper list --status waiting');

  const cancelled = await expectExit(['cancel', id], 0);
  expect(cancelled.stdout).toContain(
    `cancellation requested: ${id} had not started; it ends cancelled, nothing to unwind`
  );
  const report = await waitUntil(async () => {
    const r = await reportOf(id);
    return r.status === 'cancelled' && r;
  }, 'the delayed process to end cancelled');
  expect(report.jobs.map((j) => j.status)).toEqual(Array(6).fill('not_run'));
  expect(report.revertOrder).toEqual([]);
  expect((await inspectSandbox(sandbox)).volumes).not.toContain('cli-later');
});

test('run once: a used --id is refused in one line naming its run; --rerun only after a run that did not succeed', async () => {
  const id = uniqueId('cli-once');
  const over = ['start', 'examples/provision-volume-over-quota.yaml', '--id', id, '--set', 'volume=cli-once'];
  await expectExit([...over, '--wait'], 1);
  const { runId } = await reportOf(id);
  expectOneLineError(
    await run(over),
    2,
    `process id "${id}" is used: provision-volume-over-quota run ${runId} ended reverted at `
  );
  expect((await run(over)).stderr).toContain('; add --rerun to start it again');
  // Fixed (a quota that fits): the rerun succeeds, and then the id is spent for good.
  await expectExit([...over, '--set', 'quotaMb=16', '--rerun', '--wait'], 0);
  const again = await run([...over, '--set', 'quotaMb=16', '--rerun']);
  expectOneLineError(again, 2, /ended succeeded at \S+; a process that succeeded is not run again, even on a rerun$/m);
  expectOneLineError(
    await run(['start', 'examples/provision-volume.yaml', '--rerun']),
    2,
    '--rerun reruns the process of an --id; give the id'
  );
});

test('jipper schedule: apply, describe, trigger, list, pause, apply keeps the pause, delete', async () => {
  const id = uniqueId('cli-nightly');
  schedules.push(id);
  const file = join(scratch, `${id}.yaml`);
  writeFileSync(
    file,
    readFileSync('examples/scratch-volume-nightly.yaml', 'utf8')
      .replace("cron: '0 3 * * *'", `id: ${id}\n  cron: '0 3 * * *'`)
      .replace('volume: scratch-nightly', 'volume: cli-nightly')
  );
  expect((await expectExit(['schedule', 'apply', file], 0)).stdout).toBe(
    `schedule ${id}: created · process scratch-volume · active\n`
  );
  expect((await expectExit(['schedule', 'apply', file], 0)).stdout).toBe(
    `schedule ${id}: unchanged · process scratch-volume · active\n`
  );
  const described = (await expectExit(['schedule', 'describe', id], 0)).stdout;
  expect(described).toContain(`schedule ${id} · process scratch-volume · active`);
  expect(described).toContain('when: cron "0 3 * * *" · time zone Europe/Paris · jitter 2m');
  expect(described).toContain('overlap: skip · catch-up window 365d · pause on failure: yes');
  expect(described).toContain('recent runs: none yet');

  const triggered = (await expectExit(['schedule', 'trigger', id], 0)).stdout;
  const processId = new RegExp(`started (${id}-\\S+Z) `).exec(triggered)?.[1] ?? '';
  expect(processId).not.toBe('');
  await waitUntil(async () => (await reportOf(processId)).status === 'succeeded', 'the triggered run to succeed');
  expect((await inspectSandbox(sandbox)).volumes).toContain('cli-nightly');
  expect((await expectExit(['schedule', 'describe', id], 0)).stdout).toMatch(
    new RegExp(`\\n {4}\\S+ \\S+ {2}${processId} {2}succeeded\\n`)
  );
  await waitUntil(async () => {
    const runs = JSON.parse((await expectExit(['list', '--schedule', id, '--json'], 0)).stdout) as {
      id: string;
      schedule?: string;
    }[];
    return runs.some((r) => r.id === processId && r.schedule === id);
  }, 'the run in jipper list --schedule');
  await waitUntil(
    async () => (await expectExit(['schedule', 'list', '--process', 'scratch-volume'], 0)).stdout.includes(id),
    'the schedule in jipper schedule list'
  );

  expect((await expectExit(['schedule', 'pause', id, '--note', 'disk swap'], 0)).stdout).toBe(
    `paused schedule ${id}: disk swap\n`
  );
  const reapplied = (await expectExit(['schedule', 'apply', file], 0)).stdout;
  expect(reapplied).toContain(`schedule ${id}: unchanged · process scratch-volume · paused (disk swap)`);
  expect(reapplied).toContain(`an existing schedule keeps its state: jipper schedule unpause ${id}`);
  expect((await expectExit(['schedule', 'delete', id], 0)).stdout).toContain(
    `deleted schedule ${id}; its runs are kept`
  );
  expectOneLineError(await run(['schedule', 'describe', id]), 2, `no schedule with id "${id}" (jipper schedule list)`);
  // The run outlives its schedule.
  expect((await reportOf(processId)).status).toBe('succeeded');
});

describe('bad input: one line, exit code 2', () => {
  const create = (...flags: string[]) =>
    run(['schedule', 'create', 'examples/provision-volume.yaml', '--id', uniqueId('cli-bad'), ...flags]);

  test('a cron expression the server cannot read; nothing is created', async () => {
    const id = uniqueId('cli-bad-cron');
    expectOneLineError(
      await run(['schedule', 'create', 'examples/provision-volume.yaml', '--id', id, '--cron', '61 * * * *']),
      2,
      `schedule "${id}" (cron "61 * * * *"): Temporal refused it: Minute is not in range [0-59]`
    );
    expectOneLineError(await run(['schedule', 'describe', id]), 2, `no schedule with id "${id}"`);
  });

  test.each([
    [
      ['--every', '1h', '--overlap', 'sometimes'],
      "option '--overlap <policy>' argument 'sometimes' is invalid. expected one of skip, buffer-one, buffer-all, cancel-other, allow-all",
    ],
    [['--every', '500ms'], 'a schedule runs at most once a second: expected "1s" or more'],
    [
      ['--every', '1h', '--timezone', 'Mars/Base'],
      'unknown time zone; expected an IANA name such as "Europe/Paris" or "UTC"',
    ],
    [[], 'give --cron or --every (or a schedule: block with cron or every in the definition)'],
    [['--every', '1h', '--cron', '@daily'], 'choose one of --cron and --every'],
  ])('schedule create %j', async (flags, line) => {
    expectOneLineError(await create(...flags), 2, line);
  });

  test('start times: in the past, without a zone, both kinds', async () => {
    const start = (...flags: string[]) => run(['start', 'examples/provision-volume.yaml', ...flags]);
    expectOneLineError(
      await start('--start-at', '2020-01-01T00:00:00Z'),
      2,
      /the start time 2020-01-01T00:00:00.000Z is in the past/
    );
    expectOneLineError(await start('--start-at', '2030-01-01T03:00'), 2, 'expected an ISO 8601 time with its zone');
    expectOneLineError(await start('--start-in', '0s'), 2, 'start delay "0s": expected more than zero');
    expectOneLineError(
      await start('--start-in', '1h', '--start-at', '2030-01-01T03:00:00Z'),
      2,
      'choose one of --start-at and --start-in'
    );
  });

  test('a schedule block with a bad field is located in the file; a file without one cannot be applied', async () => {
    const file = join(scratch, 'bad-block.yaml');
    writeFileSync(
      file,
      readFileSync('examples/scratch-volume-nightly.yaml', 'utf8').replace('overlap: skip', 'overlap: sometimes')
    );
    expectOneLineError(
      await run(['schedule', 'apply', file]),
      2,
      new RegExp(`^jipper: ${file}:\\d+:\\d+: schedule.overlap: expected one of skip, buffer-one`)
    );
    expectOneLineError(
      await run(['schedule', 'apply', 'examples/provision-volume.yaml']),
      2,
      'examples/provision-volume.yaml: no schedule: block'
    );
  });

  test('a backfill range backwards, or into the future', async () => {
    const id = uniqueId('cli-backfill');
    schedules.push(id);
    await expectExit(
      ['schedule', 'create', 'examples/provision-volume.yaml', '--id', id, '--every', '1h', '--paused'],
      0
    );
    expectOneLineError(
      await run(['schedule', 'backfill', id, '--from', '2026-01-02T00:00:00Z', '--to', '2026-01-01T00:00:00Z']),
      2,
      'backfill: 2026-01-02T00:00:00.000Z is not before 2026-01-01T00:00:00.000Z'
    );
    expectOneLineError(
      await run(['schedule', 'backfill', id, '--from', '2026-01-01T00:00:00Z', '--to', '2999-01-01T00:00:00Z']),
      2,
      'is in the future'
    );
  });
});
