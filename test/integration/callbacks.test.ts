/**
 * Jobs completed from outside, on the real server with a real worker process (`node dist/worker/main.js`) running
 * test/support/callback-jobs.cjs, every payload encrypted. An order reserves stock, then `charge-card` hands out a
 * completion token (to a file, as it would to a payment provider) and ends; then `ship-order` reads the charge's
 * result with `$from`. The job is settled through the built `jipper complete`, through `jipper/client`, and through
 * `jipper callback-server`; effects are checked in the jobs' ledger.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { runCli } from '../../src/cli/main';
import { encryptingDataConverter } from '../../src/codec/data-converter';
import { generateKey, parseInlineKeyRing } from '../../src/codec/keyring';
import { cancelProcess, completeJob, failJob, startProcess, waitForReport } from '../../src/client';
import type { ProcessReport } from '../../src/shared/report';
import { CLI_PATH, cliEnv, jipper, requireBuiltCli } from '../support/cli';
import { recordFigure } from '../support/figures';
import { waitUntil } from '../support/observe';
import type { TestConnection } from '../support/server';
import { testConnection } from '../support/server';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';
import { serverAddress } from '../support/worker';
import type { JobLibrary } from '../../src/jobs/library';
import { startTestWorker } from '../../src/testing/worker';

const RING = `k1:${generateKey()}`;
const LIBRARY = resolve('test/support/callback-jobs.cjs');

let scratch: string;
let sandbox: string;
let taskQueue: string;
let env: NodeJS.ProcessEnv;
let conn: TestConnection;
/** Encrypts like the worker and the CLI. */
let client: Client;
let worker: WorkerProcess;

beforeAll(async () => {
  requireBuiltCli();
  scratch = mkdtempSync(join(tmpdir(), 'jipper-callbacks-'));
  sandbox = join(scratch, 'sandbox');
  taskQueue = `callbacks-${randomUUID()}`;
  env = cliEnv(taskQueue, sandbox, { JIPPER_ENCRYPTION_KEYS: RING });
  worker = await startWorker();
  conn = await testConnection();
  const dataConverter: DataConverter = encryptingDataConverter(parseInlineKeyRing(RING, 'the test key ring'));
  client = new Client({ connection: conn.connection, namespace: conn.namespace, dataConverter });
}, 120_000);

