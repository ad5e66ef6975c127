/**
 * Bad input, fuzzed with fast-check: malformed definitions and run parameters are rejected before any job starts,
 * with one DefinitionError that lists every problem with its path; the validator never throws anything else. Payloads
 * too large for Temporal are refused with a clear error before a run starts, and a job whose result is too large
 * fails clearly and unwinds instead of leaving a run stuck. The command line's bad input (unknown options, bad
 * values, missing arguments, missing or junk files, unknown ids) is one line naming what is wrong and where, exit code
 * 2; and workflow inputs started without the client (a raw `workflow.start` with anything at all) end the run
 * `failed` with its problems listed and no job run, never a run stuck on a failing workflow task.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { runCli } from '../../src/cli/main';
import { INVALID_DEFINITION_TYPE } from '../../src/shared/errors';
import { isRecord } from '../../src/shared/text';
import fc from 'fast-check';
import { inspectSandbox, volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import {
  DefinitionError,
  PayloadTooLargeError,
  parseDefinition,
  runProcess,
  startProcess,
  waitForReport,
} from '../../src/client';

import type { ProcessDefinition } from '../../src/schema/definition';
import { processDefinitionSchema } from '../../src/schema/definition';
import { recordFigure } from '../support/figures';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';
import { MAX_JOBS, MAX_JOB_RESULT_BYTES } from '../../src/shared/limits';

const journal: JournalEntry[] = [];
let sandbox: string;
let registry: JobRegistry;
let tw: TestWorker;

beforeAll(async () => {
  sandbox = await mkdtemp(join(tmpdir(), 'jipper-bad-input-'));
  const libraries = [volumeLibrary({ root: sandbox }), journalLibrary(journal)];
  registry = new JobRegistry(libraries);
  tw = await startTestWorker(libraries, 'bad-input');
});
afterAll(async () => {
  await tw?.shutdown();
  if (sandbox) await rm(sandbox, { recursive: true, force: true });
});

/** A valid definition using both libraries: params, refs, a group, options, a job with no revert, a typed job. */
function base(): ProcessDefinition {
  return {
    name: 'fuzz-base',
    params: { volume: 'vol-fuzz', size: 8 },
    options: { revertMode: 'sequential', defaults: { timeout: '30s' } },
    steps: [
      {
        id: 'alloc',
        job: 'allocate-volume',
        args: { volume: { $param: 'volume' }, sizeMb: { $param: 'size' } },
        timeout: '1m',
        retry: { maximumAttempts: 2 },
      },
      {
        id: 'layout',
        parallel: [
          { id: 'fs', job: 'create-filesystem', args: { volume: { $param: 'volume' } } },
          { id: 'quota', job: 'set-quota', args: { volume: { $param: 'volume' }, limitMb: 4 } },
        ],
      },
      { id: 'note', job: 'record-audit-event', args: { volume: { $param: 'volume' }, message: 'hello' } },
      { id: 'count', job: 'typed', args: { count: 2, label: { $from: 'alloc.path' } } },
    ],
  };
}

/** Where each job step of {@link base} sits, as problem paths spell it. */
const JOB_PATHS = ['steps[0]', 'steps[1].parallel[0]', 'steps[1].parallel[1]', 'steps[2]', 'steps[3]'];

type Raw = Record<string, unknown>;
/** Follows a problem-style path (`steps[1].parallel[0]`) to the object there. */
function at(def: Raw, path: string): Raw {
  let current: unknown = def;
  for (const [, key, index] of path.matchAll(/([A-Za-z_$][\w$]*)|\[(\d+)\]/g)) {
    // An earlier mutation may have replaced the container: this one then writes into a detached object.
    if (typeof current !== 'object' || current === null) return {};
    current = (current as Record<string, unknown>)[key ?? Number(index)];
  }
  return typeof current === 'object' && current !== null ? (current as Raw) : {};
}

/** A malformed run: the definition, the params, and the path (prefix) a problem must name. */
interface Case {
  kind: string;
  definition: unknown;
  params: Record<string, unknown>;
  path: string;
}

