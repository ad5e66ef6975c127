/**
 * The built `jipper` command against the run's real Temporal server, with a worker (the example volume library, in a
 * sandbox of its own) on this file's task queue: starting and following processes, reading reports, listing,
 * cancelling, deciding, exporting and replaying histories, drawing a process, and every kind of bad input — one line
 * on stderr, the right exit code, never a stack trace.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { inspectSandbox, volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { liveView } from '../../src/cli/live-view';
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

beforeAll(async () => {
  requireBuiltCli();
  sandbox = mkdtempSync(join(tmpdir(), 'jipper-cli-sandbox-'));
  scratch = mkdtempSync(join(tmpdir(), 'jipper-cli-files-'));
  tw = await startTestWorker([volumeLibrary({ root: sandbox })], 'cli');
  env = cliEnv(tw.taskQueue, sandbox, { JIPPER_WEB_UI_URL: 'http://127.0.0.1:8233' });
});

afterAll(async () => {
  await tw?.shutdown();
  rmSync(sandbox, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

const run = (args: string[]) => jipper(args, env);
const expectExit = (args: string[], code: number) => jipperExpect(args, env, code);

/** The error contract: exactly one line on stderr, `jipper: ...`, and no stack trace. */
function expectOneLineError(result: CliResult, code: number, pattern: RegExp | string): void {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code, stderr: result.stderr });
  expect(result.stderr).toMatch(/^jipper: [^\n]+\n$/);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  if (typeof pattern === 'string') expect(result.stderr).toContain(pattern);
  else expect(result.stderr).toMatch(pattern);
}

async function reportOf(id: string): Promise<ProcessReport> {
  return JSON.parse((await expectExit(['report', id, '--json'], 0)).stdout) as ProcessReport;
}

async function statusOf(id: string): Promise<{ status: string; current: string[]; needsAttention: string[] }> {
  return JSON.parse((await expectExit(['status', id, '--json'], 0)).stdout) as {
    status: string;
    current: string[];
    needsAttention: string[];
  };
}

/** `start examples/<file> --id <id> --set k=v ... <flags>` */
const startArgs = (file: string, id: string, sets: Record<string, string | number>, ...flags: string[]) => [
  'start',
  `examples/${file}`,
  '--id',
  id,
  ...Object.entries(sets).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
  ...flags,
];