afterAll(async () => {
  await worker?.kill();
  await conn?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function startWorker(): Promise<WorkerProcess> {
  return spawnWorker({ taskQueue, sandbox, env: { JIPPER_LIBRARIES: LIBRARY, JIPPER_ENCRYPTION_KEYS: RING } });
}

/** reserve → charge (completed from outside) → ship, which takes the charge's `chargeId` with `$from`. */
function order(id: string, chargeOptions: Record<string, unknown> = {}) {
  return {
    name: 'order',
    steps: [
      { id: 'reserve', job: 'reserve-stock', args: { orderId: id } },
      { id: 'charge', job: 'charge-card', args: { orderId: id, amount: 42 }, ...chargeOptions },
      { id: 'ship', job: 'ship-order', args: { orderId: id, chargeId: { $from: 'charge.chargeId' } } },
    ],
  };
}

async function start(definition: unknown): Promise<string> {
  const id = `order-${randomUUID().slice(0, 8)}`;
  const def = typeof definition === 'function' ? (definition as (id: string) => unknown)(id) : definition;
  await startProcess(client, def, { taskQueue, id });
  return id;
}

/** The token the charge of process `id` handed out (attempt 1). */
function tokenOf(id: string): Promise<string> {
  return waitUntil(
    () => readFile(join(sandbox, 'tokens', `${id}.1`), 'utf8').catch(() => undefined),
    `the completion token of ${id}`
  );
}

interface LedgerEntry {
  kind: 'run' | 'revert';
  job: string;
  processId: string;
  chargeId?: string;
  result?: unknown;
  pid: number;
}

function ledgerOf(id: string): LedgerEntry[] {
  let text = '';
  try {
    text = readFileSync(join(sandbox, 'ledger.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LedgerEntry)
    .filter((entry) => entry.processId === id);
}

const effects = (id: string) => ledgerOf(id).map((e) => `${e.kind} ${e.job}${e.chargeId ? ` ${e.chargeId}` : ''}`);

const report = (id: string): Promise<ProcessReport> => waitForReport(client.workflow.getHandle(id));

/** The job's attempt is still open on the server (nothing settled it). */
async function stillAwaiting(id: string): Promise<boolean> {
  const { raw } = await client.workflow.getHandle(id).describe();
  return (raw.pendingActivities ?? []).some((a) => a.activityId === 'charge.run');
}

test('completed with `jipper complete`: the result reaches the next step through $from, encrypted in history; status shows the wait; a used token changes nothing', async () => {
  const id = await start(order);
  const token = await tokenOf(id);

  const status = await jipper(['status', id], env);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(`charge: waiting for completion (jipper complete ${token} --result JSON`);
  const statusJson = JSON.parse((await jipper(['status', id, '--json'], env)).stdout) as Record<string, unknown>;
  expect(statusJson.awaitingCompletion).toEqual([expect.objectContaining({ stepId: 'charge', token })]);

  const chargeId = `ch-${randomUUID()}`;
  const completed = await jipper(
    ['complete', token, '--result', JSON.stringify({ chargeId }), '--detail', 'paid by card'],
    env
  );
  expect(completed).toMatchObject({ code: 0, stderr: '' });
  expect(completed.stdout).toBe(`completed step charge of process ${id} (job charge-card, attempt 1)\n`);

  const done = await report(id);
  expect(done.status).toBe('succeeded');
  expect(done.jobs.find((j) => j.stepId === 'charge')).toMatchObject({
    status: 'succeeded',
    result: { chargeId },
    detail: 'paid by card',
  });
  expect(effects(id)).toEqual(['run reserve-stock', 'run charge-card', `run ship-order ${chargeId}`]);

  // The result went through the data converter: the history holds it encrypted, never in plain text.
  const history = await conn.client.workflow.getHandle(id).fetchHistory();
  const completedEvent = history.events?.find(
    (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
  );
  const payload = completedEvent?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
  expect(Buffer.from(payload?.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
  const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
  expect(raw).not.toContain(chargeId);

  // The token is used: one line, exit code 2, and nothing changes.
  const again = await jipper(['complete', token, '--result', '{"chargeId":"twice"}'], env);
  expect(again.code).toBe(2);
  expect(again.stderr).toMatch(
    /^jipper: no job awaits completion with this token \(process "order-[^"]+", step "charge"/
  );
  expect(again.stderr.trim().split('\n')).toHaveLength(1);
  expect((await report(id)).jobs.find((j) => j.stepId === 'charge')?.result).toEqual({ chargeId });
  expect(effects(id)).toEqual(['run reserve-stock', 'run charge-card', `run ship-order ${chargeId}`]);
});

test('failed with failJob: the process unwinds, reverting the reservation; the used token is refused', async () => {
  const id = await start(order);
  const token = await tokenOf(id);
  await expect(failJob(client, token, 'card declined')).resolves.toMatchObject({ processId: id, stepId: 'charge' });

  const done = await report(id);
  expect(done.status).toBe('reverted');
  expect(done.failedStep).toBe('charge');
  expect(done.error).toMatchObject({ type: 'JipperFailedFromOutside', message: 'card declined' });
  expect(effects(id)).toEqual(['run reserve-stock', 'run charge-card', 'revert reserve-stock']);

  await expect(completeJob(client, token, { chargeId: 'late' })).rejects.toMatchObject({
    name: 'CompletionTokenError',
    reason: 'unknown',
  });
  expect(effects(id)).toEqual(['run reserve-stock', 'run charge-card', 'revert reserve-stock']);
});

test('completed with completeJob, then a later step fails: the charge is reverted with the result given from outside', async () => {
  const id = await start((orderId: string) => ({
    name: 'order-refused',
    steps: [
      { id: 'reserve', job: 'reserve-stock', args: { orderId } },
      { id: 'charge', job: 'charge-card', args: { orderId, amount: 42 } },
      { id: 'refuse', job: 'refuse-order', args: { reason: 'out of stock' } },
    ],
  }));
  const token = await tokenOf(id);
  await completeJob(client, token, { chargeId: 'ch-refund-me' });

  const done = await report(id);
  expect(done.status).toBe('reverted');
  expect(done.failedStep).toBe('refuse');
  expect(ledgerOf(id).map((e) => [e.kind, e.job, e.result])).toEqual([
    ['run', 'reserve-stock', undefined],
    ['run', 'charge-card', undefined],
    ['revert', 'charge-card', { chargeId: 'ch-refund-me' }],
    ['revert', 'reserve-stock', { reservation: `res-${id}` }],
  ]);
});

test('not completed within its timeout: the job times out and the process unwinds; the token is then refused', async () => {
  const id = await start((orderId: string) => order(orderId, { timeout: '2s' }));
  const token = await tokenOf(id);

  const done = await report(id);
  expect(done.status).toBe('reverted');
  expect(done.failedStep).toBe('charge');
  expect(JSON.stringify(done.error)).toMatch(/timeout|timed out/i);
  expect(effects(id)).toEqual(['run reserve-stock', 'run charge-card', 'revert reserve-stock']);

  const late = await jipper(['complete', token, '--fail', 'too late'], env);
  expect(late.code).toBe(2);
  expect(late.stderr).toMatch(/^jipper: no job awaits completion with this token/);
});

test('bad input to `jipper complete` is one line and changes nothing', async () => {
  const id = await start(order);
  const token = await tokenOf(id);
  const large = join(scratch, 'large-result.json');
  writeFileSync(large, JSON.stringify({ pad: 'x'.repeat(300_000) }));
  const forged = `jc1.${Buffer.from(
    JSON.stringify({
      ns: 'default',
      tt: Buffer.from('not a task token').toString('base64url'),
      p: id,
      s: 'charge',
      j: 'charge-card',
      a: 1,
    })
  ).toString('base64url')}`;
  const cases: [string[], RegExp][] = [
    [
      ['complete', 'not-a-token', '--result', '{}'],
      /^jipper: malformed completion token: it does not start with "jc1\."/,
    ],
    [['complete', `${token}x`, '--result', '{}'], /^jipper: malformed completion token/],
    [
      ['complete', token, '--result', '{oops'],
      /^jipper: option '--result <json>' argument '\{oops' is invalid\. not JSON/,
    ],
    [
      ['complete', token, '--result', '{}', '--fail', 'x'],
      /^jipper: give exactly one of --result JSON \(or --result-file\), --fail MESSAGE, --heartbeat and --cancelled/,
    ],
    [['complete', token], /^jipper: give exactly one of/],
    [['complete', token, '--fail', '   '], /^jipper: failure message: expected a failure message/],
    [
      ['complete', token, '--result-file', large],
      /^jipper: the result for process .* is \d+ bytes; a job's result may be at most 262144 bytes/,
    ],
    [
      ['complete', token, '--result-file', join(scratch, 'missing.json')],
      /^jipper: --result-file .*missing\.json: .*ENOENT/,
    ],
    [['complete', forged, '--result', '{}'], /^jipper: the server refused the completion token of process/],
  ];
  // In-process (the same program as the built command, without a Node start per case); the first case also built.
  expect((await jipper(cases[0]?.[0] ?? [], env)).stderr).toMatch(cases[0]?.[1] ?? /never/);
  for (const [args, expected] of cases) {
    const result = await inProcess(args);
    expect({ args: args.slice(0, 2), code: result.code, stderr: result.stderr }).toEqual({
      args: args.slice(0, 2),
      code: 2,
      stderr: expect.stringMatching(expected) as unknown,
    });
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  }
  expect(await stillAwaiting(id)).toBe(true);
  expect(effects(id)).toEqual(['run reserve-stock', 'run charge-card']);
  await completeJob(client, token, { chargeId: 'after-bad-input' });
  expect((await report(id)).status).toBe('succeeded');
});

/** Runs `jipper <args>` in this process (the test's environment: its server, no key ring) and collects its output. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'jipper', ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

/** Starts `jipper callback-server` and resolves its URL once it serves. */
async function callbackServer(extraEnv: NodeJS.ProcessEnv, args: string[] = []) {
  const child: ChildProcess = spawn(process.execPath, [CLI_PATH, 'callback-server', '--port', '0', '--json', ...args], {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const { url } = await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`callback-server exited ${child.exitCode}: ${stderr}`);
      const line = stdout.split('\n')[0];
      return stdout.includes('\n') && line ? (JSON.parse(line) as { url: string }) : undefined;
    },
    'the callback server to listen',
    30_000
  );
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  };
  return { url, stop, log: () => stderr };
}

/** POSTs `body` (with its own Content-Length unless `headers` say otherwise) and resolves the status and JSON answer. */
function post(
  url: string,
  body: string,
  headers: Record<string, string | number> = {}
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolvePost, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers },
    });
    req.once('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.once('end', () =>
        resolvePost({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> })
      );
    });
    req.once('error', reject);
    if (headers['Content-Length'] === undefined || Number(headers['Content-Length']) === Buffer.byteLength(body)) {
      req.end(body);
    } else req.flushHeaders();
  });
}