const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));
const badId = fc.oneof(
  notAString,
  fc.constantFrom('', ' lead', '-dash', 'has space', 'semi;colon', 'a'.repeat(101), 'ünï', 'a/b')
);
const badDuration = fc.oneof(
  fc.string().filter((s) => !/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(s)),
  fc.integer({ max: 0 }),
  fc.double({ min: 0.01, max: 1e6, noInteger: true }),
  fc.constantFrom('10 s', '5min', '-1s', '1w')
);
/** Names the prototype knows (`constructor`, `toString`...) must not pass for set parameters. */
const unsetParam = fc.oneof(
  fc.string({ minLength: 1 }).filter((s) => !['volume', 'size'].includes(s)),
  fc.constantFrom('constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf')
);
const badPositiveInt = fc.oneof(
  fc.integer({ max: 0 }),
  fc.double({ min: 0.01, max: 100, noInteger: true }),
  fc.string(),
  fc.constant(null),
  fc.object({ maxDepth: 1 })
);
/** A volume size allocate-volume refuses (it also has a maximum). */
const badSize = fc.oneof(badPositiveInt, fc.integer({ min: 1_048_577 }));
const badVolume = fc.oneof(
  fc.string().filter((s) => !/^[a-z0-9][a-z0-9-]{0,62}$/.test(s)),
  fc.integer(),
  fc.constant(null)
);

const jobPath = fc.constantFrom(...JOB_PATHS);

/** Every way of breaking {@link base}; each one is a problem on its own, at a known path. */
const mutation: fc.Arbitrary<(def: Raw, params: Raw) => { kind: string; path: string }> = fc.oneof(
  fc.oneof(notAString, fc.constantFrom('', 'has space', 'x'.repeat(201), 'a/b')).map((v) => (def: Raw) => {
    def.name = v;
    return { kind: 'bad name', path: 'name' };
  }),
  fc.constantFrom<unknown>([], 'steps', null, 42, {}).map((v) => (def: Raw) => {
    def.steps = v;
    return { kind: 'no steps', path: 'steps' };
  }),
  fc.tuple(jobPath, badId).map(([path, v]) => (def: Raw) => {
    at(def, path).id = v;
    return { kind: 'bad step id', path: `${path}.id` };
  }),
  fc
    .tuple(
      jobPath,
      fc.string().filter((s) => !registry.get(s))
    )
    .map(([path, v]) => (def: Raw) => {
      at(def, path).job = v;
      return { kind: 'unknown job', path: `${path}.job` };
    }),
  fc.tuple(jobPath, badDuration, fc.constantFrom('timeout', 'heartbeatTimeout')).map(([path, v, key]) => (def: Raw) => {
    at(def, path)[key] = v;
    return { kind: 'bad duration', path: `${path}.${key}` };
  }),
  fc
    .tuple(
      jobPath,
      fc.oneof(
        fc.record({ maximumAttempts: fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true }), fc.string()) }),
        fc.record({ backoffCoefficient: fc.double({ min: -10, max: 0.99, noNaN: true }) }),
        fc.record({ nonRetryableErrorTypes: fc.constantFrom<unknown>('x', [''], [1]) })
      )
    )
    .map(([path, retry]) => (def: Raw) => {
      at(def, path).retry = retry;
      return { kind: 'bad retry', path: `${path}.retry` };
    }),
  fc
    .tuple(
      fc.constantFrom('', 'steps[0]', 'steps[1]', 'steps[0].retry', 'options', 'options.defaults'),
      fc.string({ minLength: 1 })
    )
    .filter(
      ([, key]) =>
        ![
          'id',
          'job',
          'args',
          'name',
          'steps',
          'params',
          'options',
          'description',
          'parallel',
          'pivot',
          'timeout',
          'heartbeatTimeout',
          'retry',
          'revert',
          'revertOnFailure',
          'revertMode',
          'onRevertFailure',
          'defaults',
          'continueAsNewAfterEvents',
          'maximumAttempts',
          'initialInterval',
          'backoffCoefficient',
          'maximumInterval',
          'nonRetryableErrorTypes',
          '__proto__',
        ].includes(key)
    )
    .map(([path, key]) => (def: Raw) => {
      (path ? at(def, path) : def)[key] = 1;
      return { kind: 'unknown key', path };
    }),
  fc
    .tuple(fc.constantFrom(...JOB_PATHS.slice(1)), fc.constantFrom(...JOB_PATHS))
    .filter(([a, b]) => a !== b)
    .map(([path, other]) => (def: Raw) => {
      at(def, path).id = at(def, other).id;
      return {
        kind: 'duplicate id',
        path: JOB_PATHS.indexOf(path) > JOB_PATHS.indexOf(other) ? `${path}.id` : `${other}.id`,
      };
    }),
  fc.constantFrom('count', 'note', 'fs', 'missing-step').map((target) => (def: Raw) => {
    at(def, 'steps[0].args').volume = { $from: `${target}.path` };
    return { kind: 'reference to a later or missing step', path: 'steps[0].args.volume' };
  }),
  fc.tuple(jobPath, unsetParam).map(([path, name]) => (def: Raw) => {
    at(def, `${path}.args`).volume = { $param: name };
    return { kind: 'parameter not set', path: `${path}.args.volume` };
  }),
  badSize.map((v) => (def: Raw) => {
    at(def, 'steps[0].args').sizeMb = v;
    return { kind: 'args failing the job schema', path: 'steps[0].args.sizeMb' };
  }),
  badSize.map((v) => (_def: Raw, params: Raw) => {
    params.size = v;
    return { kind: 'run param failing the job schema', path: 'steps[0].args.sizeMb' };
  }),
  badVolume.map((v) => (_def: Raw, params: Raw) => {
    params.volume = v;
    return { kind: 'run param failing the job schema', path: 'steps[0].args.volume' };
  }),
  fc.constant((def: Raw) => {
    at(def, 'steps[2]').revertOnFailure = true;
    return { kind: 'revertOnFailure without a revert', path: 'steps[2].revertOnFailure' };
  }),
  fc.constantFrom(0, 1).map((i) => (def: Raw) => {
    at(def, `steps[1].parallel[${i}]`).pivot = true;
    return { kind: 'pivot on a group member', path: `steps[1].parallel[${i}].pivot` };
  }),
  fc.constantFrom<unknown>([], 'x', null).map((v) => (def: Raw) => {
    at(def, 'steps[1]').parallel = v;
    return { kind: 'bad parallel group', path: 'steps[1]' };
  }),
  fc
    .oneof(
      fc.record({ revertMode: fc.string().filter((s) => !['sequential', 'parallel'].includes(s)) }),
      fc.record({ onRevertFailure: fc.constantFrom('retry', '', 'PARK') }),
      fc.record({ continueAsNewAfterEvents: fc.integer({ max: 99 }) })
    )
    .map((options) => (def: Raw) => {
      def.options = options;
      return { kind: 'bad process options', path: 'options' };
    })
);

