/**
 * Wait steps without a server: the `match` language (parsed, evaluated, refused in one line), a wait step's schema
 * (every problem one line at its path), which decisions apply (`refusal`), and the saga core's outcomes for a wait —
 * a rejection unwinds like a business failure, an expiry follows `onTimeout` — as `jipper plan` and the testing kit's
 * failure matrix see them. Also the wording that shows an open wait with the command that settles it.
 */
import { z } from 'zod';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { JobRegistry } from '../../src/runtime/registry';
import { evaluateMatch, parseMatch, refusal } from '../../src/core/waits';
import type { OpenWait } from '../../src/core/waits';
import { previewPlan } from '../../src/shared/revert-plan';
import { reportToMarkdown } from '../../src/shared/render';
import type { ProcessReport } from '../../src/shared/report';
import { failureMatrix } from '../../src/testing/matrix';
import { compensationCoverage } from '../../src/checks/coverage';
import { processGraph } from '../../src/cli/graph';
import type { ProcessDefinition } from '../../src/schema/definition';

const job = (name: string) =>
  defineJob({ name, input: z.object({}).loose(), run: async () => ({ ok: name }), revert: async () => undefined });
const library = defineLibrary('abc', [job('a'), job('b')]);
const registry = new JobRegistry([library]);

const definition = (gate: Record<string, unknown>) => ({
  name: 'gated',
  params: { orderId: 'o-1' },
  steps: [
    { id: 'charge', job: 'a' },
    { id: 'gate', ...gate },
    { id: 'ship', job: 'b' },
  ],
});

const problems = (value: unknown) => registry.validate(value).problems.map((p) => `${p.path}: ${p.message}`);

describe('match', () => {
  const scope = { event: { orderId: 'o-1', paid: true, n: 2 }, params: { orderId: 'o-1' }, results: {} };
  test.each([
    ['event.orderId == params.orderId', true],
    ["event.orderId == 'o-2'", false],
    ['event.paid && !(event.n != 2)', true],
    ['event.missing == null', true],
    ['event.missing || event.n == 2', true],
    ['!event.paid', false],
    ['results.gate.x == 1', false],
  ])('%s is %s', (text, expected) => {
    expect(evaluateMatch(parseMatch(text), scope)).toBe(expected);
  });

  test.each([
    ['event.orderId ==', 'the expression ends too early'],
    ['event.orderId = 1', 'unexpected "=" at column 15'],
    ['process.env == 1', '"process.env" at column 1 is not a literal or a path under event, params or results'],
    ['(event.a', 'missing ")" for the "(" at column 1'],
    ['"open', 'unterminated string at column 1'],
    ['event.a event.b', 'unexpected text at column 9'],
  ])('%s does not parse: %s', (text, message) => {
    expect(() => parseMatch(text)).toThrow(message);
  });
});

describe('a wait step in a definition', () => {
  test('an approval and an event wait check clean, and plan with no job facts and nothing to revert', () => {
    const checked = registry.validate(definition({ approve: { prompt: 'Ship?', timeout: '1h' } }));
    expect(checked.problems).toEqual([]);
    expect(checked.jobs.find((j) => j.stepId === 'gate')).toMatchObject({
      job: '$approval',
      hasRevert: false,
      wait: { kind: 'approve', prompt: 'Ship?', timeout: '1h' },
    });
    const event = registry.validate(
      definition({ waitFor: { event: 'payment.settled', match: 'event.orderId == params.orderId', timeout: '2h' } })
    );
    expect(event.problems).toEqual([]);
    expect(event.jobs.find((j) => j.stepId === 'gate')?.job).toBe('$event');
  });

  test.each([
    [{ approve: { prompt: 'x', timeout: '1h', color: 'red' } }, 'steps[1].approve: Unrecognized key: "color"'],
    [{ approve: { prompt: 'x', timeout: 'soon' } }, 'steps[1].approve.timeout'],
    [{ approve: { prompt: 'x', timeout: '1h', onTimeout: 'explode' } }, 'steps[1].approve.onTimeout'],
    [{ waitFor: { event: 'e', match: 'event.a ==', timeout: '1h' } }, 'steps[1].waitFor.match: match does not parse'],
    [{ waitFor: { event: 'e' } }, 'steps[1].waitFor.timeout'],
    [
      { approve: { prompt: 'x', timeout: '1h' }, waitFor: { event: 'e', timeout: '1h' } },
      'steps[1]: a wait step has `approve` or `waitFor` (one of the two)',
    ],
    [{ job: '$approval' }, 'steps[1].wait: `wait` is set by Jipper on wait steps only'],
  ])('%j: one line at its path', (gate, expected) => {
    const found = problems(definition(gate));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(expected);
    expect(found[0]).not.toContain('\n');
  });
});