const uniqueId = (name: string) => `${name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

describe('start --wait', () => {
  const succeeded = uniqueId('cli-succeeds');
  const reverted = uniqueId('cli-unwinds');

  test('a succeeding process: id, run id, Web UI link, a line per status change, the report; exit code 0', async () => {
    const result = await expectExit(
      startArgs('provision-volume.yaml', succeeded, { volume: 'cli-ok', exportName: 'cli-share' }, '--wait'),
      0
    );
    expect(result.stdout).toContain(`started provision-volume as ${succeeded}`);
    expect(result.stdout).toMatch(/run id: [0-9a-f-]{36}/);
    expect(result.stdout).toContain(`Web UI: http://127.0.0.1:8233/namespaces/default/workflows/${succeeded}/`);
    // The first volume this sandbox's catalog holds: one volume, not "1 volumes".
    expect(result.stdout).toMatch(
      /^ {2}register: succeeded \(\d+m?s\) · registered cli-ok in the catalog \(1 volume\)$/m
    );
    expect(result.stdout).toMatch(/^provision-volume: succeeded$/m);
    expect(result.stdout).toMatch(/status: succeeded/);
    // The report ends with the link to the run's page in the Web UI that shows its jobs (not its raw event history).
    const link = `Web UI: http://127.0.0.1:8233/namespaces/default/workflows/${succeeded}/`;
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^${link}[0-9a-f-]{36}/user-metadata$`));
    expect(result.stderr).toBe('');
  });

  test('a failing process: the unwinding is shown newest job first, then the report; exit code 1', async () => {
    const result = await expectExit(
      startArgs('provision-volume-over-quota.yaml', reverted, { volume: 'cli-over' }, '--wait'),
      1
    );
    const lines = result.stdout.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
    expect(at(/^ {2}prepare\/quota: failed .*QuotaAboveLimitError/)).toBeGreaterThan(0);
    expect(at(/^ {2}prepare\/filesystem: reverted/)).toBeGreaterThan(at(/^ {2}prepare\/quota: failed/));
    expect(at(/^ {2}allocate: reverted/)).toBeGreaterThan(at(/^ {2}prepare\/filesystem: reverted/));
    expect(at(/^provision-volume-over-quota: reverted$/)).toBeGreaterThan(at(/^ {2}allocate: reverted/));
    expect(result.stdout).toContain('reverted, newest first: filesystem → allocate');

    // On disk: the unwinding removed everything the process made (its volume file, allocation record, filesystem tree
    // and quota), while the succeeded process's volume is still there.
    const report = JSON.parse((await expectExit(['report', reverted, '--json'], 0)).stdout) as ProcessReport;
    const volumeFile = (report.jobs.find((j) => j.stepId === 'allocate')?.result as { path: string }).path;
    expect(volumeFile).toMatch(/cli-over\.img$/);
    expect(existsSync(volumeFile)).toBe(false);
    const disk = await inspectSandbox(sandbox);
    expect(disk.volumes).toEqual(['cli-ok']);
    expect(disk.mounts).toEqual(['cli-ok']);
    expect(disk.quotas).not.toContain('cli-over');
    expect(disk.catalog.map((entry) => entry.volume)).toEqual(['cli-ok']);
  });

  test('report --json, --markdown, and status: the run as it ended', async () => {
    expect(await reportOf(reverted)).toMatchObject({
      processId: reverted,
      status: 'reverted',
      failedStep: 'quota',
      revertOrder: ['filesystem', 'allocate'],
    });
    const markdown = (await expectExit(['report', reverted, '--markdown'], 0)).stdout;
    expect(markdown).toContain('**provision-volume-over-quota** · status **reverted** · failed at `quota`');
    expect(markdown).toContain('Reverted, newest first: filesystem → allocate');
    // One list item per job, its parts apart (the Web UI ran a table's columns together: "reverted65ms").
    expect(markdown).toMatch(
      /^- \*\*allocate\*\* · allocate-volume · reverted · \d+(ms|\.\ds) \(revert \d+(ms|\.\ds)\) — allocated 32 MB for cli-over · ↩ reverted: released 32 MB of cli-over$/m
    );
    const table = (await expectExit(['report', reverted], 0)).stdout;
    expect(table).toMatch(/│ prepare\/quota\s+│ set-quota\s+│ failed/);
    // A reverted row shows its run's time and, under it, its revert's.
    expect(table).toMatch(
      /│ allocate\s+│ allocate-volume\s+│ reverted\s+│ \d+(ms|\.\ds)\s+│.*\n│\s+│\s+│\s+│ ↩ \d+(ms|\.\ds)\s+│/
    );
    // ...and the report ends with the run's link in the Web UI.
    expect(table.trimEnd().split('\n').at(-1)).toMatch(
      new RegExp(
        `^Web UI: http://127\\.0\\.0\\.1:8233/namespaces/default/workflows/${reverted}/[0-9a-f-]{36}/user-metadata$`
      )
    );
    const status = (await expectExit(['status', reverted], 0)).stdout;
    expect(status.trim().split('\n')).toHaveLength(1);
    expect(status).toContain(`${reverted}: provision-volume-over-quota reverted · failed at quota`);
  });

  test('the report fits the terminal (COLUMNS): text wraps, never cut; --wide keeps each line whole', async () => {
    const narrow = (await jipperExpect(['report', reverted], { ...env, COLUMNS: '80' }, 0)).stdout;
    const table = narrow.split('\n').filter((line) => /^[│┌├└]/.test(line));
    expect(table.length).toBeGreaterThan(0);
    for (const line of table) expect([...line].length).toBeLessThanOrEqual(80);
    expect(narrow).not.toContain('…');
    const error = '✖ QuotaAboveLimitError: quota 64 MB is above the size of volume "cli-over" (32 MB)';
    expect(narrow).not.toContain(error);
    const wide = (await jipperExpect(['report', reverted, '--wide'], { ...env, COLUMNS: '80' }, 0)).stdout;
    expect(wide).toContain(error);
    expect(Math.max(...wide.split('\n').map((line) => [...line].length))).toBeGreaterThan(80);
  });

  test('colour: none with NO_COLOR or when piped; FORCE_COLOR colours piped output', async () => {
    const plain = await expectExit(['report', reverted], 0);
    expect(plain.stdout).not.toContain('\u001b[');
    const { NO_COLOR: _unset, ...piped } = env;
    expect((await jipperExpect(['report', reverted], piped, 0)).stdout).not.toContain('\u001b[');
    const forced = (await jipperExpect(['report', reverted], { ...piped, FORCE_COLOR: '1' }, 0)).stdout;
    expect(forced).toContain('\u001b[36mreverted\u001b[39m');
    expect((await jipperExpect(['list', '--limit', '5'], { ...piped, FORCE_COLOR: '1' }, 0)).stdout).toContain(
      '\u001b[1m'
    );
    expect((await jipperExpect(['report', reverted], { ...piped, FORCE_COLOR: '0' }, 0)).stdout).not.toContain(
      '\u001b['
    );
  });

  test('plan previews exactly the unwinding the run did', async () => {
    const real = await reportOf(reverted);
    const preview = JSON.parse(
      (await expectExit(['plan', 'examples/provision-volume-over-quota.yaml', '--fail-at', 'quota', '--json'], 0))
        .stdout
    ) as { previews: { status: string; revertOrder: string[]; notRun: string[] }[] };
    expect(preview.previews).toHaveLength(1);
    expect(preview.previews[0]).toMatchObject({
      status: real.status,
      revertOrder: real.revertOrder,
      notRun: real.jobs.filter((j) => j.status === 'not_run').map((j) => j.stepId),
    });
    const text = (await expectExit(['plan', 'examples/provision-volume-over-quota.yaml', '--fail-at', 'quota'], 0))
      .stdout;
    expect(text).toContain('if quota fails:\n  succeed first: allocate, filesystem\n  never start: register');
    expect(text).toMatch(/ {4}1 {2}filesystem\n {4}2 {2}allocate\n {2}ends: reverted/);
    const chart = (
      await expectExit(['plan', 'examples/provision-volume-over-quota.yaml', '--fail-at', 'quota', '--mermaid'], 0)
    ).stdout;
    expect(chart).toMatch(/^flowchart TD$/m);
    expect(chart).toContain('class j2 stopped');
    expectOneLineError(
      await run(['plan', 'examples/provision-volume-over-quota.yaml', '--fail-at', 'qouta']),
      2,
      '--fail-at qouta: no job "qouta" in provision-volume-over-quota (did you mean "quota"?)'
    );
  });

  test('list --status filters by the JipperStatus search attribute; --process by JipperProcess', async () => {
    const listed = async (args: string[]) =>
      (
        JSON.parse((await expectExit(['list', ...args, '--json', '--limit', '200'], 0)).stdout) as {
          id: string;
          status: string;
        }[]
      ).map((r) => `${r.id}=${r.status}`);
    // Visibility is eventually consistent: poll until the closed runs show their final status.
    await waitUntil(
      async () => (await listed(['--status', 'reverted'])).includes(`${reverted}=reverted`),
      'the reverted run in the list'
    );
    expect(await listed(['--status', 'reverted'])).not.toContain(`${succeeded}=succeeded`);
    expect(await listed(['--status', 'succeeded'])).toContain(`${succeeded}=succeeded`);
    expect(await listed(['--process', 'provision-volume-over-quota'])).toContain(`${reverted}=reverted`);
    expect(await listed(['--process', 'no\'such"process'])).toEqual([]);
    const table = (await expectExit(['list', '--status', 'reverted', '--limit', '200'], 0)).stdout;
    expect(table).toMatch(new RegExp(`│ ${reverted}\\s+│ provision-volume-over-quota\\s+│ reverted`));
    // At 80 columns an id is never wrapped: each run is a block whose first line is its whole id.
    const narrow = (
      await jipperExpect(['list', '--status', 'reverted', '--limit', '200'], { ...env, COLUMNS: '80' }, 0)
    ).stdout.split('\n');
    expect(narrow).toContain(reverted);
    expect(narrow[narrow.indexOf(reverted) + 1]).toBe('  provision-volume-over-quota · reverted');
    for (const line of narrow) expect([...line].length).toBeLessThanOrEqual(80);
  });

  test('history and replay: the exported history replays; a tampered one is a determinism violation', async () => {
    const file = join(scratch, `${reverted}.json`);
    await expectExit(['history', reverted, '-o', file], 0);
    const history = JSON.parse(readFileSync(file, 'utf8')) as { events: { eventType: string }[] };
    expect(history.events[0]?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
    const stdout = (await expectExit(['history', reverted], 0)).stdout;
    expect((JSON.parse(stdout) as { events: unknown[] }).events).toHaveLength(history.events.length);

    const replayed = await expectExit(['replay', file], 0);
    expect(replayed.stdout).toContain(`ok    ${file}`);

    const tampered = join(scratch, 'tampered.json');
    writeFileSync(
      tampered,
      readFileSync(file, 'utf8').replace(/"activityId": "quota\.run"/, '"activityId": "quota-renamed.run"')
    );
    const failed = await expectExit(['replay', tampered, file], 1);
    expect(failed.stdout).toMatch(new RegExp(`FAIL  ${tampered}: determinism violation: .*quota`));
    expect(failed.stdout).toContain('2 histories replayed, 1 failed');
    expect((await expectExit(['replay', file], 0)).stdout).toContain('1 history replayed, 0 failed');
  });
});

