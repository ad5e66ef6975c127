/**
 * TEMPORARY (lead's stand-in until the saga-core branch brings the shared arbitrary): random process definitions over
 * two jobs, one with a revert and one without.
 */
import fc from 'fast-check';
import type { JobStep, ProcessDefinition, Step } from '../../src/schema/definition';

export function modelDefinition(options: {
  jobs: { withRevert: string; withoutRevert: string };
}): fc.Arbitrary<ProcessDefinition> {
  const { jobs } = options;
  return fc
    .record({
      size: fc.integer({ min: 1, max: 6 }),
      shapes: fc.array(
        fc.record({
          group: fc.integer({ min: 0, max: 3 }),
          revert: fc.boolean(),
          revertOnFailure: fc.boolean(),
          pivot: fc.integer({ min: 0, max: 9 }),
          needsPrev: fc.boolean(),
          needsPick: fc.integer({ min: 0, max: 100 }),
          revertOnBusiness: fc.integer({ min: 0, max: 5 }),
        }),
        { minLength: 6, maxLength: 6 }
      ),
      revertMode: fc.constantFrom('sequential', 'parallel', 'sequential'),
      park: fc.integer({ min: 0, max: 4 }),
      graph: fc.boolean(),
    })
    .map(({ size, shapes, revertMode, park, graph }) => {
      const steps: Step[] = [];
      const ids: string[] = [];
      let n = 0;
      const job = (shape: (typeof shapes)[number]): JobStep => {
        const id = `s${n++}`;
        return {
          id,
          job: shape.revert ? jobs.withRevert : jobs.withoutRevert,
          ...(shape.revert && shape.revertOnFailure ? { revertOnFailure: true } : {}),
          ...(shape.revertOnBusiness === 0 ? { revertOn: ['cancel' as const] } : {}),
        };
      };
      for (let i = 0; i < size; i++) {
        const shape = shapes[i] as (typeof shapes)[number];
        const needs =
          graph && ids.length && !shape.needsPrev ? { needs: [ids[shape.needsPick % ids.length] as string] } : {};
        const pivot = shape.pivot === 0 && !graph ? { pivot: true } : {};
        if (shape.group >= 2) {
          const members = Array.from({ length: shape.group }, () => job(shape));
          const id = `g${i}`;
          steps.push({ id, parallel: members, ...needs, ...pivot });
          ids.push(id);
        } else {
          const step = { ...job(shape), ...needs, ...pivot };
          steps.push(step);
          ids.push(step.id);
        }
      }
      return {
        name: 'model',
        options: {
          revertMode: revertMode as 'sequential' | 'parallel',
          onRevertFailure: park === 0 ? ('park' as const) : ('continue' as const),
        },
        steps,
      };
    });
}