describe('which decisions apply', () => {
  const open: OpenWait[] = [
    { stepId: 'gate', wait: { kind: 'approve', prompt: 'ok?', approvers: ['alice'], timeout: '1h' } },
    { stepId: 'paid', wait: { kind: 'event', event: 'pay', match: 'event.id == params.id', timeout: '1h' } },
  ];
  const scope = { params: { id: 7 }, results: {} };
  test.each([
    [{ action: 'approve', stepId: 'gate', by: 'alice' }, { settles: 'gate' }],
    [
      { action: 'approve', stepId: 'gate', by: 'bob' },
      '"bob" may not decide step "gate" of p: its approvers are alice',
    ],
    [{ action: 'reject', stepId: 'gate', by: 'alice' }, 'a rejection of step "gate" needs a reason'],
    [
      { action: 'approve', stepId: 'paid', by: 'alice' },
      'step "paid" of p is not waiting for an approval (waiting: gate)',
    ],
    [{ action: 'event', event: 'pay', data: { id: 7 } }, { settles: 'paid' }],
    [{ action: 'event', event: 'pay', data: { id: 8 } }, 'event "pay" does not match what p waits for'],
    [{ action: 'event', event: 'other', data: {} }, 'p is not waiting for event "other"'],
  ] as const)('%j', (message, expected) => {
    const answer = refusal('p', open, message, scope);
    if (typeof expected === 'string') expect(answer).toEqual({ refused: expect.stringContaining(expected) as string });
    else expect('settles' in answer && answer.settles.stepId).toBe(expected.settles);
  });
});

describe('the core: a rejection and an expiry as outcomes', () => {
  const preview = (gate: Record<string, unknown>, scenario: Parameters<typeof previewPlan>[3]) => {
    const def = definition(gate);
    const checked = registry.validate(def);
    expect(checked.problems).toEqual([]);
    return previewPlan(checked, checked.definition as never, {}, scenario);
  };
  const approval = (onTimeout?: string) => ({
    approve: { prompt: 'ok?', timeout: '1h', ...(onTimeout ? { onTimeout } : {}) },
  });

  test('a rejection (plan --fail-at the wait) unwinds what ran before it; nothing reverts the wait', () => {
    const run = preview(approval(), { failAt: 'gate' });
    expect(run).toMatchObject({ status: 'reverted', stoppedAt: { stepId: 'gate' }, notRun: ['ship'] });
    expect(run.revertOrder).toEqual(['charge']);
    expect(run.reverts.flat().map((r) => r.stepId)).not.toContain('gate');
  });

  test.each([
    [undefined, 'reverted', ['charge']],
    ['revert', 'reverted', ['charge']],
    ['continue', 'succeeded', []],
    ['park', 'parked', []],
  ])('an expiry with onTimeout %s ends %s', (onTimeout, status, reverted) => {
    const run = preview(approval(onTimeout), { timeoutAt: 'gate' });
    expect(run.status).toBe(status);
    expect(run.revertOrder).toEqual(reverted);
  });

  test('the failure matrix has a rejection and an expiry for a wait, and no job failure for it', () => {
    const ids = failureMatrix(definition(approval()), [library]).map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['reject-gate', 'timeout-gate', 'fail-charge', 'fail-ship']));
    expect(ids).not.toContain('fail-gate');
    const events = failureMatrix(definition({ waitFor: { event: 'e', timeout: '1h' } }), [library]).map((c) => c.id);
    expect(events).toContain('timeout-gate');
    expect(events).not.toContain('reject-gate');
  });
});

test('the Web UI details show an open wait with the command that settles it', () => {
  const report: ProcessReport = {
    processId: 'order-17',
    name: 'gated',
    status: 'waiting',
    startedAt: '2026-01-01T00:00:00.000Z',
    needsAttention: [],
    revertOrder: [],
    jobs: [
      {
        stepId: 'gate',
        job: '$approval',
        status: 'running',
        wait: {
          kind: 'approve',
          prompt: 'Ship?',
          expiresAt: '2026-01-01T01:00:00.000Z',
          settle: 'jipper approve order-17 gate',
        },
      },
    ],
  };
  expect(reportToMarkdown(report)).toContain(
    'Waiting for approval gate ("Ship?"; until 2026-01-01T01:00:00.000Z): jipper approve order-17 gate'
  );
});

test('jipper graph names what each wait waits for', () => {
  const checked = registry.validate(definition({ waitFor: { event: 'payment.settled', timeout: '1h' } }));
  const chart = processGraph(checked.definition as ProcessDefinition, checked.jobs);
  expect(chart).toContain('gate<br/>event: payment.settled');
  const approval = registry.validate(definition({ approve: { prompt: 'Ship?', timeout: '1h' } }));
  expect(processGraph(approval.definition as ProcessDefinition, approval.jobs)).toContain('gate<br/>approval: Ship?');
});

test('jipper check counts no gap at a wait step: it has no effect to leave standing', () => {
  const checked = registry.validate(definition({ approve: { prompt: 'Ship?', timeout: '1h' } }));
  const coverage = compensationCoverage(checked.definition as ProcessDefinition, checked);
  expect(coverage.steps.find((s) => s.stepId === 'gate')).toMatchObject({ status: 'covered' });
});
