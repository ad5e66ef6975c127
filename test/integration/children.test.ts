/**
 * Child processes (a step `process:`) on a real server, checked on the jobs' own journal: a child runs as a Temporal
 * child workflow and its outputs feed later steps; a child that fails unwinds itself and then its parent unwinds; a
 * parent that fails after a child succeeded reverts the child's jobs inside a child workflow, newest first, at the
 * child's place in its LIFO order; a grandchild fails at each level; a child past its pivot puts its parent past one;
 * cancelling the parent cancels the child, which unwinds itself.
 */
import { randomUUID } from 'node:crypto';
import { decide, getReport, runProcess, startProcess, waitForReport } from '../../src/client';
import { flatTree, withLiveChildren } from '../../src/client/children';
import { watchProcess } from '../../src/client/watch';
import { summaryLine } from '../../src/cli/report-summary';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { ProcessReport } from '../../src/shared/report';
import { previewPlan } from '../../src/shared/revert-plan';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
const blocked = new Set<string>();
let tw: TestWorker;

beforeAll(async () => {
  tw = await startTestWorker([journalLibrary(journal, blocked)], 'children');
});
afterAll(async () => {
  await tw?.shutdown();
});

type Step = ProcessDefinition['steps'][number];
const task = (id: string, args: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Step => ({
  id,
  job: 'task',
  args: { value: id, ...args },
  ...extra,
});
const child = (id: string, definition: ProcessDefinition, params?: Record<string, unknown>): Step =>
  ({ id, process: definition, ...(params ? { params } : {}) }) as unknown as Step;

/** What the jobs did under a process (its children's included: their ids begin with the parent's), in order. */
const ledger = (report: ProcessReport, kind: JournalEntry['kind']) =>
  journal
    .filter((e) => e.key.startsWith(`${report.processId}/`) && e.kind === kind)
    .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
    .map((e) => e.stepId);

const run = (definition: ProcessDefinition) =>
  runProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry: tw.registry, id: `kids-${randomUUID()}` });

const database = (fail?: string): ProcessDefinition => ({
  name: 'database',
  params: { owner: 'nobody' },
  outputs: { url: { $from: 'db-create.value' }, owner: { $param: 'owner' } },
  steps: [
    task('db-create', { value: { $param: 'owner' } }),
    task('db-grant', fail === 'db-grant' ? { outcome: 'fail-nonretryable' } : {}),
  ],
});