const singleCase: fc.Arbitrary<Case> = mutation.map((mutate) => {
  const definition = base() as unknown as Raw;
  const params: Raw = {};
  const { kind, path } = mutate(definition, params);
  return { kind, definition, params, path };
});

/** Anything at all that is not even shaped like a definition. */
const junkCase: fc.Arbitrary<Case> = fc
  .anything()
  .filter((v) => !processDefinitionSchema.safeParse(v).success)
  .map((definition) => ({ kind: 'junk', definition, params: {}, path: '' }));

/** For each job step of {@link base}: an arg of its job's schema, and values that fail it. */
const BREAKABLE_ARG: Record<string, [string, fc.Arbitrary<unknown>]> = {
  'steps[0]': ['sizeMb', badSize],
  'steps[1].parallel[0]': ['volume', badVolume],
  'steps[1].parallel[1]': ['limitMb', badPositiveInt],
  'steps[2]': ['message', fc.oneof(fc.constant(''), fc.constant('m'.repeat(501)), fc.integer())],
  'steps[3]': [
    'count',
    fc.oneof(fc.integer({ max: 0 }), fc.string(), fc.double({ min: 1.01, max: 9, noInteger: true })),
  ],
};

type Mutate = (def: Raw) => { kind: string; path: string };

/** Ways of breaking one job step, each found at a known path: some break its shape, some fail the registry's checks. */
function stepMutation(path: string): fc.Arbitrary<Mutate> {
  const [arg, bad] = BREAKABLE_ARG[path] as [string, fc.Arbitrary<unknown>];
  return fc.oneof(
    badId.map((v) => (def: Raw) => {
      at(def, path).id = v;
      return { kind: 'bad step id', path: `${path}.id` };
    }),
    badDuration.map((v) => (def: Raw) => {
      at(def, path).timeout = v;
      return { kind: 'bad duration', path: `${path}.timeout` };
    }),
    fc
      .string()
      .filter((s) => !registry.get(s))
      .map((v) => (def: Raw) => {
        at(def, path).job = v;
        return { kind: 'unknown job', path: `${path}.job` };
      }),
    unsetParam.map((name) => (def: Raw) => {
      at(def, `${path}.args`).volume = { $param: name };
      return { kind: 'parameter not set', path: `${path}.args.volume` };
    }),
    bad.map((v) => (def: Raw) => {
      at(def, `${path}.args`)[arg] = v;
      return { kind: 'args failing the job schema', path: `${path}.args.${arg}` };
    })
  );
}

/**
 * Several problems at once, one per job step (so none hides another), shape and registry problems mixed: every one
 * of them is listed in the one error.
 */