test('the callback server: a bearer token, a size limit checked before reading, one-line JSON errors, and completion', async () => {
  const bearer = randomUUID();
  const server = await callbackServer({ JIPPER_CALLBACK_TOKEN: bearer });
  try {
    const id = await start(order);
    const token = await tokenOf(id);
    const auth = { Authorization: `Bearer ${bearer}` };
    const body = JSON.stringify({ token, result: { chargeId: 'ch-http' } });

    const refusals = [
      [await post(`${server.url}/complete`, body), 401, /a bearer token is required/],
      [
        await post(`${server.url}/complete`, body, { Authorization: 'Bearer wrong-token-wrong-token' }),
        401,
        /bearer token/,
      ],
      [await post(`${server.url}/complete`, '', { ...auth, 'Content-Length': 100_000_000 }), 413, /at most \d+ bytes/],
      [await post(`${server.url}/complete`, '{oops', auth), 400, /^the body is not JSON/],
      [
        await post(`${server.url}/complete`, JSON.stringify({ token: 'jc1.zz', result: 1 }), auth),
        400,
        /^malformed completion token/,
      ],
      [
        await post(`${server.url}/complete`, JSON.stringify({ token, result: 1, extra: true }), auth),
        400,
        /Unrecognized key/,
      ],
      [await post(`${server.url}/fail`, JSON.stringify({ token }), auth), 400, /^message: /],
      [await post(`${server.url}/settle`, body, auth), 404, /POST \/complete, \/fail, \/heartbeat or \/cancelled/],
    ] as const;
    for (const [answer, status, message] of refusals) {
      expect(answer.status).toBe(status);
      expect(answer.body).toEqual({ error: expect.stringMatching(message) as unknown });
      expect(String(answer.body.error)).not.toMatch(/\n/);
    }
    expect(await stillAwaiting(id)).toBe(true);
    expect(effects(id)).toEqual(['run reserve-stock', 'run charge-card']);

    const beat = await post(
      `${server.url}/heartbeat`,
      JSON.stringify({ token, details: { step: 'authorising' } }),
      auth
    );
    expect(beat).toEqual({
      status: 200,
      body: expect.objectContaining({ ok: true, cancelRequested: false }) as unknown,
    });

    const completed = await post(`${server.url}/complete`, body, auth);
    expect(completed).toEqual({
      status: 200,
      body: { ok: true, processId: id, stepId: 'charge', job: 'charge-card', attempt: 1 },
    });
    expect((await report(id)).status).toBe('succeeded');
    expect(effects(id)).toEqual(['run reserve-stock', 'run charge-card', 'run ship-order ch-http']);

    const twice = await post(`${server.url}/complete`, body, auth);
    expect(twice.status).toBe(404);
    expect(twice.body.error).toMatch(/^no job awaits completion with this token/);
  } finally {
    await server.stop();
  }
});

