/**
 * What a person reads in a report, with no server: a reverted row's time and its revert's, a fast job's success in the
 * line view, live-view columns that line up, how long a process has been paused, the Web UI link to the page with the
 * jobs, help fitted to 80 columns with the global options, ids never wrapped, and the effect check's wording.
 */
import { runLink } from '../../src/cli/links';
import { buildStartRequest } from '../../src/client/start';
import { liveView } from '../../src/cli/live-view';
import { runCli } from '../../src/cli/main';
import { formatReport, reportHeader } from '../../src/cli/report-table';
import { renderTable } from '../../src/cli/table';
import type { JobReport, ProcessReport } from '../../src/shared/report';
import { reportToMarkdown } from '../../src/shared/render';
import { pauseText } from '../../src/shared/wording';
import { expectEffects } from '../../src/testing/effects';

const at = (ms: number) => new Date(Date.parse('2026-12-01T10:00:00.000Z') + ms).toISOString();

function job(stepId: string, fields: Partial<JobReport>): JobReport {
  return { stepId, job: `${stepId}-job`, status: 'pending', ...fields };
}

/** `reserve` ran 3.1 s and its revert 56 ms; `charge` failed; `notify` never ran. */
function unwound(): ProcessReport {
  return {
    processId: 'p-1',
    runId: 'r-1',
    name: 'book',
    status: 'reverted',
    startedAt: at(0),
    endedAt: at(4000),
    failedStep: 'charge',
    error: { type: 'CardDeclinedError', message: 'declined' },
    needsAttention: [],
    revertOrder: ['reserve'],
    jobs: [
      job('reserve', {
        status: 'reverted',
        startedAt: at(0),
        endedAt: at(3100),
        completedOrder: 1,
        revert: { status: 'reverted', startedAt: at(3200), endedAt: at(3256) },
      }),
      job('charge', {
        status: 'failed',
        startedAt: at(3100),
        endedAt: at(3150),
        error: { type: 'CardDeclinedError', message: 'declined' },
      }),
      job('notify', { status: 'not_run' }),
    ],
  };
}

function sink(tty: boolean, columns = 100) {
  let text = '';
  return {
    stream: { write: (chunk: string) => (text += chunk), isTTY: tty, columns },
    text: () => text,
  };
}

describe('a reverted row shows its run time and its revert time', () => {
  test('the table: the run time, and under it the revert time', () => {
    const table = formatReport(unwound(), { width: 100 });
    expect(table).toMatch(/│ reserve\s+│ reserve-job\s+│ reverted\s+│ 3\.1s\s+│/);
    expect(table).toMatch(/│\s+│\s+│\s+│ ↩ 56ms\s+│/);
  });

  test('the Markdown of the Web UI: both, in one part', () => {
    expect(reportToMarkdown(unwound())).toMatch(
      /^- \*\*reserve\*\* · reserve-job · reverted · 3\.1s \(revert 56ms\) — ↩ reverted$/m
    );
  });
});

describe('the live view', () => {
  test('without a terminal: a job the reports first show reverted still says it succeeded, before its revert', () => {
    const out = sink(false);
    const view = liveView(out.stream);
    const first = unwound();
    first.status = 'running';
    first.revertOrder = [];
    first.jobs = first.jobs.map((j) => ({ ...j, status: 'pending' as const, revert: undefined }));
    view.update(first);
    view.update(unwound());
    const lines = out.text().split('\n');
    const succeeded = lines.indexOf('  reserve: succeeded (3.1s)');
    expect(succeeded).toBeGreaterThan(-1);
    expect(lines.findIndex((l) => l.startsWith('  reserve: reverted (56ms)'))).toBeGreaterThan(succeeded);
  });

  test('on a terminal: running, failed and reverted rows line up, and a reverted row shows its revert time', () => {
    const out = sink(true);
    const report = unwound();
    report.status = 'unwinding';
    report.jobs.push(job('audit', { status: 'running', startedAt: new Date(Date.now() - 1500).toISOString() }));
    liveView(out.stream, { color: false }).update(report);
    const rows = out
      .text()
      .split('\n')
      .filter((l) => /^ {2}\S /.test(l));
    expect(rows).toHaveLength(3);
    const timeColumn = (row: string) => row.search(/ \d+(\.\d)?m?s/);
    const columns = new Set(rows.map(timeColumn));
    expect(columns.size).toBe(1);
    expect(rows[0]).toMatch(/reverted {2}3\.1s ↩ 56ms/);
  });
});