test('cancel: a running process stops and unwinds; cancelling it again is refused', async () => {
  const id = uniqueId('cli-cancel');
  await expectExit(startArgs('provision-volume-slow.yaml', id, { volume: 'cli-slow', sizeMb: 64, mbPerSec: 4 }), 0);
  await waitUntil(async () => (await statusOf(id)).current.includes('allocate'), 'the slow allocation to run');
  // --wait follows the unwinding to the end: exit code 0 because it ended cancelled.
  const cancelled = await expectExit(['cancel', id, '--wait'], 0);
  expect(cancelled.stdout).toContain(`cancellation requested: ${id}`);
  expect(cancelled.stdout).toMatch(/^ {2}allocate: failed, revert reverted \(\d+m?s\) · released 64 MB of cli-slow$/m);
  expect(cancelled.stdout).toContain('status: cancelled');
  expect(cancelled.stdout).not.toContain('cancelled: cancelled');
  const report = await reportOf(id);
  expect(report).toMatchObject({ status: 'cancelled', revertOrder: ['allocate'], error: { type: 'cancelled' } });
  expect(report.jobs.map((j) => j.status)).toEqual(['failed', 'not_run', 'not_run', 'not_run']);
  expect((await expectExit(['report', id, '--markdown'], 0)).stdout).not.toContain('cancelled: cancelled');
  // On disk: the half-filled volume was released.
  expect((await inspectSandbox(sandbox)).volumes).not.toContain('cli-slow');
  expectOneLineError(await run(['cancel', id]), 2, `${id} has already ended (cancelled); nothing to cancel`);
});

