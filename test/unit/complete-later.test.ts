/**
 * `ctx.completeLater` in the activity runtime, with Temporal's MockActivityEnvironment: the run hands out a token that
 * carries the attempt's task token and namespace and names its process, step and attempt; it heartbeats that it
 * awaits completion, then ends with CompleteAsyncError. A hand-out that fails fails the attempt as any error does; a
 * revert may not complete later. The token's text is checked where it enters, one line per problem.
 */
import { ApplicationFailure, CompleteAsyncError } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import fc from 'fast-check';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { JobRegistry } from '../../src/runtime/registry';
import {
  COMPLETION_TOKEN_PREFIX,
  encodeCompletionToken,
  parseCompletionToken,
} from '../../src/runtime/completion-token';
import { awaitingCompletionOf } from '../../src/runtime/complete-later';
import { decodeCompletionToken } from '../../src/client/callbacks';
import type { JobCall, LocalRunCall, LocalRunOutcome, RevertCall } from '../../src/shared/calls';
import { LOCAL_RUN_ACTIVITY } from '../../src/shared/calls';
import { COMPLETE_LATER_REFUSED_TYPE } from '../../src/shared/errors';

const handedOut: string[] = [];
const charge = defineJob({
  name: 'charge',
  input: z.object({ failHandOut: z.boolean().default(false) }),
  async run(input, ctx) {
    return ctx.completeLater<{ chargeId: string }>(async (token) => {
      if (input.failHandOut) throw new Error('the provider is down');
      handedOut.push(token);
    });
  },
  async revert(_input, _result, ctx) {
    await ctx.completeLater(() => undefined);
  },
});
const registry = new JobRegistry([defineLibrary('unit', [charge])]);

const call = (input: unknown): JobCall => ({ processId: 'order-7', stepId: 'pay', job: 'charge', input, results: {} });

async function run(activity: string, arg: JobCall | RevertCall, env: MockActivityEnvironment): Promise<unknown> {
  const fn = registry.activities()[activity];
  if (!fn) throw new Error(`no activity ${activity}`);
  return env.run<[JobCall | RevertCall], unknown, typeof fn>(fn, arg).then(
    () => undefined,
    (err: unknown) => err
  );
}

test('a run that completes later hands out a token naming its attempt, heartbeats it, and ends asynchronously', async () => {
  handedOut.length = 0;
  const taskToken = Buffer.from('a task token of the attempt');
  const env = new MockActivityEnvironment({ attempt: 3, taskToken, namespace: 'billing' });
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(details));

  const err = await run('charge.run', call({}), env);

  expect(err).toBeInstanceOf(CompleteAsyncError);
  expect(handedOut).toHaveLength(1);
  const token = handedOut[0] as string;
  expect(token.startsWith(COMPLETION_TOKEN_PREFIX)).toBe(true);
  const parsed = parseCompletionToken(token);
  expect(parsed).toEqual({
    ok: true,
    token: { namespace: 'billing', taskToken, processId: 'order-7', stepId: 'pay', job: 'charge', attempt: 3 },
  });
  expect(beats.map(awaitingCompletionOf)).toEqual([{ token }]);
  expect(decodeCompletionToken(token)).toEqual({
    namespace: 'billing',
    processId: 'order-7',
    stepId: 'pay',
    job: 'charge',
    attempt: 3,
  });
});

test('a hand-out that throws fails the attempt (retryably), not asynchronously', async () => {
  const err = await run('charge.run', call({ failHandOut: true }), new MockActivityEnvironment());
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type: 'Error', message: 'the provider is down', nonRetryable: false });
});

test('a local job (a local activity, alone or in a run) that calls completeLater fails for good, handing out nothing', async () => {
  handedOut.length = 0;
  const alone = await run('charge.run', call({}), new MockActivityEnvironment({ attempt: 1, isLocal: true }));
  expect(alone).toMatchObject({ type: COMPLETE_LATER_REFUSED_TYPE, nonRetryable: true });
  expect((alone as Error).message).toMatch(
    /in its run as a local job: a local job .* cannot be completed from outside/
  );
  const localRun = registry.activities()[LOCAL_RUN_ACTIVITY] as (run: LocalRunCall) => Promise<LocalRunOutcome>;
  const inRun = await new MockActivityEnvironment({ attempt: 1, isLocal: true }).run(localRun, {
    members: [{ call: call({}), timeoutMs: 5_000 }],
  });
  expect(inRun).toMatchObject({
    outcomes: [],
    failure: { index: 0, type: COMPLETE_LATER_REFUSED_TYPE, nonRetryable: true },
  });
  expect(handedOut).toEqual([]);
});

test('a revert that calls completeLater fails for good', async () => {
  const revert: RevertCall = { ...call({}), result: null, afterFailure: false };
  const err = await run('charge.revert', revert, new MockActivityEnvironment());
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type: COMPLETE_LATER_REFUSED_TYPE, nonRetryable: true });
  expect((err as Error).message).toMatch(/only a job's run may be completed from outside/);
});

describe('a malformed token is one line that says what is wrong', () => {
  const good = encodeCompletionToken({
    namespace: 'default',
    taskToken: Buffer.from('0123456789abcdef'),
    processId: 'p',
    stepId: 's',
    job: 'j',
    attempt: 1,
  });
  const body = (value: unknown) =>
    `${COMPLETION_TOKEN_PREFIX}${Buffer.from(JSON.stringify(value)).toString('base64url')}`;
  const cases: [string, string, RegExp][] = [
    ['no prefix', 'abc', /does not start with "jc1\."/],
    ['not base64url', 'jc1.a+b/c', /is not base64url/],
    ['not JSON', `jc1.${Buffer.from('{oops').toString('base64url')}`, /body is not JSON/],
    [
      'a field missing',
      body({ ns: 'default', tt: 'AAAAAAAAAAAA', p: 'p', s: 's', j: 'j' }),
      /^malformed completion token: a: /,
    ],
    [
      'an unknown field',
      body({ ...JSON.parse(Buffer.from(good.slice(4), 'base64url').toString()), x: 1 }),
      /Unrecognized key/,
    ],
    ['too long', `jc1.${'A'.repeat(9000)}`, /at most 8192/],
  ];
  test.each(cases)('%s', (_name, text, expected) => {
    const parsed = parseCompletionToken(text);
    expect(parsed.ok).toBe(false);
    const problem = (parsed as { problem: string }).problem;
    expect(problem).toMatch(expected);
    expect(problem).not.toMatch(/\n/);
  });
  test('a good token round-trips', () => {
    expect(parseCompletionToken(` ${good}\n`).ok).toBe(true);
  });
});

test('any text is a token or one line saying what is wrong, and every token round-trips', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.string().map((s) => `jc1.${s}`)
      ),
      (text) => {
        const parsed = parseCompletionToken(text);
        if (!parsed.ok) expect(parsed.problem).toMatch(/^malformed completion token: [^\n]+$/);
      }
    ),
    { numRuns: 2_000 }
  );
  const id = fc.string({ minLength: 1, maxLength: 200 });
  fc.assert(
    fc.property(
      fc.record({
        namespace: id,
        taskToken: fc.uint8Array({ minLength: 6, maxLength: 600 }),
        processId: id,
        stepId: id,
        job: id,
        attempt: fc.integer({ min: 1, max: 1_000 }),
      }),
      (token) => {
        const parsed = parseCompletionToken(encodeCompletionToken(token));
        expect(parsed).toEqual({ ok: true, token: { ...token, taskToken: Buffer.from(token.taskToken) } });
      }
    ),
    { numRuns: 500 }
  );
});
