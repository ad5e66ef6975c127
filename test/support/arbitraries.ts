/**
 * fast-check arbitraries of process definitions and of what goes wrong in them, for model-based tests: the core's
 * invariants without a server (test/unit/core-model.test.ts), and the same cases through the real engine.
 *
 * Definitions use a small job library whose jobs are named by the behaviour a case needs of them
 * ({@link MODEL_JOBS}): a real-server test registers jobs of these names with that behaviour (and effects in a
 * ledger), and plans with {@link modelFacts} or its own registry, which must agree.
 */
import fc from 'fast-check';
import type { FailureClass, GroupStep, JobStep, ProcessDefinition, Step } from '../../src/schema/definition';
import type { JobFacts } from '../../src/shared/plan';

/** The job library of generated definitions: each job's name says what it has. */
export const MODEL_JOBS = {
  /** A job with a revert. */
  'with-revert': { hasRevert: true },
  /** A job without a revert: the unwinding skips it. */
  'without-revert': { hasRevert: false },
  /** A job with a revert and a probe (asked after a timeout or a cancellation whether its effect stands). */
  'with-probe': { hasRevert: true, hasProbe: true },
} as const satisfies Record<string, { hasRevert: boolean; hasProbe?: boolean }>;

export type ModelJobName = keyof typeof MODEL_JOBS;

/** The facts a client's registry would send for {@link MODEL_JOBS} (what `planFromFacts` plans with). */
export function modelFacts(): Record<string, JobFacts> {
  return Object.fromEntries(
    Object.entries(MODEL_JOBS).map(([name, meta]) => [
      name,
      { name, ...meta, defaults: {}, fingerprint: `model-${name}` } satisfies JobFacts,
    ])
  );
}

const FAILURE_CLASSES: FailureClass[] = ['business', 'infrastructure', 'timeout', 'cancel'];

export interface DefinitionShape {
  /** Most steps (a group counts as one). Default 7. */
  maxSteps?: number;
  /** Most members of a group. Default 3. */
  maxMembers?: number;
}

/** A job step's own options: what decides its failure's consequences. */
const jobOptions = fc.record(
  {
    revertOnFailure: fc.boolean(),
    revertOn: fc.subarray(FAILURE_CLASSES, { minLength: 1 }),
    otherwise: fc.constantFrom('fail' as const, 'park' as const),
    afterPivot: fc.constantFrom('fail' as const, 'park' as const, 'retry' as const),
    tokens: fc.constant(null).map((): string[] => ['model-token']),
  },
  { requiredKeys: [] }
);

const jobName = fc.constantFrom(...(Object.keys(MODEL_JOBS) as ModelJobName[]));

/** One step, before ids and needs: a job, or a group of 2..maxMembers members with a success policy. */
const stepDraft = (maxMembers: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('job' as const), job: jobName, options: jobOptions }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 2, max: maxMembers }).chain((size) =>
        fc.record({
          kind: fc.constant('group' as const),
          members: fc.array(fc.record({ job: jobName, options: jobOptions }), { minLength: size, maxLength: size }),
          succeedWhen: fc.oneof(fc.constantFrom('all' as const, 'any' as const), fc.integer({ min: 1, max: size })),
        })
      ),
    }
  );

/**
 * A valid process definition: job steps and parallel groups (`all`, `any` or `n`), `needs` that form a DAG (each
 * step needs some earlier steps, or — without `needs` — the one before it), at most one pivot, and steps with
 * `revertOnFailure`, `revertOn` / `otherwise`, `afterPivot` and tokens.
 */