test('decide: a parked process takes the operator decision; a step that is not parked is refused', async () => {
  const id = uniqueId('cli-park');
  await expectExit(startArgs('provision-volume-park.yaml', id, { volume: 'cli-park', exportName: 'cli-park' }), 0);
  await waitUntil(async () => (await statusOf(id)).status === 'parked', 'the process to park');
  expect((await expectExit(['status', id], 0)).stdout).toContain('waiting for a decision on second-export');

  expectOneLineError(
    await run(['decide', id, 'register', 'skip']),
    2,
    'step "register" is not waiting for a decision (parked: second-export)'
  );
  expectOneLineError(
    await run(['decide', id, 'second-export', 'mark-reverted']),
    2,
    'failed past the pivot: decide retry or skip'
  );
  expectOneLineError(
    await run(['decide', id, 'second-export', 'undo']),
    2,
    "value 'undo' is invalid for argument 'decision'"
  );

  // --wait follows the process to its end: exit code 0 because it succeeded.
  const decided = await expectExit(['decide', id, 'second-export', 'skip', '--wait'], 0);
  expect(decided.stdout).toContain('skip accepted for step second-export');
  expect(decided.stdout).toContain('status: succeeded');
  const report = await reportOf(id);
  expect(report.status).toBe('succeeded');
  expect(report.jobs.find((j) => j.stepId === 'second-export')?.status).toBe('skipped');
});

