/**
 * The Markdown report (the Web UI's current details). A running process re-renders it at every step and the renderer
 * reuses the rows that did not change: every render must equal a render from scratch, whatever changed in between.
 */
import type { JobReport, ProcessReport } from '../../src/shared/report';
import { reportToMarkdown } from '../../src/shared/render';

function report(): ProcessReport {
  return {
    processId: 'p-1',
    runId: 'r-1',
    name: 'provision',
    status: 'running',
    startedAt: '2026-11-22T10:00:00.000Z',
    needsAttention: [],
    revertOrder: [],
    jobs: [
      { stepId: 'alloc', job: 'allocate-volume', status: 'pending' },
      { stepId: 'fs', job: 'create-filesystem', group: 'prepare', status: 'pending' },
      { stepId: 'quota', job: 'set-quota', group: 'prepare', pivot: true, status: 'pending' },
    ],
  };
}

/** A render that cannot reuse anything: a deep copy has new row objects. */
const fresh = (r: ProcessReport) => reportToMarkdown(structuredClone(r));

const row = (r: ProcessReport, stepId: string) => r.jobs.find((j) => j.stepId === stepId) as JobReport;

test('each render after a change shows the change, exactly as a render from scratch does', () => {
  const r = report();
  const changes: [string, (r: ProcessReport) => void, RegExp][] = [
    [
      'start',
      (r) => Object.assign(row(r, 'alloc'), { status: 'running', startedAt: '2026-11-22T10:00:00.000Z' }),
      /^- \*\*alloc\*\* · allocate-volume · running$/m,
    ],
    [
      'finish',
      (r) => Object.assign(row(r, 'alloc'), { status: 'succeeded', endedAt: '2026-11-22T10:00:01.500Z', attempts: 2 }),
      /· succeeded \(2 attempts\) · 1\.5s$/m,
    ],
    ['detail', (r) => (row(r, 'alloc').detail = 'allocated 10 GiB'), /allocated 10 GiB/],
    [
      'error',
      (r) => Object.assign(row(r, 'fs'), { status: 'failed', error: { type: 'DiskFull', message: 'no | space' } }),
      /— ✖ DiskFull: no \\\| space$/m,
    ],
    ['revert', (r) => (row(r, 'alloc').revert = { status: 'running' }), /↩ reverting$/m],
    [
      'revert ends',
      (r) =>
        Object.assign(row(r, 'alloc').revert as object, {
          status: 'revert_failed',
          error: { type: 'Busy', message: 'still mounted' },
        }),
      /↩ revert failed: Busy: still mounted$/m,
    ],
    [
      'operator',
      (r) => Object.assign(row(r, 'alloc').revert as object, { status: 'skipped', reason: 'skipped by an operator' }),
      /↩ revert skipped \(skipped by an operator\): Busy: still mounted$/m,
    ],
  ];
  expect(reportToMarkdown(r)).toBe(fresh(r));
  for (const [what, change, shows] of changes) {
    change(r);
    const rendered = reportToMarkdown(r);
    expect({ what, rendered }).toEqual({ what, rendered: fresh(r) });
    expect(rendered).toMatch(shows);
  }
});

test('an unchanged report renders the same twice', () => {
  const r = report();
  Object.assign(row(r, 'quota'), {
    status: 'succeeded',
    startedAt: '2026-11-22T10:00:00.000Z',
    endedAt: '2026-11-22T10:00:00.250Z',
  });
  expect(reportToMarkdown(r)).toBe(reportToMarkdown(r));
  expect(reportToMarkdown(r)).toMatch(/^- \*\*prepare\/quota\*\* ⚑ pivot · set-quota · succeeded · 250ms$/m);
});

test("an operator's revisions are told in the Web UI's details, each with its reason", () => {
  const r = report();
  expect(reportToMarkdown(r)).not.toMatch(/Revised/);
  r.revisions = [
    { at: '2026-11-22T10:00:02.000Z', reason: 'quota | first', added: ['quota2'], removed: ['fs'] },
    { at: '2026-11-22T10:00:03.000Z', added: [], removed: [] },
  ];
  const rendered = reportToMarkdown(r);
  expect(rendered).toContain('Revised at 2026-11-22T10:00:02.000Z (quota \\| first): added quota2; removed fs');
  expect(rendered).toContain('Revised at 2026-11-22T10:00:03.000Z: steps changed');
  expect(rendered).toBe(fresh(r));
});