const multiCase: fc.Arbitrary<Case & { paths: string[] }> = fc
  .subarray(JOB_PATHS, { minLength: 2 })
  .chain((paths) => fc.tuple(...paths.map(stepMutation)))
  .map((mutations) => {
    const definition = base() as unknown as Raw;
    const applied = mutations.map((mutate) => mutate(definition));
    return { kind: 'several', definition, params: {}, path: '', paths: applied.map((a) => a.path) };
  });

/** Parses as the client does; returns the DefinitionError, failing the test on anything else. */
function rejection(c: Pick<Case, 'definition' | 'params'>): DefinitionError {
  try {
    parseDefinition(c.definition, { registry, params: c.params });
  } catch (err) {
    if (err instanceof DefinitionError) return err;
    throw new Error(`the validator threw ${String(err)} instead of a DefinitionError`, { cause: err });
  }
  throw new Error(
    `accepted a malformed definition: ${JSON.stringify(c.definition)} params ${JSON.stringify(c.params)}`
  );
}

function expectClear(err: DefinitionError): void {
  expect(err.problems.length).toBeGreaterThanOrEqual(1);
  for (const p of err.problems) {
    expect(typeof p.path).toBe('string');
    expect(p.message.trim()).not.toBe('');
  }
  expect(err.message).toMatch(new RegExp(`^definition: ${err.problems.length} problems?:`));
}

