/**
 * Typos are caught before anything runs, each with a "did you mean": a run parameter the process has no use for
 * (`--set bukket=...`), an arg the job's input schema does not know (zod would drop it and run with the default), and
 * a `$from` path that is not in the result the earlier job's output schema describes. A parameter that is not set is
 * reported once, not again as a schema error at the same place.
 */
import { z } from 'zod';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { JobRegistry } from '../../src/runtime/registry';
import type { ProcessDefinition } from '../../src/schema/definition';

const createBucket = defineJob({
  name: 'create-bucket',
  input: z.object({
    bucket: z.string(),
    region: z.string().default('eu-1'),
    tags: z.object({ owner: z.string().optional(), team: z.string().optional() }).optional(),
    rules: z.array(z.object({ prefix: z.string(), days: z.number() })).default([]),
    extra: z.looseObject({ kept: z.string().optional() }).optional(),
    target: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('disk'), path: z.string() }),
        z.object({ kind: z.literal('net'), host: z.string() }),
      ])
      .optional(),
  }),
  output: z.object({ url: z.string(), bucket: z.string(), placement: z.object({ zone: z.string() }) }),
  run: async (input) => ({ url: `s3://${input.bucket}`, bucket: input.bucket, placement: { zone: 'a' } }),
  revert: async () => undefined,
});
const untyped = defineJob({ name: 'untyped', input: z.object({ from: z.unknown() }), run: async () => ({ any: 1 }) });
const registry = new JobRegistry([defineLibrary('typos', [createBucket, untyped])]);

const definition = (args: Record<string, unknown>, next?: Record<string, unknown>): ProcessDefinition => ({
  name: 'typos',
  params: { bucket: 'b-1' },
  steps: [
    { id: 'make', job: 'create-bucket', args: { bucket: { $param: 'bucket' }, ...args } },
    ...(next ? [{ id: 'next', job: 'untyped', args: next }] : []),
  ],
});

const problems = (def: unknown, params: Record<string, unknown> = {}) =>
  registry.validate(def, params).problems.map((p) => `${p.path}: ${p.message}`);

describe('a run parameter the process has no use for', () => {
  test('is refused, with the parameter it was probably meant to be', () => {
    expect(problems(definition({}), { bukket: 'zzz' })).toEqual([
      'params.bukket: unknown parameter "bukket": the process neither declares nor uses it (did you mean "bucket"?); its parameters: bucket',
    ]);
  });

  test('a parameter the steps use but the definition does not declare is fine', () => {
    expect(problems(definition({ region: { $param: 'region' } }), { region: 'eu-2' })).toEqual([]);
  });
});

describe('an arg the job does not know', () => {
  test('at the top of args: refused with a "did you mean" and the args the job takes', () => {
    expect(problems(definition({ regoin: 'eu-2' }))).toEqual([
      'steps[0].args.regoin: job "create-bucket" has no arg "regoin" (did you mean "region"?); it takes: bucket, region, tags, rules, extra, target',
    ]);
  });

  test('inside a nested object and inside list items', () => {
    expect(problems(definition({ tags: { ownr: 'me' }, rules: [{ prefix: 'a/', days: 1, dayz: 2 }] }))).toEqual([
      'steps[0].args.tags.ownr: job "create-bucket" has no key "ownr" in args.tags (did you mean "owner"?); it takes: owner, team',
      'steps[0].args.rules[0].dayz: job "create-bucket" has no key "dayz" in args.rules[0] (did you mean "days"?); it takes: prefix, days',
    ]);
  });

  test('in the option of a union that takes the value', () => {
    expect(problems(definition({ target: { kind: 'net', host: 'h', pth: '/x' } }))).toEqual([
      'steps[0].args.target.pth: job "create-bucket" has no key "pth" in args.target; it takes: kind, host',
    ]);
  });

  test('an object that keeps unknown keys on purpose (looseObject) is left alone', () => {
    expect(problems(definition({ extra: { anything: 1 } }))).toEqual([]);
  });

  test('a $param value is checked as it will arrive', () => {
    expect(problems(definition({ tags: { $param: 'tags' } }), { tags: { teem: 'x' } })).toEqual([
      'steps[0].args.tags.teem: job "create-bucket" has no key "teem" in args.tags (did you mean "team"?); it takes: owner, team',
    ]);
  });
});

describe('a $from path against the output schema of the job it reads', () => {
  test('a path the result has passes', () => {
    expect(problems(definition({}, { from: { $from: 'make.placement.zone' } }))).toEqual([]);
  });

  test('a path it has not is refused, with what it has', () => {
    expect(problems(definition({}, { from: { $from: 'make.nosuchfield' } }))).toEqual([
      'steps[1].args.from: $from "make.nosuchfield": the result of step "make" (job "create-bucket") has no "nosuchfield"; it has: url, bucket, placement',
    ]);
    expect(problems(definition({}, { from: { $from: 'make.placement.zoen' } }))).toEqual([
      'steps[1].args.from: $from "make.placement.zoen": the result of step "make" (job "create-bucket") has no "zoen" at "placement" (did you mean "zone"?); it has: zone',
    ]);
    expect(problems(definition({}, { from: { $from: 'make.url.host' } }))).toEqual([
      'steps[1].args.from: $from "make.url.host": the result of step "make" (job "create-bucket") is a string at "url"; it has no "host"',
    ]);
  });

  test('a job without an output schema: any path passes (the result is known only at run time)', () => {
    const def: ProcessDefinition = {
      name: 'typos',
      steps: [
        { id: 'a', job: 'untyped', args: { from: 1 } },
        { id: 'b', job: 'untyped', args: { from: { $from: 'a.whatever.deep' } } },
      ],
    };
    expect(problems(def)).toEqual([]);
  });
});

test('a parameter that is not set is reported once', () => {
  const def = definition({ region: { $param: 'nowhere' } });
  expect(problems(def)).toEqual([
    'steps[0].args.region: parameter "nowhere" is not set (add it to params or --set it)',
  ]);
});
