/**
 * How the command line and the Web UI tell a report, with no server: a parked process is never "reverted" and its hint
 * names the real step; an error reads once (`cancelled`, not `cancelled: cancelled`); the report table fits the width
 * it is given and never cuts text; colour follows Node's rules (`NO_COLOR`, `FORCE_COLOR`, `hasColors`).
 */
import { formatReport } from '../../src/cli/report-table';
import { summaryLine } from '../../src/cli/report-summary';
import { colorsFor } from '../../src/cli/style';
import { renderTable, wrap } from '../../src/cli/table';
import type { ProcessReport } from '../../src/shared/report';
import { reportToMarkdown } from '../../src/shared/render';
import { errorText } from '../../src/shared/wording';

/** A process in park mode whose revert of `lockfile` failed while unwinding a failure at `deploy`. */
function parkedReport(): ProcessReport {
  return {
    processId: 'p-1',
    name: 'release',
    status: 'parked',
    startedAt: '2026-11-22T10:00:00.000Z',
    failedStep: 'deploy',
    error: { type: 'DeployError', message: 'the canary failed' },
    needsAttention: ['lockfile'],
    revertOrder: ['config', 'lockfile'],
    jobs: [
      {
        stepId: 'lockfile',
        job: 'take-lock',
        status: 'revert_failed',
        completedOrder: 1,
        revert: { status: 'parked', error: { type: 'LockBusyError', message: 'held by ci-7' }, attempts: 3 },
      },
      { stepId: 'config', job: 'write-config', status: 'reverted', completedOrder: 2, revert: { status: 'reverted' } },
      {
        stepId: 'deploy',
        job: 'deploy',
        status: 'failed',
        error: { type: 'DeployError', message: 'the canary failed' },
      },
    ],
  };
}

describe('a parked process (a revert failed; waiting for a decision)', () => {
  const decide = 'jipper decide p-1 lockfile retry|skip|mark-reverted';

  test('status: waits for a decision on the real step, never calls it reverted', () => {
    const line = summaryLine(parkedReport());
    expect(line).toContain(
      `waiting for a decision on lockfile (its revert failed: LockBusyError: held by ci-7): ${decide}`
    );
    expect(line).not.toMatch(/reverted [^,]*lockfile/);
    expect(line).not.toContain('<step>');
    expect(line).toContain('reverts, newest first: config → lockfile (revert failed, parked: waiting for a decision)');
  });

  test('report: the header says which revert waits, with the command', () => {
    const text = formatReport(parkedReport());
    expect(text).not.toMatch(/reverted, newest first: .*lockfile/);
    expect(text).toContain(
      `waiting for a decision on lockfile (its revert failed: LockBusyError: held by ci-7): ${decide}`
    );
    expect(text).toContain('reverts, newest first: config → lockfile (revert failed, parked: waiting for a decision)');
  });

  test('Markdown (the Web UI): the same, and the command in code', () => {
    const markdown = reportToMarkdown(parkedReport());
    expect(markdown).not.toMatch(/Reverted, in order: .*lockfile/);
    expect(markdown).toContain(
      `Waiting for a decision on \`lockfile\` (its revert failed: LockBusyError: held by ci-7): \`${decide}\``
    );
    expect(markdown).toContain(
      'Reverts, newest first: config → lockfile (revert failed, parked: waiting for a decision)'
    );
  });

  test('a job parked past the pivot takes retry or skip only', () => {
    const report: ProcessReport = {
      ...parkedReport(),
      needsAttention: ['deploy'],
      revertOrder: [],
      jobs: [{ stepId: 'deploy', job: 'deploy', status: 'failed', error: { type: 'DeployError', message: 'no' } }],
    };
    expect(summaryLine(report)).toContain(
      'waiting for a decision on deploy (it failed past the pivot: DeployError: no): jipper decide p-1 deploy retry|skip'
    );
  });
});

test('an error whose message says its type reads once', () => {
  expect(errorText({ type: 'cancelled', message: 'cancelled' })).toBe('cancelled');
  expect(errorText({ type: 'cancelled', message: 'the process was cancelled' })).toBe('the process was cancelled');
  expect(errorText({ type: 'QuotaAboveLimitError', message: 'quota 64 MB is above 32 MB' })).toBe(
    'QuotaAboveLimitError: quota 64 MB is above 32 MB'
  );
});

