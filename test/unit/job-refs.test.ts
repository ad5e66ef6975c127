/**
 * `jobRef` and `jobRefs` (jipper/workflow): typed handles on jobs, for code-first workflows. What they check happens at
 * compile time — `npm run typecheck` compiles this file, and each `@ts-expect-error` below fails it when the line it
 * marks compiles — and what they carry at run time is the job's name only.
 */
import type { VolumeJobs, VolumeLibrary } from '../../src/examples/volume/volume-jobs';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import type { JobRef } from '../../src/workflow';
import { jobRef, jobRefs } from '../../src/workflow';

/** The input type a handle carries. */
type InputOf<R> = R extends JobRef<infer I, unknown> ? I : never;
/** The result type a handle carries. */
type ResultOf<R> = R extends JobRef<never, infer O> ? O : never;

test('jobRefs: a handle for each job of a library, by its name; another name does not compile', () => {
  const volumes = jobRefs<VolumeLibrary>();
  const quota = volumes('set-quota');
  const input: InputOf<typeof quota> = { volume: 'vol-1', limitMb: 10 };
  const result: ResultOf<typeof quota> = { limitMb: 10 };
  // @ts-expect-error -- set-quota takes limitMb, a number
  const wrongInput: InputOf<typeof quota> = { volume: 'vol-1', limitMb: '10' };
  // @ts-expect-error -- the library has no job of that name
  const misspelt = volumes('set-qouta');

  expect(quota).toEqual({ name: 'set-quota' });
  expect([input, result, wrongInput, misspelt]).toHaveLength(4);
  // Every job of the library has a handle under its own name.
  const names = volumeLibrary({ root: '/nonexistent' }).jobs.map((job) => job.name);
  expect(names.map((name) => volumes(name).name)).toEqual(names);
});

test('jobRef: a handle on one job, typed by the job; a name other than its own does not compile', () => {
  const allocate = jobRef<VolumeJobs['allocateVolume']>('allocate-volume');
  const result: ResultOf<typeof allocate> = { volume: 'vol-1', path: '/p', sizeMb: 64 };
  // @ts-expect-error -- the job is named allocate-volume
  const other = jobRef<VolumeJobs['allocateVolume']>('set-quota');

  expect(allocate).toEqual({ name: 'allocate-volume' });
  expect([result, other]).toHaveLength(2);
});