/** Whether a problem of the error sits at `path` or inside it. */
function names(err: DefinitionError, path: string): boolean {
  return err.problems.some((p) => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`));
}

const counts = { single: 0, junk: 0, several: 0, server: 0, refusedByClient: 0, rejectedByWorker: 0 };

test('every malformed definition or run parameter is rejected with a DefinitionError naming the problem and its path', () => {
  fc.assert(
    fc.property(singleCase, (c) => {
      const err = rejection(c);
      expectClear(err);
      if (!names(err, c.path)) throw new Error(`${c.kind}: no problem at ${c.path}: ${err.message}`);
      counts.single += 1;
    }),
    { numRuns: 1_500 }
  );
});

test('junk that is not even shaped like a definition is rejected the same way', () => {
  fc.assert(
    fc.property(junkCase, (c) => {
      expectClear(rejection(c));
      counts.junk += 1;
    }),
    { numRuns: 500 }
  );
});

test('several problems at once are all listed, in one error', () => {
  fc.assert(
    fc.property(multiCase, (c) => {
      const err = rejection(c);
      expectClear(err);
      for (const path of c.paths) {
        if (!names(err, path)) throw new Error(`no problem at ${path} among: ${err.message}`);
      }
      counts.several += 1;
    }),
    { numRuns: 500 }
  );
});

test('the worker checks too: malformed definitions the client did not check fail before any job starts', async () => {
  await fc.assert(
    fc.asyncProperty(singleCase, async (c) => {
      // Unique per run: a persistent server (a cluster on PostgreSQL) keeps the runs of earlier test runs.
      const id = `${tw.taskQueue}-${counts.server}`;
      counts.server += 1;
      const schema = processDefinitionSchema.safeParse(c.definition);
      if (!schema.success) {
        counts.refusedByClient += 1;
        // The client refuses what is not even a definition: nothing is started.
        await expect(
          startProcess(tw.client, c.definition, { taskQueue: tw.taskQueue, id, params: c.params })
        ).rejects.toBeInstanceOf(DefinitionError);
        await expect(tw.client.workflow.getHandle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
        return;
      }
      counts.rejectedByWorker += 1;
      const handle = await startProcess(tw.client, c.definition, { taskQueue: tw.taskQueue, id, params: c.params });
      const report = await waitForReport(handle);
      expect(report.status).toBe('failed');
      expect(report.error?.type).toBe('JipperInvalidDefinition');
      expect(report.error?.message).toContain(c.path);
      expect(report.jobs.every((j) => j.status === 'not_run')).toBe(true);
      expect(journal.filter((e) => e.key.startsWith(`${id}/`))).toEqual([]);
    }),
    { numRuns: 200 }
  );
  expect(await inspectSandbox(sandbox)).toEqual({
    volumes: [],
    mounts: [],
    quotas: [],
    exports: [],
    catalog: [],
    audit: [],
  });
  recordFigure('bad input', { ...counts, total: counts.single + counts.junk + counts.several + counts.server });
  expect(counts.rejectedByWorker).toBeGreaterThan(20);
}, 300_000);

describe('payloads too large for Temporal', () => {
  const bigDefinition = (bytes: number): ProcessDefinition => ({
    name: 'big',
    description: 'x'.repeat(bytes),
    steps: [{ id: 'a', job: 'task' }],
  });

  test.each([
    ['a definition near 2 MB', bigDefinition(1_900_000), undefined],
    ['a definition over 2 MB', bigDefinition(2_500_000), undefined],
    ['params near 2 MB', { ...bigDefinition(10), params: { blob: '' } }, { blob: 'y'.repeat(1_900_000) }],
  ])('%s: PayloadTooLargeError before anything starts', async (_what, definition, params) => {
    const id = `too-large-${Math.random().toString(36).slice(2)}`;
    const started = startProcess(tw.client, definition, {
      taskQueue: tw.taskQueue,
      registry,
      id,
      ...(params ? { params } : {}),
    });
    await expect(started).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(started).rejects.toThrow(/MB; Jipper's limit is 1.5 MB/);
    await expect(tw.client.workflow.getHandle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  test('a definition just under the limit runs', async () => {
    const report = await runProcess(tw.client, bigDefinition(1_400_000), { taskQueue: tw.taskQueue, registry });
    expect(report.status).toBe('succeeded');
  });

  test('a process whose state is too large to continue as new goes on in the same run instead of getting stuck', async () => {
    // Three jobs take a 0.7 MB parameter: their inputs, kept for their reverts, make a 2.1 MB state.
    const definition: ProcessDefinition = {
      name: 'heavy-state',
      params: { blob: 'z'.repeat(700_000) },
      options: { continueAsNewAfterEvents: 100 },
      steps: Array.from({ length: 30 }, (_, i) => ({
        id: `s${i}`,
        job: 'task',
        args: i < 3 ? { detail: { $param: 'blob' } } : {},
      })),
    };
    const report = await runProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry });
    expect(report.status).toBe('succeeded');
    expect(report.continuedAsNew).toBeUndefined();
  });

  test(`a definition with more than ${MAX_JOBS} jobs is refused up front`, () => {
    const steps = Array.from({ length: MAX_JOBS + 1 }, (_, i) => ({ id: `s${i}`, job: 'task' }));
    const err = rejection({ definition: { name: 'huge', steps }, params: {} });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.path).toBe('steps');
    expect(err.problems[0]?.message).toMatch(/^2001 jobs; a process may have at most 2000/);
    expect(() => parseDefinition({ name: 'huge', steps: steps.slice(1) }, { registry })).not.toThrow();
  });

  test('a job whose result is too large fails clearly, without retries, and the process unwinds', async () => {
    const started = Date.now();
    const report = await runProcess(
      tw.client,
      {
        name: 'big-result',
        steps: [
          { id: 'a', job: 'task' },
          { id: 'huge', job: 'task', args: { resultBytes: 2_500_000 } },
          { id: 'c', job: 'task' },
        ],
      },
      { taskQueue: tw.taskQueue, registry }
    );
    expect(report).toMatchObject({
      status: 'reverted',
      failedStep: 'huge',
      error: { type: 'JipperResultTooLarge', nonRetryable: true },
    });
    expect(report.error?.message).toMatch(/result of job "task" at step "huge" is 2\.50 MB/);
    expect(report.jobs.map((j) => j.status)).toEqual(['reverted', 'failed', 'not_run']);
    expect(journal.filter((e) => e.key === `${report.processId}/huge`)).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  test('results that together outgrow the budget: the job that crosses it fails clearly, the rest unwinds', async () => {
    const report = await runProcess(
      tw.client,
      {
        name: 'growing-results',
        steps: ['a', 'b', 'c', 'd'].map((id) => ({ id, job: 'task', args: { resultBytes: 200_000 } })),
      },
      { taskQueue: tw.taskQueue, registry }
    );
    expect(report).toMatchObject({ status: 'reverted', failedStep: 'c', error: { type: 'JipperResultTooLarge' } });
    expect(report.error?.message).toMatch(
      /the results of this process would total 0\.60 MB; they may total at most 0\.52 MB/
    );
    expect(report.jobs.map((j) => j.status)).toEqual(['reverted', 'reverted', 'failed', 'not_run']);
  });

  test('a result just under the limit is kept', async () => {
    const report = await runProcess(
      tw.client,
      {
        name: 'large-result',
        steps: [{ id: 'big', job: 'task', args: { resultBytes: MAX_JOB_RESULT_BYTES - 1_000 } }],
      },
      { taskQueue: tw.taskQueue, registry }
    );
    expect(report.status).toBe('succeeded');
  });
});

describe('the command line: every bad input is one line naming what is wrong and where, exit code 2', () => {
  /** A command line that must be refused, and what its one line must name. */
  interface BadCommand {
    kind: string;
    argv: string[];
    names: string;
    /** Definition problems are a line each, every one naming the file. */
    lines?: 'per-problem';
  }

  /** Each command with arguments that are fine on their own (ids that need not exist: the mutation is refused first). */
  const COMMANDS: [string, string[]][] = [
    ['validate', ['examples/provision-volume.yaml']],
    ['start', ['examples/provision-volume.yaml']],
    ['graph', ['examples/provision-volume.yaml']],
    ['plan', ['examples/provision-volume.yaml']],
    ['status', ['fuzz-id']],
    ['report', ['fuzz-id']],
    ['watch', ['fuzz-id']],
    ['cancel', ['fuzz-id']],
    ['pause', ['fuzz-id']],
    ['resume', ['fuzz-id']],
    ['decide', ['fuzz-id', 'step', 'retry']],
    ['revise', ['fuzz-id', 'examples/provision-volume.yaml']],
    ['tokens', []],
    ['history', ['fuzz-id']],
    ['replay', ['test/histories']],
    ['list', []],
    ['completion', ['bash']],
    ['dev', []],
    ['worker', []],
    ['config', []],
  ];
  const ID_COMMANDS = ['status', 'report', 'watch', 'cancel', 'pause', 'resume', 'history'];
  const FILE_COMMANDS = ['validate', 'graph', 'plan'];
  const word = fc.stringMatching(/^[a-z][a-z0-9-]{2,14}$/);
  const known = new Set(['help', 'json', 'version']);
  const command = fc.constantFrom(...COMMANDS);
  let scratch: string;
  beforeAll(async () => (scratch = await mkdtemp(join(tmpdir(), 'jipper-cli-fuzz-'))));
  afterAll(async () => rm(scratch, { recursive: true, force: true }));

  const badCommand: fc.Arbitrary<BadCommand> = fc.oneof(
    fc
      .tuple(command, word)
      .filter(([, option]) => !known.has(option))
      .map(([[name, args], option]) => ({
        kind: 'unknown option',
        argv: [name, ...args, `--x-${option}`],
        names: `unknown option '--x-${option}'`,
      })),
    fc
      .constantFrom(...COMMANDS.filter(([, args]) => args.length > 0))
      .map(([name]) => ({ kind: 'missing argument', argv: [name], names: 'missing required argument' })),
    fc
      .tuple(
        fc.constantFrom(
          ...COMMANDS.filter(([name]) => !['replay', 'list', 'tokens', 'dev', 'worker', 'config'].includes(name))
        ),
        word
      )
      .map(([[name, args], extra]) => ({
        kind: 'too many arguments',
        argv: [name, ...args, extra],
        names: `too many arguments for '${name}'`,
      })),
    fc
      .oneof(fc.integer({ max: 0 }), fc.integer({ min: 1001 }), fc.double({ noInteger: true, min: 1, max: 999 }), word)
      .map((limit) => ({
        kind: 'bad --limit',
        argv: ['list', '--limit', String(limit)],
        names: `'--limit <n>' argument '${String(limit)}'`,
      })),
    word.map((status) => ({
      kind: 'bad --status',
      argv: ['list', '--status', status],
      names: `'--status <status>' argument '${status}'`,
    })),
    fc
      .tuple(
        fc.constantFrom(...FILE_COMMANDS, 'start'),
        fc.constantFrom('9lives=1', 'has space=1', '=1', 'noequals', '-x=1')
      )
      .map(([name, set]) => ({
        kind: 'bad --set',
        argv: [name, 'examples/provision-volume.yaml', '--set', set],
        names: `--set ${set}`,
      })),
    fc.tuple(fc.constantFrom(...FILE_COMMANDS, 'start'), word).map(([name, param]) => ({
      kind: 'unknown --set parameter',
      argv: [name, 'examples/provision-volume.yaml', '--set', `x${param}=1`],
      names: `--set x${param}: unknown parameter "x${param}"`,
    })),
    word.map((runId) => ({
      kind: 'bad --run-id',
      argv: ['history', 'fuzz-id', '--run-id', runId],
      names: `'--run-id <runId>' argument '${runId}'`,
    })),
    fc
      .tuple(
        fc.constantFrom('--fail-at', '--cancel-at', '--revert-fails'),
        // `a/b` is a path into a child process now (an unknown one, below); `a//b` is no path.
        fc.constantFrom('has space', '-dash', 'a//b', 'ünï')
      )
      .map(([flag, step]) => ({
        kind: `bad ${flag}`,
        argv: ['plan', 'examples/provision-volume.yaml', flag, step],
        names: `'${flag} <step>' argument '${step}'`,
      })),
    fc
      .tuple(fc.constantFrom('--fail-at', '--cancel-at', '--revert-fails'), fc.oneof(word, fc.constant('a/b')))
      .filter(([, step]) => !['allocate', 'filesystem', 'quota', 'audit', 'export', 'register'].includes(step))
      .map(([flag, step]) => ({
        kind: `unknown ${flag} step`,
        argv: ['plan', 'examples/provision-volume.yaml', flag, step],
        names: `${flag} ${step}: no job "${step}"`,
      })),
    fc
      .tuple(fc.constantFrom('', ' ', 'two\nlines'), fc.constantFrom(['pause', 'fuzz-id'], ['revise', 'fuzz-id', 'f']))
      .map(([why, argv]) => ({
        kind: 'bad --reason',
        argv: [...argv, '--reason', why],
        names: "'--reason <text>' argument",
      })),
    fc.constantFrom('', 'a\u0000b', 'tab\there', 'x'.repeat(1001)).map((name) => ({
      kind: 'bad token name',
      argv: ['tokens', name],
      names: "is invalid for argument 'name'",
    })),
    word.map((param) => ({
      kind: 'revise --set',
      argv: ['revise', 'fuzz-id', 'examples/provision-volume.yaml', '--set', `${param}=1`],
      names: '--set: a revision keeps the parameters the process was started with',
    })),
    fc
      .string({ minLength: 1, maxLength: 30 })
      // eslint-disable-next-line no-control-regex -- ids with control characters are refused as such (another case)
      .filter((s) => !/[\u0000-\u001f\u007f]/.test(s))
      .map((id) => ({
        kind: 'revise an unknown id',
        argv: ['revise', `fuzz-${id}`, 'examples/provision-volume.yaml'],
        names: `no process with id "fuzz-${id}"`,
      })),
    word.map((decision) => ({
      kind: 'bad decision',
      argv: ['decide', 'fuzz-id', 'step', decision],
      names: `value '${decision}' is invalid for argument 'decision'`,
    })),
    fc.constantFrom('has space', 'a//b', 'ünï').map((step) => ({
      kind: 'bad step',
      argv: ['decide', 'fuzz-id', step, 'retry'],
      names: `'${step}' is invalid for argument 'step'`,
    })),
    word.map((shell) => ({
      kind: 'bad shell',
      argv: ['completion', shell],
      names: `value '${shell}' is invalid for argument 'shell'`,
    })),
    fc.constantFrom('', 'a\u0000b', 'x'.repeat(1001), 'tab\there').map((id) => ({
      kind: 'bad --id',
      argv: ['start', 'examples/provision-volume.yaml', '--id', id],
      names: "'--id <id>' argument",
    })),
    fc
      .tuple(fc.constantFrom(...FILE_COMMANDS, 'start'), word, fc.constantFrom('.yaml', '.json', '.txt', ''))
      .map(([name, file, ext]) => {
        const path = join('/nonexistent-dir', `${file}${ext}`);
        return { kind: 'missing file', argv: [name, path], names: path };
      }),
    fc
      .tuple(
        fc.constantFrom(...ID_COMMANDS),
        // eslint-disable-next-line no-control-regex -- ids with control characters are refused as such (another case)
        fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s))
      )
      .map(([name, id]) => ({
        kind: 'unknown id',
        argv: [name, `fuzz-${id}`],
        names: `no process with id "fuzz-${id}"`,
      })),
    fc
      .tuple(fc.constantFrom(...FILE_COMMANDS), fc.string({ maxLength: 200 }), fc.constantFrom('.yaml', '.json'))
      .map(([name, text, ext]) => {
        const path = join('FUZZ_DIR', `junk-${randomUUID()}${ext}`);
        return { kind: 'junk file', argv: [name, path], names: path, lines: 'per-problem' as const, text };
      })
  );

  test('fuzzed command lines', async () => {
    const byKind = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(badCommand, async (bad) => {
        const argv = bad.argv.map((a) => a.replace('FUZZ_DIR', scratch));
        const names = bad.names.replace('FUZZ_DIR', scratch);
        if (bad.kind === 'junk file') await writeFile(argv[1] as string, (bad as { text?: string }).text ?? '');
        let stdout = '';
        let stderr = '';
        const code = await runCli(['node', 'jipper', ...argv], {
          stdout: { write: (text: string) => (stdout += text) },
          stderr: { write: (text: string) => (stderr += text) },
        });
        const lines = stderr.split('\n').filter(Boolean);
        const what = `jipper ${JSON.stringify(argv)}: exit ${code}, stderr ${JSON.stringify(stderr)}`;
        if (code !== 2 || stdout !== '' || !lines.length) throw new Error(what);
        if (!lines.every((line) => line.startsWith('jipper: ') && !/^\s+at /.test(line))) throw new Error(what);
        if (bad.lines === 'per-problem') {
          if (!lines.every((line) => line.startsWith(`jipper: ${names}`)))
            throw new Error(`${what}: not every line names ${names}`);
        } else if (lines.length !== 1 || !(lines[0] as string).includes(names)) {
          throw new Error(`${what}: not one line naming ${names}`);
        }
        byKind.set(bad.kind, (byKind.get(bad.kind) ?? 0) + 1);
      }),
      { numRuns: 400 }
    );
    recordFigure('bad command lines', Object.fromEntries(byKind));
    expect(byKind.size).toBeGreaterThan(15);
  }, 300_000);
});