export function definitionArbitrary(shape: DefinitionShape = {}): fc.Arbitrary<ProcessDefinition> {
  const maxSteps = shape.maxSteps ?? 7;
  return fc
    .array(stepDraft(shape.maxMembers ?? 3), { minLength: 1, maxLength: maxSteps })
    .chain((drafts) =>
      fc.record({
        drafts: fc.constant(drafts),
        // For each step: undefined (the one before), or a subset of earlier steps (by index).
        needs: fc.tuple(
          ...drafts.map((_, i) =>
            fc.option(
              fc.subarray(
                Array.from({ length: i }, (__, j) => j),
                { minLength: 0 }
              ),
              { nil: undefined }
            )
          )
        ),
        pivot: fc.option(fc.integer({ min: 0, max: drafts.length - 1 }), { nil: undefined }),
        revertMode: fc.constantFrom('sequential' as const, 'parallel' as const),
        onRevertFailure: fc.constantFrom('continue' as const, 'park' as const),
      })
    )
    .map(({ drafts, needs, pivot, revertMode, onRevertFailure }) => {
      const idOf = (i: number): string => (drafts[i]?.kind === 'group' ? `g${i}` : `s${i}`);
      // A job without a revert cannot be reverted on failure (validation refuses it): the option goes.
      const optionsOf = (job: ModelJobName, options: { revertOnFailure?: boolean }) => {
        if (MODEL_JOBS[job].hasRevert) return options;
        const { revertOnFailure: _never, ...rest } = options;
        return rest;
      };
      const steps = drafts.map((draft, i): Step => {
        const stepNeeds: number[] | undefined = needs[i];
        const common = {
          ...(stepNeeds !== undefined ? { needs: stepNeeds.map(idOf) } : {}),
          ...(pivot === i ? { pivot: true } : {}),
        };
        if (draft.kind === 'job')
          return { id: idOf(i), job: draft.job, ...optionsOf(draft.job, draft.options), ...common };
        const group: GroupStep = {
          id: idOf(i),
          parallel: draft.members.map((member, k): JobStep => ({
            id: `${idOf(i)}m${k}`,
            job: member.job,
            ...optionsOf(member.job, member.options),
          })),
          succeedWhen: draft.succeedWhen,
          ...common,
        };
        return group;
      });
      const definition: ProcessDefinition = { name: 'model', steps, options: { revertMode, onRevertFailure } };
      return definition;
    });
}

/** What goes wrong in a generated case. */
export type ModelScenario =
  | { kind: 'none' }
  | { kind: 'fail'; stepIds: string[] }
  | { kind: 'cancel'; stepId: string }
  | { kind: 'deadline'; tick: number };

/** The job step ids of a definition, in definition order. */
export function jobStepIds(definition: ProcessDefinition): string[] {
  return definition.steps.flatMap((step) => ('parallel' in step ? step.parallel.map((m) => m.id) : [step.id]));
}

/** What goes wrong in a definition: a failure (of one or two jobs), a cancellation or a deadline at any step, or nothing. */
export function scenarioArbitrary(definition: ProcessDefinition): fc.Arbitrary<ModelScenario> {
  const ids = jobStepIds(definition);
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    {
      weight: 4,
      arbitrary: fc
        .subarray(ids, { minLength: 1, maxLength: Math.min(2, ids.length) })
        .map((stepIds) => ({ kind: 'fail' as const, stepIds })),
    },
    { weight: 2, arbitrary: fc.constantFrom(...ids).map((stepId) => ({ kind: 'cancel' as const, stepId })) },
    {
      weight: 2,
      arbitrary: fc.integer({ min: 0, max: ids.length }).map((tick) => ({ kind: 'deadline' as const, tick })),
    }
  );
}

/** One thing going wrong in a run: its scenario, and the revert that fails besides (none, or one job's). */
export interface ModelCase {
  scenario: ModelScenario;
  revertFails: string[];
}

/** A case of a definition (see {@link scenarioArbitrary}). */
export function caseOf(definition: ProcessDefinition): fc.Arbitrary<ModelCase> {
  return fc.record({
    scenario: scenarioArbitrary(definition),
    revertFails: fc.subarray(jobStepIds(definition), { maxLength: 1 }),
  });
}

/** A definition and `perDefinition` cases of it (default 1). */
export function caseArbitrary(
  shape: DefinitionShape & { perDefinition?: number } = {}
): fc.Arbitrary<{ definition: ProcessDefinition; cases: ModelCase[] }> {
  const n = shape.perDefinition ?? 1;
  return definitionArbitrary(shape).chain((definition) =>
    fc.record({
      definition: fc.constant(definition),
      cases: fc.array(caseOf(definition), { minLength: n, maxLength: n }),
    })
  );
}