describe('the report table fits the width it is given', () => {
  const long = 'export name "share-park" is already used by volume "vol-park" and cannot be taken by another one';
  const report: ProcessReport = {
    processId: 'p-2',
    name: 'provision',
    status: 'reverted',
    startedAt: '2026-11-22T10:00:00.000Z',
    endedAt: '2026-11-22T10:00:05.000Z',
    failedStep: 'export',
    needsAttention: [],
    revertOrder: ['allocate'],
    jobs: [
      {
        stepId: 'allocate',
        job: 'allocate-volume',
        status: 'reverted',
        startedAt: '2026-11-22T10:00:00.000Z',
        endedAt: '2026-11-22T10:00:01.000Z',
        detail: 'allocated 32 MB for /srv/volumes/a-rather-long-volume-name-that-goes-on.img',
        revert: { status: 'reverted', detail: 'released 32 MB' },
      },
      {
        stepId: 'export',
        job: 'export-volume',
        status: 'failed',
        attempts: 3,
        error: { type: 'NameTaken', message: long },
      },
    ],
  };
  /** The text of one column, its lines joined, whitespace dropped (wrapping may break words anywhere). */
  const column = (text: string, index: number) =>
    text
      .split('\n')
      .filter((line) => line.startsWith('│'))
      .map((line) => line.split('│')[index + 1] ?? '')
      .join('')
      .replace(/\s/g, '');

  test.each([60, 80, 100, 120])('%i columns: no line is wider, and no text is cut', (width) => {
    const text = formatReport(report, { width });
    const table = text.split('\n').filter((line) => /^[│┌├└]/.test(line));
    for (const line of table) expect([...line].length).toBeLessThanOrEqual(width);
    expect(text).not.toContain('…');
    // Every character of the error is there, in order, whatever the wrapping.
    expect(column(text, 4)).toContain(`✖ NameTaken: ${long}`.replace(/\s/g, ''));
  });

  test('without a width (--wide) every line of text is whole', () => {
    const text = formatReport(report);
    expect(text.split('\n').some((line) => line.includes(`✖ NameTaken: ${long}`))).toBe(true);
  });

  test('words wrap whole; a word longer than the column is broken, never dropped', () => {
    expect(wrap('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(renderTable({ head: ['a'], rows: [['x']] })).toBe('┌───┐\n│ a │\n├───┤\n│ x │\n└───┘');
  });
});

describe('colour follows Node: hasColors() on a terminal, FORCE_COLOR elsewhere', () => {
  const tty = (colors: boolean) => ({
    write: () => true,
    isTTY: true,
    hasColors: (_count?: number, env?: NodeJS.ProcessEnv) => colors && env?.NO_COLOR === undefined,
  });
  const pipe = { write: () => true, isTTY: false };

  test.each([
    ['a terminal with colours', tty(true), {}, true],
    ['a terminal with NO_COLOR', tty(true), { NO_COLOR: '1' }, false],
    ['a terminal without colours', tty(false), {}, false],
    ['a pipe', pipe, {}, false],
    ['a pipe with FORCE_COLOR=1', pipe, { FORCE_COLOR: '1' }, true],
    ['a pipe with FORCE_COLOR=0', pipe, { FORCE_COLOR: '0' }, false],
    ['a pipe with NO_COLOR and FORCE_COLOR (FORCE_COLOR wins)', pipe, { NO_COLOR: '1', FORCE_COLOR: '1' }, true],
    ['a terminal with NO_COLOR and FORCE_COLOR', tty(true), { NO_COLOR: '1', FORCE_COLOR: '1' }, true],
  ])('%s', (_what, stream, env: NodeJS.ProcessEnv, expected) => {
    expect(colorsFor(stream, env)).toBe(expected);
  });

  test('coloured output is styled by util.styleText, and only then', () => {
    expect(formatReport(parkedReport(), { color: true })).toContain('\u001b[35mparked\u001b[39m');
    expect(formatReport(parkedReport(), { color: false })).not.toContain('\u001b[');
  });
});