test('the callback server refuses to listen beyond loopback without a bearer token, and reads one from --token-file', async () => {
  const open = await jipper(['callback-server', '--host', '0.0.0.0', '--port', '0'], env);
  expect(open.code).toBe(2);
  expect(open.stderr).toBe(
    'jipper: the callback server listens on 0.0.0.0 only with a bearer token (JIPPER_CALLBACK_TOKEN or --token-file): whoever reaches it settles jobs\n'
  );
  const short = await jipper(['callback-server', '--port', '0'], { ...env, JIPPER_CALLBACK_TOKEN: 'short' });
  expect(short.code).toBe(2);
  expect(short.stderr).toBe('jipper: invalid configuration: JIPPER_CALLBACK_TOKEN: must be at least 16 characters\n');
  const shortFile = join(scratch, 'short-token');
  writeFileSync(shortFile, 'short\n');
  const fromShortFile = await inProcess(['callback-server', '--port', '0', '--token-file', shortFile]);
  expect(fromShortFile).toEqual({
    code: 2,
    stdout: '',
    stderr: `jipper: --token-file ${shortFile}: the token must be at least 16 characters\n`,
  });

  const bearer = randomUUID();
  const tokenFile = join(scratch, 'callback-token');
  writeFileSync(tokenFile, `${bearer}\n`, { mode: 0o600 });
  const server = await callbackServer({}, ['--token-file', tokenFile]);
  try {
    const body = JSON.stringify({ token: 'jc1.x', result: 1 });
    expect((await post(`${server.url}/complete`, body)).status).toBe(401);
    const answer = await post(`${server.url}/complete`, body, { Authorization: `Bearer ${bearer}` });
    expect(answer).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/^malformed completion token/) as unknown },
    });
  } finally {
    await server.stop();
  }
});