describe('a child process step', () => {
  it('runs as a child workflow; its outputs feed later steps; the report nests its rows', async () => {
    const report = await run({
      name: 'tenant',
      params: { tenant: 'acme' },
      steps: [
        task('account'),
        child('db', database(), { owner: { $param: 'tenant' } }),
        task('dns', { value: { $from: 'db.url' } }),
      ],
    });
    expect(report.status).toBe('succeeded');
    expect(ledger(report, 'run')).toEqual(['account', 'db-create', 'db-grant', 'dns']);
    const dns = journal.find((e) => e.key.startsWith(`${report.processId}/`) && e.stepId === 'dns');
    expect(dns?.input).toMatchObject({ value: 'acme' });
    const row = report.jobs.find((j) => j.stepId === 'db');
    expect(row).toMatchObject({
      job: 'process:database',
      status: 'succeeded',
      result: { url: 'acme', owner: 'acme' },
      child: { processId: `${report.processId}/db`, name: 'database', report: { status: 'succeeded' } },
    });
    expect(row?.child?.report?.jobs.map((j) => [j.stepId, j.status])).toEqual([
      ['db-create', 'succeeded'],
      ['db-grant', 'succeeded'],
    ]);
    // Temporal's own parent–child link, and Jipper's search attributes on the child.
    const described = await tw.client.workflow.getHandle(`${report.processId}/db`).describe();
    expect(described.parentExecution?.workflowId).toBe(report.processId);
    expect(described.searchAttributes.JipperProcess).toEqual(['database']);
    expect(described.searchAttributes.JipperStatus).toEqual(['succeeded']);
  });

  it('that fails unwinds itself, then the parent unwinds', async () => {
    const report = await run({
      name: 'tenant',
      steps: [task('account'), child('db', database('db-grant'), { owner: 'x' }), task('dns')],
    });
    expect(report.status).toBe('reverted');
    expect(report.failedStep).toBe('db');
    expect(report.error?.message).toMatch(/^child process database reverted at step "db-grant"/);
    expect(ledger(report, 'run')).toEqual(['account', 'db-create', 'db-grant']);
    expect(ledger(report, 'revert')).toEqual(['db-create', 'account']);
    const row = report.jobs.find((j) => j.stepId === 'db');
    expect(row?.status).toBe('failed');
    expect(row?.child?.report?.jobs.map((j) => j.status)).toEqual(['reverted', 'failed']);
  });

  it("reverts a child that succeeded inside a child workflow, at its place in the parent's LIFO order", async () => {
    const report = await run({
      name: 'tenant',
      steps: [
        task('account'),
        child('db', database(), { owner: 'x' }),
        task('dns'),
        task('mail', { outcome: 'fail-nonretryable' }),
      ],
    });
    expect(report.status).toBe('reverted');
    expect(ledger(report, 'revert')).toEqual(['dns', 'db-grant', 'db-create', 'account']);
    expect(report.revertOrder).toEqual(['dns', 'db', 'account']);
    // Reverted under the child's own id, as its own unwind would have: its jobs find the effects they made.
    const childReverts = journal.filter((e) => e.kind === 'revert' && e.key.startsWith(`${report.processId}/db/`));
    expect(childReverts.map((e) => e.key).sort()).toEqual([
      `${report.processId}/db/db-create/revert`,
      `${report.processId}/db/db-grant/revert`,
    ]);
    const row = report.jobs.find((j) => j.stepId === 'db');
    expect(row).toMatchObject({
      status: 'reverted',
      child: { revertId: `${report.processId}/db/revert`, report: { status: 'reverted' } },
    });
    expect(row?.child?.held).toBeUndefined();
    const unwound = await tw.client.workflow.getHandle(`${report.processId}/db/revert`).describe();
    expect(unwound.parentExecution?.workflowId).toBe(report.processId);
  });

  it('works in a parallel group and with needs: children side by side, reverted as one unit, newest first', async () => {
    const report = await run({
      name: 'tenant',
      steps: [
        task('account'),
        {
          id: 'stores',
          parallel: [
            child('db', database(), { owner: 'x' }) as never,
            child('bucket', { name: 'bucket', steps: [task('b-create'), task('b-policy')] }) as never,
          ],
        },
        task('dns', { value: { $from: 'db.url' } }, { needs: ['stores'] }),
        task('mail', { outcome: 'fail-nonretryable' }),
      ],
    });
    expect(report.status).toBe('reverted');
    const reverts = ledger(report, 'revert');
    expect(reverts.slice(0, 1)).toEqual(['dns']);
    expect(reverts.at(-1)).toBe('account');
    // Each child's own unwind keeps its order (the two children are reverted side by side).
    expect(reverts.indexOf('db-grant')).toBeLessThan(reverts.indexOf('db-create'));
    expect(reverts.indexOf('b-policy')).toBeLessThan(reverts.indexOf('b-create'));
    expect(reverts).toHaveLength(6);
  });

  it('continues as new with a finished child on the stack, and still reverts it in its place', async () => {
    const many = Array.from({ length: 14 }, (_, i) => task(`t${i}`));
    const report = await run({
      name: 'long-tenant',
      options: { continueAsNewAfterEvents: 100 },
      steps: [
        task('account'),
        child('db', database(), { owner: 'x' }),
        ...many,
        task('mail', { outcome: 'fail-nonretryable' }),
      ],
    });
    expect(report.status).toBe('reverted');
    expect(report.continuedAsNew).toBeGreaterThan(0);
    const reverts = ledger(report, 'revert');
    expect(reverts.slice(-3)).toEqual(['db-grant', 'db-create', 'account']);
    expect(reverts).toHaveLength(many.length + 3);
  });

  it("a park inside a child shows in the parent's status, with the decide command against the parent's id", async () => {
    const id = `kids-${randomUUID()}`;
    blocked.add('db-grant');
    try {
      const parkable = { revertOn: ['business'], otherwise: 'park' };
      const handle = await startProcess(
        tw.client,
        {
          name: 'tenant',
          steps: [
            task('account'),
            child('db', { name: 'database', steps: [task('db-create'), task('db-grant', {}, parkable)] }),
            task('dns'),
          ],
        },
        { taskQueue: tw.taskQueue, registry: tw.registry, id }
      );
      let line = '';
      for (let i = 0; i < 200 && !line.includes('waiting for a decision'); i++) {
        await new Promise((r) => setTimeout(r, 50));
        line = summaryLine(flatTree(await withLiveChildren(tw.client, await getReport(tw.client, id))));
      }
      expect(line).toContain(`${id}: tenant parked`);
      expect(line).toContain(`jipper decide ${id} db/db-grant retry|skip`);
      blocked.delete('db-grant');
      await expect(decide(tw.client, id, 'db/db-grant', 'retry')).resolves.toMatchObject({
        stepId: 'db/db-grant',
        accepted: true,
      });
      const report = await waitForReport(handle);
      expect(report.status).toBe('succeeded');
      expect(ledger(report, 'run').filter((s) => s === 'db-grant').length).toBeGreaterThanOrEqual(3);
    } finally {
      blocked.delete('db-grant');
    }
  });

  it("the parent's deadline bounds its child: the child is stopped and unwinds itself, then the parent", async () => {
    blocked.add('slow/hold');
    try {
      const report = await run({
        name: 'tenant',
        options: { deadline: '1500ms' },
        steps: [
          task('account'),
          child('db', { name: 'database', steps: [task('db-create'), task('slow')] }),
          task('dns'),
        ],
      });
      expect(report.status).toBe('reverted');
      expect(report.error?.type).toBe('deadline');
      expect(ledger(report, 'revert')).toEqual(['db-create', 'account']);
      // A cancelled child's failure carries no report: the tree view reads it from the child.
      const tree = await withLiveChildren(tw.client, report);
      expect(tree.jobs.find((j) => j.stepId === 'db')?.child?.report?.status).toBe('cancelled');
    } finally {
      blocked.delete('slow/hold');
    }
  });

  it("keeps a child's tokens while its effects stand, and releases them after its reverts", async () => {
    const lock = `lock-${randomUUID()}`;
    blocked.add('mid/hold');
    try {
      const parent = await startProcess(
        tw.client,
        {
          name: 'tenant',
          steps: [
            child('kid', { name: 'database', steps: [task('db-create', {}, { tokens: [lock] })] }),
            task('mid'),
            task('mail', { outcome: 'fail-nonretryable' }),
          ],
        },
        { taskQueue: tw.taskQueue, registry: tw.registry, id: `kids-${randomUUID()}` }
      );
      const mine = (stepId: string, kind: JournalEntry['kind'] = 'run') =>
        journal.find((e) => e.key.startsWith(`${parent.workflowId}/`) && e.stepId === stepId && e.kind === kind);
      for (let i = 0; i < 200 && !mine('mid'); i++) await new Promise((r) => setTimeout(r, 50));
      // The child has succeeded and ended; another process that wants its token waits for it.
      const other = await startProcess(
        tw.client,
        { name: 'other', steps: [task('wants-lock', {}, { tokens: [lock], waitFor: '60s' })] },
        { taskQueue: tw.taskQueue, registry: tw.registry, id: `kids-other-${randomUUID()}` }
      );
      await new Promise((r) => setTimeout(r, 1000));
      const theirs = () => journal.find((e) => e.key.startsWith(`${other.workflowId}/`) && e.stepId === 'wants-lock');
      expect(theirs()).toBeUndefined();
      blocked.delete('mid/hold');
      expect((await waitForReport(parent)).status).toBe('reverted');
      expect((await waitForReport(other)).status).toBe('succeeded');
      // It got the token only once the child's job had been reverted.
      expect(theirs()?.at).toBeGreaterThanOrEqual(mine('db-create', 'revert')?.end ?? Infinity);
    } finally {
      blocked.delete('mid/hold');
    }
  });

  it('watch follows the child live: which child and which step the parent is at', async () => {
    const id = `kids-${randomUUID()}`;
    blocked.add('db-wait/hold');
    try {
      const handle = await startProcess(
        tw.client,
        { name: 'tenant', steps: [child('db', { name: 'database', steps: [task('db-wait')] }), task('dns')] },
        { taskQueue: tw.taskQueue, registry: tw.registry, id }
      );
      const seen: string[] = [];
      const final = await watchProcess(tw.client, handle, {
        intervalMs: 100,
        expand: (r) => withLiveChildren(tw.client, r),
        onReport: (r) => {
          const running = flatTree(r)
            .jobs.filter((j) => j.status === 'running')
            .map((j) => j.stepId);
          seen.push(running.join(','));
          if (running.includes('db/db-wait')) blocked.delete('db-wait/hold');
        },
      });
      expect(seen).toContain('db,db/db-wait');
      expect(final.status).toBe('succeeded');
      expect(flatTree(final).jobs.map((j) => `${j.stepId}:${j.status}`)).toEqual([
        'db:succeeded',
        'db/db-wait:succeeded',
        'dns:succeeded',
      ]);
    } finally {
      blocked.delete('db-wait/hold');
    }
  });

  describe('nested twice (a grandchild), with a failure at each level', () => {
    const tree = (failAt: string): ProcessDefinition => ({
      name: 'top',
      steps: [
        task('p1'),
        child('mid', {
          name: 'middle',
          steps: [
            task('m1'),
            child('low', {
              name: 'lowest',
              steps: [task('g1'), task('g2', failAt === 'g2' ? { outcome: 'fail-nonretryable' } : {})],
            }),
            task('m2', failAt === 'm2' ? { outcome: 'fail-nonretryable' } : {}),
          ],
        }),
        task('p2', failAt === 'p2' ? { outcome: 'fail-nonretryable' } : {}),
      ],
    });
    it.each([
      ['g2', 'mid/low/g2', ['g1', 'm1', 'p1']],
      ['m2', 'mid/m2', ['g2', 'g1', 'm1', 'p1']],
      ['p2', 'p2', ['m2', 'g2', 'g1', 'm1', 'p1']],
    ])('a failure at %s (%s) reverts %j, in that order, as the preview says', async (failAt, path, reverts) => {
      const report = await run(tree(failAt));
      expect(report.status).toBe('reverted');
      expect(ledger(report, 'revert')).toEqual(reverts);
      // `jipper plan --fail-at <path>` (the preview, the saga core's simulation) says the same order.
      const checked = tw.registry.validate(tree(''));
      const preview = previewPlan(checked, checked.definition as ProcessDefinition, {}, { failAt: path });
      expect(preview.revertOrder.map((p) => p.split('/').at(-1))).toEqual(reverts);
    });
  });

  it("a child past its own pivot puts the parent past a pivot: the parent's failure unwinds nothing", async () => {
    const report = await run({
      name: 'tenant',
      steps: [
        task('account'),
        child('db', { name: 'database', steps: [task('db-create', {}, { pivot: true })] }),
        task('mail', { outcome: 'fail-nonretryable' }),
      ],
    });
    expect(report.status).toBe('failed');
    expect(report.stoppedPastPivot).toBe(true);
    expect(ledger(report, 'revert')).toEqual([]);
  });

  it('cancelling the parent cancels the child, which unwinds itself; then the parent unwinds', async () => {
    const id = `kids-${randomUUID()}`;
    blocked.add('db-hold/hold');
    const handle = await startProcess(
      tw.client,
      {
        name: 'tenant',
        steps: [
          task('account'),
          child('db', { name: 'database', steps: [task('db-create'), task('db-hold')] }),
          task('dns'),
        ],
      },
      { taskQueue: tw.taskQueue, registry: tw.registry, id }
    );
    try {
      for (let i = 0; i < 200 && !journal.some((e) => e.key.startsWith(`${id}/`) && e.stepId === 'db-hold'); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      // Status says which child and which step the parent is at.
      const line = summaryLine(flatTree(await withLiveChildren(tw.client, await getReport(tw.client, id))));
      expect(line).toMatch(/running .*db\/db-hold/);
      await handle.cancel();
      const report = await waitForReport(handle);
      expect(report.status).toBe('cancelled');
      expect(ledger(report, 'revert')).toEqual(['db-create', 'account']);
      const kid = await getReport(tw.client, `${id}/db`);
      expect(kid.status).toBe('cancelled');
    } finally {
      blocked.delete('db-hold/hold');
    }
  });
});