describe('bad input: one line on stderr, exit code 2, no stack trace', () => {
  const write = (name: string, text: string) => {
    const path = join(scratch, name);
    writeFileSync(path, text);
    return path;
  };

  test('a missing file', async () => {
    expectOneLineError(await run(['validate', join(scratch, 'missing.yaml')]), 2, /missing\.yaml: no such file$/m);
    expectOneLineError(await run(['start', join(scratch, 'missing.json'), '--wait']), 2, 'no such file');
  });

  test('bad YAML and bad JSON, with the place', async () => {
    const yaml = write('broken.yaml', 'name: x\nsteps: [\n  - id: a\n');
    expectOneLineError(await run(['validate', yaml]), 2, `${yaml}:3:3: not valid YAML`);
    const json = write('broken.json', '{\n  "name": "x",\n  "steps": [}\n');
    expectOneLineError(await run(['validate', json]), 2, `${json}:3:13: not valid JSON: Unexpected token '}'`);
    const trailing = write('trailing.json', '{"name": "x", "steps": [],}');
    expectOneLineError(
      await run(['validate', trailing]),
      2,
      `${trailing}:1:27: not valid JSON: Expected double-quoted property name`
    );
  });

  test('an unknown job, at its file:line:col (YAML and JSON)', async () => {
    const yaml = write(
      'unknown.yaml',
      'name: x\nsteps:\n  - id: a\n    job: allocate-volum\n    args: { volume: v1, sizeMb: 1 }\n'
    );
    expectOneLineError(
      await run(['validate', yaml]),
      2,
      `${yaml}:4:10: steps[0].job: unknown job "allocate-volum" (did you mean "allocate-volume"?)`
    );
    const json = write('unknown.json', '{\n  "name": "x",\n  "steps": [\n    { "id": "a", "job": "nope" }\n  ]\n}\n');
    expectOneLineError(await run(['validate', json]), 2, `${json}:4:25: steps[0].job: unknown job "nope"`);
    expectOneLineError(await run(['start', json, '--wait']), 2, `${json}:4:25: steps[0].job: unknown job "nope"`);
  });

  test('every problem, a line each; --json lists them with their places', async () => {
    const yaml = write(
      'two.yaml',
      'name: x\nsteps:\n  - id: a\n    job: set-quota\n    args: { volume: v1 }\n  - id: a\n    job: nope\n'
    );
    const result = await expectExit(['validate', yaml], 2);
    expect(result.stderr.trim().split('\n')).toEqual([
      `jipper: ${yaml}:3:5: steps[0]: missing required argument "limitMb" (job "set-quota")`,
      `jipper: ${yaml}:6:9: steps[1].id: duplicate step id "a" (first used at steps[0].id)`,
      expect.stringMatching(new RegExp(`^jipper: ${yaml}:7:10: steps\\[1\\]\\.job: unknown job "nope"`)),
    ]);
    const json = JSON.parse((await expectExit(['validate', yaml, '--json'], 2)).stdout) as {
      ok: boolean;
      problems: unknown[];
    };
    expect(json).toMatchObject({
      ok: false,
      problems: [{ path: 'steps[0]', location: `${yaml}:3:5` }, {}, {}],
    });
  });

  test('a mistyped step in $from gets a "did you mean", as a mistyped field does', async () => {
    const yaml = write(
      'from-typo.yaml',
      'name: x\nsteps:\n  - id: reserve\n    job: allocate-volume\n    args: { volume: v1, sizeMb: 1 }\n' +
        '  - id: fs\n    job: create-filesystem\n    args: { volume: { $from: reserv.volume } }\n'
    );
    expectOneLineError(
      await run(['validate', yaml]),
      2,
      `${yaml}:8:21: steps[1].args.volume: $from "reserv.volume": no step "reserv" in this process (did you mean "reserve"?)`
    );
  });

  test('--set values are typed by the place they go; a --set that still does not fit is named', async () => {
    // volume is a string where it goes: --set volume=12 is "12", not the number 12.
    const ok = await expectExit(['validate', 'examples/provision-volume.yaml', '--set', 'volume=12', '--json'], 0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true });
    // sizeMb is a number: a word there is the --set's problem, and the line says where the file puts it.
    expectOneLineError(
      await run(['validate', 'examples/provision-volume.yaml', '--set', 'sizeMb=big']),
      2,
      /^jipper: --set sizeMb=big: Invalid input: expected number, received string \(the value goes to steps\[0\]\.args\.sizeMb, examples\/provision-volume\.yaml:22:15\)$/m
    );
  });

  test('a bad --set, a bad option value, an unknown command', async () => {
    expectOneLineError(
      await run(['validate', 'examples/provision-volume.yaml', '--set', '9lives=1']),
      2,
      '--set 9lives=1: a parameter name'
    );
    expectOneLineError(
      await run(['validate', 'examples/provision-volume.yaml', '--set', 'sizeMb=lots']),
      2,
      /--set sizeMb=lots: .*expected number.* \(the value goes to steps\[0\]\.args\.sizeMb, examples\/provision-volume\.yaml:22:15\)/
    );
    expectOneLineError(
      await run(['list', '--status', 'done']),
      2,
      "option '--status <status>' argument 'done' is invalid. Allowed choices are waiting, running, paused"
    );
    expectOneLineError(await run(['list', '--limit', '0']), 2, "'--limit <n>' argument '0' is invalid");
    expectOneLineError(await run(['frobnicate']), 2, "unknown command 'frobnicate'");
  });

  test('typos run nothing: an unknown --set, an unknown arg, a $from path the result does not have', async () => {
    expectOneLineError(
      await run(['start', 'examples/provision-volume.yaml', '--set', 'volme=x', '--wait']),
      2,
      'jipper: --set volme: unknown parameter "volme": the process neither declares nor uses it (did you mean "volume"?)'
    );
    const yaml = write(
      'typos.yaml',
      'name: typos\nsteps:\n  - id: alloc\n    job: allocate-volume\n    args: { volume: v1, sizeMB: 8 }\n  - id: fs\n    job: create-filesystem\n    args: { volume: { $from: alloc.volme } }\n'
    );
    const result = await expectExit(['validate', yaml], 2);
    // One problem per typo: the missing sizeMb is not reported again.
    expect(result.stderr.trim().split('\n')).toEqual([
      `jipper: ${yaml}:5:33: steps[0].args.sizeMB: job "allocate-volume" has no arg "sizeMB" (did you mean "sizeMb"?); it takes: volume, sizeMb, zeroFill, ioLimitMbPerSec, wipeOnRelease`,
      `jipper: ${yaml}:8:21: steps[1].args.volume: $from "alloc.volme": the result of step "alloc" (job "allocate-volume") has no "volme" (did you mean "volume"?); it has: volume, path, sizeMb`,
    ]);
  });

  test('an unknown process id', async () => {
    for (const command of [
      ['status', 'no-such-run'],
      ['report', 'no-such-run'],
      ['cancel', 'no-such-run'],
      ['history', 'no-such-run'],
      ['decide', 'no-such-run', 'a', 'retry'],
      ['watch', 'no-such-run'],
      ['pause', 'no-such-run'],
      ['resume', 'no-such-run'],
    ]) {
      expectOneLineError(await run(command), 2, 'no process with id "no-such-run"');
    }
  });

  test('JIPPER_DEBUG=1 adds the stack trace', async () => {
    const result = await jipper(['status', 'no-such-run'], { ...env, JIPPER_DEBUG: '1' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^jipper: no process with id "no-such-run"\nWorkflowNotFoundError/);
  });
});

