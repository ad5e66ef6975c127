/**
 * `ctx.results` is a plain object to everything that probes one (JSON, spread, structuredClone, util.inspect, `in`,
 * Object.entries, jest's matchers, a thenable check): only a read of another step of the process that the step does
 * not declare throws. On a real server, inside a job.
 */
import { inspect } from 'node:util';
import { z } from 'zod';
import { runProcess } from '../../src/client';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { UNDECLARED_RESULT_TYPE } from '../../src/shared/errors';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

let tw: TestWorker;

const produce = defineJob({
  name: 'produce',
  input: z.object({ value: z.number() }),
  async run(input) {
    return { value: input.value };
  },
});

/** Handles ctx.results as a job that logs or checks its inputs would, and returns what it saw. */
const handle = defineJob({
  name: 'handle-results',
  input: z.object({ read: z.string().optional() }),
  async run(input, ctx) {
    const results = ctx.results;
    if (input.read !== undefined) return { read: results[input.read] ?? null };
    expect(results).toEqual({ a: { value: 1 } });
    expect(results).toMatchObject({ a: { value: 1 } });
    expect(results).toStrictEqual({ a: { value: 1 } });
    const probed = results as Record<string, unknown>;
    return {
      json: JSON.stringify(results),
      spread: { ...results },
      cloned: structuredClone(results),
      inspected: inspect(results),
      has: { a: 'a' in results, b: 'b' in results, toJSON: 'toJSON' in results },
      entries: Object.entries(results),
      keys: Object.keys(results),
      probes: [probed.toJSON, probed.then, probed.asymmetricMatch, probed.$$typeof, probed.inspect].map(String),
      thenable: await Promise.resolve(results).then((r) => Object.keys(r)),
    };
  },
});

beforeAll(async () => {
  tw = await startTestWorker([defineLibrary('results-object', [produce, handle])], 'results-object');
});
afterAll(async () => {
  await tw?.shutdown();
});

const definition = (name: string, read?: string): ProcessDefinition => ({
  name,
  steps: [
    { id: 'a', job: 'produce', args: { value: 1 } },
    { id: 'b', job: 'produce', args: { value: 2 } },
    { id: 'c', job: 'handle-results', args: read === undefined ? {} : { read }, uses: ['a'] },
  ],
});

const run = (def: ProcessDefinition) => runProcess(tw.client, def, { taskQueue: tw.taskQueue, registry: tw.registry });

test('inside a job, ctx.results answers JSON, spread, structuredClone, inspect, in, entries and matchers', async () => {
  const report = await run(definition('plain-results'));
  expect(report.error).toBeUndefined();
  expect(report.status).toBe('succeeded');
  expect(report.jobs[2]?.result).toEqual({
    json: '{"a":{"value":1}}',
    spread: { a: { value: 1 } },
    cloned: { a: { value: 1 } },
    inspected: '{ a: { value: 1 } }',
    has: { a: true, b: true, toJSON: false },
    entries: [['a', { value: 1 }]],
    keys: ['a'],
    probes: ['undefined', 'undefined', 'undefined', 'undefined', 'undefined'],
    thenable: ['a'],
  });
});

test('a key that names no step reads undefined; another step the job does not declare fails, clearly', async () => {
  const other = await run(definition('plain-other-key', 'toJSON'));
  expect(other.status).toBe('succeeded');
  expect(other.jobs[2]?.result).toEqual({ read: null });

  const undeclared = await run(definition('undeclared-step', 'b'));
  expect(undeclared).toMatchObject({ status: 'reverted', failedStep: 'c' });
  expect(undeclared.error?.type).toBe(UNDECLARED_RESULT_TYPE);
  expect(undeclared.error?.message).toContain('add `uses: [b]` to the step');
});
