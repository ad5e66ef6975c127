/**
 * Crashes during a wait: the worker (a separate process) is SIGKILLed and the server (a private dev server on a
 * SQLite file) is killed and restarted while a process waits for an approval, and a wait expires while no worker runs
 * at all. A wait holds no worker and no activity, so nothing is lost and nothing runs twice: the effects on disk (the
 * volume library's sandbox) match the report, and every job ran (and every revert ran) exactly once.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import { getReport, startProcess, waitForReport } from '../../src/client';
import type { ProcessDefinition } from '../../src/schema/definition';
import { cliEnv, jipper, jipperExpect, requireBuiltCli } from '../support/cli';
import { waitUntil } from '../support/observe';
import type { PrivateServer } from '../support/private-server';
import { startPrivateServer } from '../support/private-server';
import type { Provisioning } from '../support/volume-effects';
import { effectsOf, expectedEffects, provisioning } from '../support/volume-effects';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';

let dir: string;
let server: PrivateServer;
let worker: WorkerProcess | undefined;
let connection: Connection;
let client: Client;
let sandbox: string;
let taskQueue: string;
let registry: JobRegistry;

beforeAll(async () => {
  requireBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'jipper-waits-crash-'));
  server = await startPrivateServer(dir);
  sandbox = join(dir, 'sandbox');
  taskQueue = `waits-crash-${randomUUID()}`;
  worker = await spawnWorker({ taskQueue, sandbox, address: server.address });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
  registry = new JobRegistry([volumeLibrary({ root: sandbox })]);
});

afterAll(async () => {
  await worker?.kill();
  await connection?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The volume provisioning with a wait step between `export` and `register`. */
function gated(spec: Provisioning, wait: Record<string, unknown>): ProcessDefinition {
  const definition = provisioning(spec);
  definition.steps.splice(3, 0, { id: 'gate', ...wait } as ProcessDefinition['steps'][number]);
  return definition;
}

/** A wait is open (not a delayed start's `waiting`, which getReport may say for a run that has only just started). */
const waiting = (id: string) =>
  waitUntil(async () => {
    const report = await getReport(client, id);
    return report.status === 'waiting' && report.jobs.some((j) => j.wait && j.status === 'running');
  }, `${id} to wait`);

test('worker killed and server restarted during an approval: approved through the CLI, every job ran once', async () => {
  const spec: Provisioning = { volume: 'wait-crash-approve' };
  const id = `waits-crash-approve-${randomUUID()}`;
  const handle = await startProcess(client, gated(spec, { approve: { prompt: 'Register it?', timeout: '1h' } }), {
    taskQueue,
    registry,
    id,
  });
  await waiting(id);
  await worker?.kill('SIGKILL');
  await server.crash();
  await server.restart();
  worker = await spawnWorker({ taskQueue, sandbox, address: server.address });

  const env = cliEnv(taskQueue, sandbox, { TEMPORAL_ADDRESS: server.address, JIPPER_IDENTITY: 'ops' });
  await waiting(id);
  await jipperExpect(['approve', id, 'gate', '--reason', 'checked'], env, 0);
  const report = await waitForReport(handle);

  expect(report.status).toBe('succeeded');
  expect(report.jobs.filter((j) => j.stepId !== 'gate').every((j) => j.attempts === 1)).toBe(true);
  expect(report.jobs.find((j) => j.stepId === 'gate')?.wait).toMatchObject({ outcome: 'approved', by: 'ops' });
  expect(await effectsOf(sandbox, report, spec)).toEqual({
    alloc: 1,
    fs: 1,
    quota: 1,
    export: 1,
    register: 1,
    audit: 1,
  });
}, 90_000);

test('worker killed during an event wait: the event, sent by name once a worker is back, finds it; every job ran once', async () => {
  const spec: Provisioning = { volume: 'wait-crash-event' };
  const id = `waits-crash-event-${randomUUID()}`;
  const event = `volume.checked.${randomUUID()}`;
  const wait = { waitFor: { event, match: 'event.volume == params.volume', timeout: '1h' } };
  const handle = await startProcess(client, gated(spec, wait), { taskQueue, registry, id });
  await waiting(id);
  await worker?.kill('SIGKILL');
  worker = await spawnWorker({ taskQueue, sandbox, address: server.address });

  // By name, no --to: the process is found by its search attribute (visibility may lag a little).
  const env = cliEnv(taskQueue, sandbox, { TEMPORAL_ADDRESS: server.address });
  await waitUntil(async () => {
    const sent = await jipper(['send-event', event, '--data', JSON.stringify({ volume: spec.volume })], env);
    return sent.code === 0 && sent.stdout.includes(id);
  }, `the event to reach ${id}`);
  const report = await waitForReport(handle);

  expect(report.status).toBe('succeeded');
  expect(report.jobs.filter((j) => j.stepId !== 'gate').every((j) => j.attempts === 1)).toBe(true);
  expect(report.jobs.find((j) => j.stepId === 'gate')?.wait).toMatchObject({ outcome: 'received' });
  expect(await effectsOf(sandbox, report, spec)).toEqual({
    alloc: 1,
    fs: 1,
    quota: 1,
    export: 1,
    register: 1,
    audit: 1,
  });
}, 90_000);

test('a wait that expires while no worker runs: the next worker unwinds, every effect undone once', async () => {
  const spec: Provisioning = { volume: 'wait-crash-expire' };
  const id = `waits-crash-expire-${randomUUID()}`;
  const wait = { waitFor: { event: 'volume.checked', timeout: '2s' } };
  const handle = await startProcess(client, gated(spec, wait), { taskQueue, registry, id });
  await waiting(id);
  await worker?.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 3_000));
  worker = await spawnWorker({ taskQueue, sandbox, address: server.address });
  const report = await waitForReport(handle);

  expect(report.status).toBe('reverted');
  expect(report.failedStep).toBe('gate');
  expect(report.error).toMatchObject({ class: 'timeout' });
  // Newest first; the parallel group's two members are reverted together, in either order.
  const [first, ...middle] = report.revertOrder;
  const last = middle.pop();
  expect([first, middle.sort(), last]).toEqual(['export', ['fs', 'quota'], 'alloc']);
  for (const stepId of report.revertOrder) {
    expect(report.jobs.find((j) => j.stepId === stepId)?.revert).toMatchObject({ status: 'reverted', attempts: 1 });
  }
  const effects = await effectsOf(sandbox, report, spec);
  expect(effects).toEqual({ alloc: 0, fs: 0, quota: 0, export: 0, register: 0, audit: 0 });
  expect(effects).toEqual(expectedEffects(report));
}, 90_000);