test('no server at the address: one line saying so, exit code 1', async () => {
  const result = await jipper(['status', 'anything'], { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' });
  expectOneLineError(result, 1, 'no Temporal server answers at 127.0.0.1:1 (TEMPORAL_ADDRESS)');
});

/** The chart's edges drawn with `arrow`, in order. */
const edges = (chart: string, arrow: string) =>
  chart
    .split('\n')
    .filter((line) => line.includes(` ${arrow} `))
    .map((line) => line.trim());

test('valid definitions: validate says ok, graph draws the forward and the revert path', async () => {
  const ok = await expectExit(['validate', 'examples/provision-volume.yaml', '--json'], 0);
  expect(JSON.parse(ok.stdout)).toEqual({ ok: true, problems: [] });
  const chart = (await expectExit(['graph', 'examples/provision-volume.yaml'], 0)).stdout;
  expect(chart).toMatch(/^flowchart TD$/m);
  expect(chart).toContain('subgraph g1["parallel: prepare"]');
  expect(edges(chart, '-->')).toEqual([
    'start --> j0',
    'j0 --> j1',
    'j0 --> j2',
    'j1 --> j3',
    'j2 --> j3',
    'j3 --> j4',
    'j4 --> j5',
    'j5 --> done',
  ]);
  expect(edges(chart, '-.->')).toEqual([
    'failure -.-> r5',
    'r5 -.-> r4',
    'r4 -.-> r3',
    'r3 -.-> r1',
    'r3 -.-> r2',
    'r1 -.-> r0',
    'r2 -.-> r0',
    'r0 -.-> reverted',
  ]);
  expect(chart).toContain('r3["skip audit<br/>no revert"]');
  expect(chart).toMatch(/^ {2}class r3 skipped$/m);

  const pivot = (await expectExit(['graph', 'examples/provision-volume-past-pivot.yaml'], 0)).stdout;
  expect(pivot).toContain('j1["⚑ export<br/>export-volume<br/>pivot: no way back"]');
  expect(edges(pivot, '-.->')).toEqual(['failure -.-> r0', 'r0 -.-> reverted']);
});

test('--help on every command', async () => {
  for (const command of [
    'dev',
    'worker',
    'validate',
    'start',
    'status',
    'report',
    'list',
    'cancel',
    'decide',
    'history',
    'replay',
    'graph',
    'watch',
    'pause',
    'resume',
    'plan',
    'completion',
  ]) {
    const result = await expectExit([command, '--help'], 0);
    expect(result.stdout).toContain(`Usage: jipper ${command}`);
  }
});

test('the live view on a terminal redraws one line per job in place, under a progress bar', () => {
  const writes: string[] = [];
  const stream = {
    isTTY: true,
    columns: 100,
    write: (text: string) => writes.push(text),
  } as unknown as NodeJS.WriteStream;
  const view = liveView(stream, { color: false });
  const report = (status: 'running' | 'succeeded', b: 'running' | 'succeeded'): ProcessReport => ({
    processId: 'p',
    name: 'demo',
    status,
    startedAt: '2024-01-01T00:00:00.000Z',
    needsAttention: [],
    revertOrder: [],
    jobs: [
      { stepId: 'a', job: 'task', status: 'succeeded', detail: 'did a' },
      { stepId: 'b', job: 'task', status: b },
    ],
  });
  view.update(report('running', 'running'));
  view.update(report('succeeded', 'succeeded'));
  expect(writes[0]).toBe(
    'demo  running  jobs [████████████░░░░░░░░░░░░] 1/2\n  ✔ a     task  succeeded          did a\n  ▸ b     task  running\n'
  );
  expect(writes[1]?.startsWith('\u001b[3F\u001b[0J')).toBe(true);
  expect(writes[1]).toContain('[████████████████████████] 2/2');
});