test('a worker killed while its job awaits completion: completed meanwhile, the process finishes on a new worker, nothing run twice', async () => {
  const id = await start(order);
  const token = await tokenOf(id);
  const firstPid = worker.pid;
  await worker.kill('SIGKILL');

  const completedAt = Date.now();
  await completeJob(client, token, { chargeId: 'ch-after-crash' });
  worker = await startWorker();
  const done = await report(id);
  const recoveryMs = Date.now() - completedAt;

  expect(done.status).toBe('succeeded');
  expect(done.jobs.find((j) => j.stepId === 'charge')).toMatchObject({
    attempts: 1,
    result: { chargeId: 'ch-after-crash' },
  });
  expect(effects(id)).toEqual(['run reserve-stock', 'run charge-card', 'run ship-order ch-after-crash']);
  const pids = ledgerOf(id).map((e) => e.pid);
  expect(pids.slice(0, 2)).toEqual([firstPid, firstPid]);
  expect(pids[2]).toBe(worker.pid);
  recordFigure('callback completed while the worker was down', { recoveryMs });
});

test('a process cancelled while its job awaits completion: the holder hears of it on its heartbeat and says the job stopped; the process ends cancelled, unwound', async () => {
  const id = await start(order);
  const token = await tokenOf(id);
  await cancelProcess(client, id);
  const beat = await waitUntil(async () => {
    const answer = await jipper(['complete', token, '--heartbeat', '--json'], env);
    const parsed = JSON.parse(answer.stdout) as { cancelRequested?: boolean };
    return parsed.cancelRequested === true && parsed;
  }, 'the heartbeat to say the process asks to cancel the job');
  expect(beat).toMatchObject({ heartbeated: true, processId: id, stepId: 'charge' });
  const cancelled = await jipper(['complete', token, '--cancelled'], env);
  expect(cancelled).toMatchObject({
    code: 0,
    stdout: `cancelled step charge of process ${id} (job charge-card, attempt 1)\n`,
  });
  const done = await report(id);
  expect(done.status).toBe('cancelled');
  expect(effects(id)).toEqual(['run reserve-stock', 'run charge-card', 'revert reserve-stock']);
});

test('a job awaiting completion holds no worker slot: a worker with one activity slot has ten waiting at once', async () => {
  // The library, loaded in this process too, writes its ledger and tokens under JIPPER_SANDBOX.
  process.env.JIPPER_SANDBOX = sandbox;
  const { library } = createRequire(__filename)(LIBRARY) as { library: JobLibrary };
  const kit = await startTestWorker([library], {
    address: serverAddress(),
    name: 'callbacks-one-slot',
    dataConverter: client.options.dataConverter,
    workerOptions: { maxConcurrentActivityTaskExecutions: 1 },
    ...(process.env.JIPPER_TEST_BUNDLE ? { workflowBundlePath: process.env.JIPPER_TEST_BUNDLE } : {}),
  });
  try {
    const ids = Array.from({ length: 10 }, () => `order-${randomUUID().slice(0, 8)}`);
    const startedAt = Date.now();
    await Promise.all(ids.map((id) => startProcess(kit.client, order(id), { taskQueue: kit.taskQueue, id })));
    const tokens = await Promise.all(ids.map(tokenOf));
    const allWaitingMs = Date.now() - startedAt;
    for (const id of ids) expect(await stillAwaiting(id)).toBe(true);

    const completedAt = Date.now();
    await Promise.all(tokens.map((token, i) => completeJob(kit.client, token, { chargeId: `ch-slot-${i}` })));
    const reports = await Promise.all(ids.map(report));
    const allDoneMs = Date.now() - completedAt;
    expect(reports.map((r) => r.status)).toEqual(ids.map(() => 'succeeded'));
    ids.forEach((id, i) =>
      expect(effects(id)).toEqual(['run reserve-stock', 'run charge-card', `run ship-order ch-slot-${i}`])
    );
    recordFigure('callbacks: 10 jobs awaiting completion on one activity slot', { allWaitingMs, allDoneMs });
  } finally {
    await kit.shutdown();
  }
});