test("a paused process says since when, and on the command line for how long; the workflow's Markdown since when", () => {
  const report: ProcessReport = {
    ...unwound(),
    status: 'paused',
    endedAt: undefined,
    pause: { at: at(0), reason: 'maintenance' },
  };
  const now = Date.parse(at(252_000));
  expect(pauseText(report, now)).toBe(
    `paused (maintenance): no further step starts; jipper resume p-1; paused since ${at(0)} (4m12s ago)`
  );
  expect(reportHeader(report).join('\n')).toContain(`paused since ${at(0)} (`);
  expect(reportToMarkdown(report)).toContain(`paused since ${at(0)}`);
});

test('the Web UI link of a run opens the page with its summary, params and report, not its event history', () => {
  expect(runLink('http://ui', 'default', 'p 1', 'r-1')).toBe(
    'http://ui/namespaces/default/workflows/p%201/r-1/user-metadata'
  );
  expect(runLink(undefined, 'default', 'p-1', 'r-1')).toBeUndefined();
});

describe('at 80 columns', () => {
  async function help(...args: string[]): Promise<string> {
    let stdout = '';
    const previous = process.env.COLUMNS;
    process.env.COLUMNS = '80';
    try {
      await runCli(['node', 'jipper', ...args, '--help'], {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: () => true },
      });
    } finally {
      if (previous === undefined) delete process.env.COLUMNS;
      else process.env.COLUMNS = previous;
    }
    return stdout;
  }

  test('help fits, top-level and per command, and each command lists the global options', async () => {
    for (const args of [[], ['report'], ['start'], ['schedule', 'create']]) {
      const text = await help(...args);
      const long = text.split('\n').filter((line) => [...line].length > 80);
      expect({ args, long }).toEqual({ args, long: [] });
    }
    const report = await help('report');
    expect(report).toContain('Global Options:');
    for (const flag of ['--address <host:port>', '--task-queue <name>', '--namespace <name>']) {
      expect(report).toContain(flag);
    }
  });

  test("the report table never breaks a step id or a job name; the row's text wraps instead", () => {
    const report = unwound();
    report.jobs[0] = {
      ...(report.jobs[0] as JobReport),
      stepId: 'prepare-filesystem-and-quota',
      job: 'create-filesystem-xfs',
    };
    const lines = formatReport(report, { width: 80 }).split('\n');
    expect(lines.some((line) => line.includes('prepare-filesystem-and-quota'))).toBe(true);
    expect(lines.some((line) => line.includes('create-filesystem-xfs'))).toBe(true);
  });

  test('a table never wraps a column kept whole (an id), even past the width', () => {
    const id = 'provision-volume-c6ae3ac9-5e89-49dd-8339-fa7376aa7e76';
    const table = renderTable({ head: ['id', 'process'], rows: [[id, 'provision-volume']], width: 40, whole: [0] });
    expect(table).toContain(`│ ${id} │`);
  });
});

test('an effect that is still there after its revert is said plainly', async () => {
  const report = unwound();
  const calls = [{ stepId: 'reserve', side: 'run', outcome: 'ok', input: {}, result: {} }];
  const run = { processId: 'p-1', report, calls } as unknown as Parameters<typeof expectEffects>[0];
  await expect(
    expectEffects(run, { 'reserve-job': () => true, 'charge-job': () => false, 'notify-job': () => false })
  ).rejects.toThrow(
    'step reserve (job reserve-job) was reverted, yet its effect is still there: its revert did not undo it'
  );
});

test("the Web UI shows the run's params first: in its details, and above the definition in its input", () => {
  const definition = { name: 'book', params: { amount: 80, seat: '1' }, steps: [{ id: 'a', job: 'x' }] };
  const request = buildStartRequest(definition, { params: { amount: 150 } });
  expect(request.staticDetails.split('\n\n')[0]).toBe('Params of this run: `amount`=150, `seat`="1"');
  expect(Object.keys(request.args[0])[0]).toBe('params');
  expect(request.args[0].params).toEqual({ amount: 150 });
});