describe('workflow inputs started without the client (a raw workflow.start)', () => {
  const notAnObject = fc.anything({ maxDepth: 2 }).filter((v) => !isRecord(v));
  const validSteps = [{ id: 'a', job: 'task' }];
  /** Inputs whose shape is wrong: the workflow's own check must catch each, whatever it is. */
  const malformed = fc.oneof(
    notAnObject.map((input) => ({ kind: 'input not an object', input })),
    notAnObject.map((definition) => ({ kind: 'definition not an object', input: { definition } })),
    fc
      .anything({ maxDepth: 2 })
      .filter((v) => !Array.isArray(v))
      .map((steps) => ({ kind: 'steps not a list', input: { definition: { name: 'raw', steps } } })),
    fc.array(notAnObject, { minLength: 1, maxLength: 3 }).map((steps) => ({
      kind: 'a step not an object',
      input: { definition: { name: 'raw', steps: [...validSteps, ...steps] } },
    })),
    fc
      .record({ id: fc.anything({ maxDepth: 1 }), job: fc.anything({ maxDepth: 1 }) })
      .filter(({ id, job }) => typeof id !== 'string' || typeof job !== 'string')
      .map((step) => ({
        kind: 'a step without a string id and job',
        input: { definition: { name: 'raw', steps: [step] } },
      })),
    fc
      .anything({ maxDepth: 1 })
      .filter((v) => v !== undefined && !Array.isArray(v))
      .map((parallel) => ({
        kind: 'a group that is not a list',
        input: { definition: { name: 'raw', steps: [{ id: 'g', parallel }] } },
      })),
    notAnObject
      .filter((v) => v !== undefined && v !== null)
      .map((params) => ({
        kind: 'params not an object',
        input: { definition: { name: 'raw', steps: validSteps }, params },
      })),
    notAnObject
      .filter((v) => v !== undefined && v !== null)
      .map((jobs) => ({ kind: 'jobs not an object', input: { definition: { name: 'raw', steps: validSteps }, jobs } })),
    fc
      .anything({ maxDepth: 1 })
      .filter((v) => typeof v !== 'string')
      .map((name) => ({ kind: 'a name that is not a string', input: { definition: { name, steps: validSteps } } }))
  );

  test('each ends failed with its problems listed, no job run, none left running', async () => {
    const byKind = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(malformed, async ({ kind, input }) => {
        const id = `raw-bad-${randomUUID()}`;
        const handle = await tw.client.workflow.start('jipperProcess', {
          taskQueue: tw.taskQueue,
          workflowId: id,
          args: [input as never],
        });
        // A run that never ends (a workflow task failing forever) names its input rather than hanging the test.
        const report = await tw.client
          .withDeadline(Date.now() + 60_000, () => waitForReport(handle))
          .catch((err) => {
            throw new Error(`${kind}: ${JSON.stringify(input)} did not end within 60 s: ${String(err)}`);
          });
        const what = `${kind}: ${JSON.stringify(input)} ended ${report.status} (${JSON.stringify(report.error)})`;
        if (report.status !== 'failed' || report.error?.type !== INVALID_DEFINITION_TYPE || !report.error.message)
          throw new Error(what);
        if (!report.jobs.every((j) => j.status === 'not_run')) throw new Error(`${what}: a job ran`);
        if (journal.some((e) => e.key.startsWith(`${id}/`))) throw new Error(`${what}: the journal has a job of it`);
        expect((await handle.describe()).status.name).toBe('FAILED');
        byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      }),
      {
        numRuns: 80,
        // Always tried, whatever the seed: no input at all (each once hung a run on a workflow task failing forever).
        examples: [[{ kind: 'input not an object', input: null }], [{ kind: 'input not an object', input: undefined }]],
      }
    );
    recordFigure('raw workflow inputs', Object.fromEntries(byKind));
    expect(byKind.size).toBeGreaterThan(6);
  }, 300_000);
});
