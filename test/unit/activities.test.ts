/**
 * Activity unit tests with Temporal's MockActivityEnvironment: the job wrappers the registry builds (input validation,
 * idempotency keys, details, failure classification) and the example volume jobs' real effects on disk.
 */
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { volumeJobs, volumeLibrary, inspectSandbox } from '../../src/examples/volume/volume-jobs';
import { defineJob } from '../../src/jobs/job';
import { JobRegistry } from '../../src/runtime/registry';
import type { JobCall, JobOutcome, RevertCall } from '../../src/shared/calls';
import { DuplicateJobError, defineLibrary } from '../../src/jobs/library';

const MB = 1024 * 1024;

const call = (job: string, stepId: string, input: unknown, processId = 'proc-1'): JobCall => ({
  processId,
  stepId,
  job,
  input,
  results: {},
});

async function invoke(
  registry: JobRegistry,
  activity: string,
  arg: JobCall | RevertCall,
  attempt = 1
): Promise<JobOutcome> {
  const fn = registry.activities()[activity];
  if (!fn) throw new Error(`no activity ${activity}`);
  const env = new MockActivityEnvironment({ attempt });
  return (await env.run<[JobCall | RevertCall], unknown, typeof fn>(fn, arg)) as JobOutcome;
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('the job wrappers', () => {
  const seen: { key: string; attempt: number }[] = [];
  const echo = defineJob({
    name: 'echo',
    input: z.object({ text: z.string().min(1) }),
    output: z.object({ text: z.string() }),
    async run(input, ctx) {
      seen.push({ key: ctx.idempotencyKey, attempt: ctx.attempt });
      ctx.setDetail(`echoed ${input.text}`);
      if (input.text === 'bad-output') return { text: 42 as unknown as string };
      if (input.text === 'explode') throw new RangeError('out of range');
      return { text: input.text };
    },
    async revert(_input, result, ctx) {
      seen.push({ key: ctx.idempotencyKey, attempt: ctx.attempt });
      ctx.setDetail(`reverted ${result?.text ?? '(no result)'} after failure: ${ctx.afterFailure}`);
    },
  });
  const registry = new JobRegistry([defineLibrary('echo', [echo])]);

  beforeEach(() => {
    seen.length = 0;
  });

  test('a run gets its idempotency key and attempt, and returns result, detail and attempt', async () => {
    const outcome = await invoke(registry, 'echo.run', call('echo', 'say', { text: 'hi' }), 3);
    expect(outcome).toEqual({ result: { text: 'hi' }, detail: 'echoed hi', attempt: 3 });
    expect(seen).toEqual([{ key: 'proc-1/say', attempt: 3 }]);
  });

  test('a revert gets the /revert key, the result and whether it runs after a failure', async () => {
    const outcome = await invoke(registry, 'echo.revert', {
      ...call('echo', 'say', { text: 'hi' }),
      result: { text: 'hi' },
      afterFailure: false,
    });
    expect(outcome.detail).toBe('reverted hi after failure: false');
    expect(seen).toEqual([{ key: 'proc-1/say/revert', attempt: 1 }]);
  });

  test('input that fails the schema is a non-retryable failure naming the field; the job does not run', async () => {
    const failure = await failureOf(invoke(registry, 'echo.run', call('echo', 'say', { text: '' })));
    expect(failure).toMatchObject({ type: 'JipperInvalidInput', nonRetryable: true });
    expect(failure.message).toMatch(/invalid input for job "echo" at step "say": args\.text:/);
    expect(seen).toEqual([]);
  });

  test('a result that fails the output schema is a non-retryable failure', async () => {
    const failure = await failureOf(invoke(registry, 'echo.run', call('echo', 'say', { text: 'bad-output' })));
    expect(failure).toMatchObject({ type: 'JipperInvalidOutput', nonRetryable: true });
    expect(failure.message).toMatch(/result\.text/);
  });

  test('a thrown error keeps its class name as the failure type and carries attempt and detail', async () => {
    const failure = await failureOf(invoke(registry, 'echo.run', call('echo', 'say', { text: 'explode' }), 2));
    expect(failure).toMatchObject({ type: 'RangeError', message: 'out of range', nonRetryable: false });
    expect(failure.details).toEqual([{ attempt: 2, detail: 'echoed explode' }]);
  });

  test('two libraries defining the same job name are refused', () => {
    expect(() => new JobRegistry([defineLibrary('a', [echo]), defineLibrary('b', [echo])])).toThrow(DuplicateJobError);
    expect(() => new JobRegistry([defineLibrary('a', [echo]), defineLibrary('b', [echo])])).toThrow(
      'job "echo" is defined twice: in library "a" and in library "b"'
    );
  });

  test('a job name that is not kebab-case is refused at definition', () => {
    expect(() => defineJob({ name: 'Bad Name', input: z.object({}), run: async () => null })).toThrow(TypeError);
  });
});

describe('the example volume jobs, on a real sandbox directory', () => {
  let root: string;
  let registry: JobRegistry;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'jipper-volumes-'));
    registry = new JobRegistry([volumeLibrary({ root })]);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const allocate = (volume: string, sizeMb: number, processId = 'p1') =>
    invoke(registry, 'allocate-volume.run', call('allocate-volume', 'alloc', { volume, sizeMb }, processId));

  test('allocate-volume creates the volume file and its record; its revert removes both', async () => {
    const outcome = await allocate('vol-a', 8);
    expect(outcome.result).toMatchObject({ volume: 'vol-a', sizeMb: 8 });
    expect((await inspectSandbox(root)).volumes).toEqual(['vol-a']);
    await invoke(registry, 'allocate-volume.revert', {
      ...call('allocate-volume', 'alloc', { volume: 'vol-a', sizeMb: 8 }, 'p1'),
      result: outcome.result,
      afterFailure: false,
    });
    expect((await inspectSandbox(root)).volumes).toEqual([]);
  });

  test('a retried allocation (same idempotency key) finds its own effect and applies nothing twice', async () => {
    await allocate('vol-a', 8);
    const again = await allocate('vol-a', 8);
    expect(again.detail).toMatch(/found from an earlier attempt/);
    expect((await inspectSandbox(root)).volumes).toEqual(['vol-a']);
  });

  test('another process asking for the same volume name gets VolumeExistsError (non-retryable by policy)', async () => {
    await allocate('vol-a', 8, 'p1');
    const failure = await failureOf(allocate('vol-a', 8, 'p2'));
    expect(failure.type).toBe('VolumeExistsError');
    expect(volumeJobs({ root }).allocateVolume.options?.retry?.nonRetryableErrorTypes).toContain('VolumeExistsError');
  });

  test('the pool capacity is enforced across volumes: CapacityExceededError', async () => {
    await writeFile(join(root, 'pool.json'), JSON.stringify({ capacityMb: 20 }));
    await allocate('vol-a', 12);
    const failure = await failureOf(allocate('vol-b', 12));
    expect(failure.type).toBe('CapacityExceededError');
    expect(failure.message).toBe('the pool has 8 MB free of 20 MB; volume "vol-b" needs 12 MB');
    expect((await inspectSandbox(root)).volumes).toEqual(['vol-a']);
  });

  test('a lock whose holder was killed while writing its name (an empty owner file) is taken over once orphaned', async () => {
    const lock = join(root, '.pool.lock');
    await mkdir(lock);
    await writeFile(join(lock, 'owner'), '');
    const aMinuteAgo = new Date(Date.now() - 60_000);
    await utimes(lock, aMinuteAgo, aMinuteAgo);
    // Read as pid 0, whose "process" (the caller's group) always runs, it used to be held forever: every attempt waited
    // for it until its timeout (bug 11 in RELIABILITY.md).
    const fn = registry.activities()['allocate-volume.run'];
    if (!fn) throw new Error('no allocate-volume.run');
    const env = new MockActivityEnvironment({ attempt: 1, startToCloseTimeoutMs: 10_000 });
    const outcome = (await env.run<[JobCall], unknown, typeof fn>(
      fn,
      call('allocate-volume', 'alloc', { volume: 'vol-a', sizeMb: 8 })
    )) as JobOutcome;
    expect(outcome.result).toMatchObject({ volume: 'vol-a', sizeMb: 8 });
  });

  test('a quota above the volume size is refused: QuotaAboveLimitError', async () => {
    await allocate('vol-a', 8);
    const failure = await failureOf(
      invoke(registry, 'set-quota.run', call('set-quota', 'quota', { volume: 'vol-a', limitMb: 9 }))
    );
    expect(failure.type).toBe('QuotaAboveLimitError');
    expect((await inspectSandbox(root)).quotas).toEqual([]);
  });

  test('an export name used by another volume is refused: NameAlreadyExportedError; a revert leaves it alone', async () => {
    await allocate('vol-a', 8, 'p1');
    await allocate('vol-b', 8, 'p2');
    await invoke(
      registry,
      'export-volume.run',
      call('export-volume', 'export', { volume: 'vol-a', exportName: 's1' }, 'p1')
    );
    const failure = await failureOf(
      invoke(
        registry,
        'export-volume.run',
        call('export-volume', 'export', { volume: 'vol-b', exportName: 's1' }, 'p2')
      )
    );
    expect(failure.message).toBe('export name "s1" is already used by volume "vol-a"');
    await invoke(registry, 'export-volume.revert', {
      ...call('export-volume', 'export', { volume: 'vol-b', exportName: 's1' }, 'p2'),
      afterFailure: true,
    });
    expect(await readFile(join(root, 'exports', 's1.conf'), 'utf8')).toMatch(/volume=vol-a/);
  });

  test('register-volume adds one catalog entry per key, however often it is retried, and its revert removes it', async () => {
    const args = { volume: 'vol-a', path: '/x' };
    await invoke(registry, 'register-volume.run', call('register-volume', 'register', args, 'p1'));
    await invoke(registry, 'register-volume.run', call('register-volume', 'register', args, 'p1'), 2);
    await invoke(
      registry,
      'register-volume.run',
      call('register-volume', 'register', { volume: 'vol-b', path: '/y' }, 'p2')
    );
    expect((await inspectSandbox(root)).catalog.map((e) => e.key)).toEqual(['p1/register', 'p2/register']);
    await invoke(registry, 'register-volume.revert', {
      ...call('register-volume', 'register', args, 'p1'),
      afterFailure: false,
    });
    expect((await inspectSandbox(root)).catalog.map((e) => e.key)).toEqual(['p2/register']);
  });

  test('record-audit-event appends once per key and has no revert', async () => {
    const args = { volume: 'vol-a', message: 'hello' };
    await invoke(registry, 'record-audit-event.run', call('record-audit-event', 'audit', args));
    await invoke(registry, 'record-audit-event.run', call('record-audit-event', 'audit', args), 2);
    expect((await inspectSandbox(root)).audit).toHaveLength(1);
    expect(registry.activities()['record-audit-event.revert']).toBeUndefined();
    expect(registry.meta('record-audit-event')?.hasRevert).toBe(false);
  });

  test('zero-fill heartbeats its progress and resumes from the last heartbeat of an earlier attempt', async () => {
    const fn = registry.activities()['allocate-volume.run'];
    if (!fn) throw new Error('allocate-volume.run is not registered');
    const input = { volume: 'vol-z', sizeMb: 5, zeroFill: true };
    // Attempt 1 allocated the volume and died after filling 3 MB; what the disk held before shows as 0xff everywhere.
    await new MockActivityEnvironment({ attempt: 1 }).run<[JobCall], unknown, typeof fn>(
      fn,
      call('allocate-volume', 'alloc', { ...input, zeroFill: false })
    );
    const image = join(root, 'volumes', 'vol-z.img');
    await writeFile(image, Buffer.alloc(5 * MB, 0xff));
    const heartbeats: unknown[] = [];
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: 3 });
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const outcome = (await env.run<[JobCall], unknown, typeof fn>(
      fn,
      call('allocate-volume', 'alloc', input)
    )) as JobOutcome;
    expect(heartbeats).toEqual([4, 5]);
    expect(outcome.detail).toMatch(/zero-fill resumed at 3 MB/);
    // Attempt 2 wrote megabytes 3 and 4 with zeros and left the first three alone (its resume point).
    const bytes = await readFile(image);
    expect(bytes.length).toBe(5 * MB);
    expect(bytes.subarray(0, 3 * MB).every((b) => b === 0xff)).toBe(true);
    expect(bytes.subarray(3 * MB).every((b) => b === 0)).toBe(true);
  });
});
