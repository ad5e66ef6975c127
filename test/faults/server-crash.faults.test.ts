/**
 * Repeated server crashes: a private dev server (SQLite file) is SIGKILLed five times, at random moments, while three
 * provisioning processes with long jobs run forward and unwind; each time it is down for 1–3 s and restarted on the
 * same file and port. Every process ends as its args say, with report and sandbox in agreement.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import { startProcess, waitForReport } from '../../src/client';
import { recordFigure } from '../support/figures';
import { seededRandom } from '../support/load';
import type { PrivateServer } from '../support/private-server';
import { startPrivateServer } from '../support/private-server';
import type { Provisioning } from '../support/volume-effects';
import {
  TAKEN_EXPORT,
  effectsOf,
  expectedEffects,
  longAlloc,
  provisioning,
  takenExportConf,
} from '../support/volume-effects';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';

let dir: string;
let server: PrivateServer;
let worker: WorkerProcess;
let connection: Connection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jipper-server-crash-faults-'));
  server = await startPrivateServer(dir);
});
afterAll(async () => {
  await worker?.kill();
  await connection?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the server SIGKILLed five times mid-run: every process ends as its args say, report and sandbox agree', async () => {
  const sandbox = join(dir, 'sandbox');
  await mkdir(join(sandbox, 'exports'), { recursive: true });
  await writeFile(join(sandbox, 'exports', `${TAKEN_EXPORT}.conf`), takenExportConf());
  const taskQueue = `server-crash-faults-${randomUUID()}`;
  worker = await spawnWorker({ taskQueue, sandbox, address: server.address });
  connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const registry = new JobRegistry([volumeLibrary({ root: sandbox })]);
  const long = longAlloc(2, '3s');
  const specs: Provisioning[] = [
    { volume: 'server-kills-a', sizeMb: 24, ...long },
    { volume: 'server-kills-b', sizeMb: 20, failAt: 'last', ...long },
    { volume: 'server-kills-c', sizeMb: 16, failAt: 'quota', ...long },
  ];
  const started = Date.now();
  const handles = await Promise.all(
    specs.map((spec) => startProcess(client, provisioning(spec), { taskQueue, registry }))
  );

  const random = seededRandom(11);
  const outages: { atMs: number; downMs: number }[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 2_000 + random() * 4_000));
    const at = Date.now();
    await server.crash();
    await new Promise((r) => setTimeout(r, 1_000 + random() * 2_000));
    await server.restart();
    outages.push({ atMs: at - started, downMs: Date.now() - at });
  }
  const reports = await Promise.all(handles.map((h) => waitForReport(h)));

  expect(reports.map((r) => [r.status, r.failedStep])).toEqual([
    ['succeeded', undefined],
    ['reverted', 'spare'],
    ['reverted', 'quota'],
  ]);
  for (const [i, report] of reports.entries()) {
    expect(await effectsOf(sandbox, report, specs[i] as Provisioning)).toEqual(expectedEffects(report));
    expect(report.needsAttention).toEqual([]);
  }
  expect(worker.alive()).toBe(true);
  recordFigure('server-crash repeated', {
    kills: outages.length,
    outages,
    totalMs: Date.now() - started,
    allocAttempts: reports.map((r) => r.jobs[0]?.attempts),
    revertAttempts: reports.map((r) => r.jobs[0]?.revert?.attempts),
  });
});
