/**
 * Required encryption and live keys on the run's real Temporal server. A worker with a key ring refuses what arrives
 * unencrypted: a raw Temporal client's start fails the run before any job runs (the ledger stays empty), its update is
 * rejected and never written to the history, its signal fails the run. Jipper's client without a key ring refuses to
 * start in a namespace that requires encryption; with one, the same process runs and no job data shows in the raw
 * history (searched as bytes and inside every base64 string). Keys rotate mid-run with `jipper keys add`/`use`: the
 * worker and the client follow the ring file without a restart, and a worker process whose ring's keys a KEK wraps
 * (`jipper keys wrap`) reloads it on SIGHUP.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure, Payload } from '@temporalio/common';
import { visit, walkGetWorkflowExecutionHistoryResponse } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import { buildStartRequest, getReport, runProcess, startProcess } from '../../src/client';
import { EncryptionCodec, isEncrypted } from '../../src/codec/encryption-codec';
import { encryptingDataConverter } from '../../src/codec/data-converter';
import { FileKeyRing, addKeyToFile, loadKeyRing } from '../../src/codec/keyring';
import { loadConfig } from '../../src/config/config';
import { connectClient } from '../../src/config/connect';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { TestWorker } from '../../src/testing/worker';
import { startTestWorker } from '../../src/testing/worker';
import { tokenKeeperId } from '../../src/shared/tokens';
import { historyToJson } from '../../src/worker/history-json';
import { replayHistoryFiles } from '../../src/worker/replay';
import { jipper, requireBuiltCli } from '../support/cli';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitUntil } from '../support/observe';
import { testConnection } from '../support/server';
import type { TestConnection } from '../support/server';
import { spawnWorker } from '../support/worker-process';
import { serverAddress } from '../support/worker';

const stamp = randomUUID().slice(0, 8);
const journal: JournalEntry[] = [];
const blocked = new Set<string>();

let scratch: string;
let ringFile: string;
let raw: TestConnection;
let tw: TestWorker;
/** Jipper's client, configured from the environment with the key ring file (a FileKeyRing of its own). */
let jipperClient: Client;

const definition = (marker: string): ProcessDefinition => ({
  name: 'required-encryption',
  steps: [
    { id: 'a', job: 'task', args: { value: marker } },
    { id: 'b', job: 'task', args: { value: 'b' } },
  ],
});

const withoutKeys = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.JIPPER_ENCRYPTION_KEYS;
  delete env.JIPPER_ENCRYPTION_KEYS_FILE;
  return env;
};

beforeAll(async () => {
  requireBuiltCli();
  scratch = mkdtempSync(join(tmpdir(), 'jipper-required-'));
  ringFile = join(scratch, 'keys.json');
  addKeyToFile(ringFile, 'k1');
  raw = await testConnection();
  const workerConfig = await loadConfig({
    configFile: false,
    env: { ...withoutKeys(), JIPPER_ENCRYPTION_KEYS_FILE: ringFile },
  });
  tw = await startTestWorker([journalLibrary(journal, blocked)], {
    name: 'required',
    ...(workerConfig.dataConverter ? { dataConverter: workerConfig.dataConverter } : {}),
  });
  const clientConfig = await loadConfig({
    configFile: false,
    env: { ...withoutKeys(), JIPPER_ENCRYPTION_KEYS_FILE: ringFile },
  });
  jipperClient = await connectClient(clientConfig);
});

afterAll(async () => {
  blocked.clear();
  await tw?.shutdown();
  await jipperClient?.connection.close();
  await raw?.close();
  rmSync(scratch, { recursive: true, force: true });
});

afterEach(() => blocked.clear());

const ranSteps = (id: string) => journal.filter((e) => e.key.startsWith(`${id}/`)).map((e) => e.stepId);
const rawHistory = (id: string): Promise<History> => raw.client.workflow.getHandle(id).fetchHistory();

/** Whether `marker` shows anywhere in a history as the server stores it: in its text, or inside any base64 string. */
function showsIn(history: History | string, marker: string): boolean {
  const json = typeof history === 'string' ? history : historyToJson(history);
  if (json.includes(marker)) return true;
  return (json.match(/[A-Za-z0-9+/]{12,}={0,2}/g) ?? []).some((b64) =>
    Buffer.from(b64, 'base64').toString('latin1').includes(marker)
  );
}

const scheduledJobs = (history: History) =>
  (history.events ?? []).filter((event) => event.activityTaskScheduledEventAttributes).length;
const keyIdsOf = (history: History) => {
  const ids = historyToJson(history).match(/"encryption-key-id": "([^"]+)"/g) ?? [];
  return new Set(ids.map((entry) => Buffer.from(entry.split('"')[3] ?? '', 'base64').toString('utf8')));
};

describe('a worker that requires encryption (on by default with a key ring)', () => {
  it("fails a raw Temporal client's run before any job runs, naming the cause in one line", async () => {
    const marker = `raw-start-${stamp}`;
    const id = `raw-start-${stamp}`;
    await startProcess(raw.client, definition(marker), { taskQueue: tw.taskQueue, id });
    const error: unknown = await jipperClient.workflow
      .getHandle(id)
      .result()
      .then(
        () => undefined,
        (err: unknown) => err
      );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toMatchObject({
      type: 'PlaintextRefused',
      message:
        'refused: the process input arrived unencrypted (json/plain) and this worker requires encryption; send it with a client that has the key ring (JIPPER_ENCRYPTION_KEYS_FILE)',
    });
    expect(ranSteps(id)).toEqual([]);
    expect(scheduledJobs(await rawHistory(id))).toBe(0);
  });

  it('fails a run whose input is encrypted but whose memo is not, before any job runs', async () => {
    const id = `raw-memo-${stamp}`;
    const request = buildStartRequest(definition('memo-run'));
    const ring = loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: ringFile }) as FileKeyRing;
    const codec = new EncryptionCodec(ring, { namespace: raw.namespace });
    const input = await codec.encode(request.args.map((arg) => defaultPayloadConverter.toPayload(arg)));
    await raw.client.workflowService.startWorkflowExecution({
      namespace: raw.namespace,
      workflowId: id,
      workflowType: { name: request.workflowType },
      taskQueue: { name: tw.taskQueue },
      input: { payloads: input },
      memo: { fields: { note: defaultPayloadConverter.toPayload(`raw-memo-${stamp}`) } },
      requestId: randomUUID(),
    });
    const error: unknown = await jipperClient.workflow
      .getHandle(id)
      .result()
      .then(
        () => undefined,
        (err: unknown) => err
      );
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('PlaintextRefused');
    expect(cause.message).toMatch(/^refused: the memo field "note" arrived unencrypted \(json\/plain\)/);
    expect(ranSteps(id)).toEqual([]);
  });

  it("keeps Jipper's client without a key ring from starting; with the ring the process runs, nothing in plaintext", async () => {
    const required = await loadConfig({
      configFile: false,
      env: { ...withoutKeys(), JIPPER_ENCRYPTION_REQUIRED: 'true' },
    });
    await expect(connectClient(required)).rejects.toThrow(
      /^encryption is required for namespace \S+ \(JIPPER_ENCRYPTION_REQUIRED\) but this client has no key ring: set JIPPER_ENCRYPTION_KEYS_FILE$/
    );
    // The command line, as an operator runs it: `jipper start` and `jipper worker` stop in one line, nothing started.
    const cli = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NO_COLOR: '1',
      TEMPORAL_ADDRESS: serverAddress(),
      JIPPER_ENCRYPTION_REQUIRED: 'true',
    };
    for (const args of [['start', 'examples/provision-volume.yaml', '--id', `cli-start-${stamp}`], ['worker']]) {
      const refused = await jipper(args, cli);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toContain(
        'encryption is required for namespace default (JIPPER_ENCRYPTION_REQUIRED) but this '
      );
    }
    const noRun = await raw.client.workflow
      .getHandle(`cli-start-${stamp}`)
      .describe()
      .catch((err: unknown) => err);
    expect(noRun).toBeInstanceOf(Error);
    const marker = `jipper-start-${stamp}`;
    const run = await runProcess(jipperClient, definition(marker), { taskQueue: tw.taskQueue, registry: tw.registry });
    expect(run.status).toBe('succeeded');
    expect(ranSteps(run.processId)).toEqual(['a', 'b']);
    expect(showsIn(await rawHistory(run.processId), marker)).toBe(false);
  });

  it("lets through what its own workers send each other: a resource token's keeper and its signals", async () => {
    const token = `lock/enc-${stamp}`;
    const steps = [{ id: 'a', job: 'task', args: { value: 'a' }, tokens: [token] }];
    const run = await runProcess(jipperClient, { name: 'encrypted-token', steps }, { taskQueue: tw.taskQueue });
    expect(run.status).toBe('succeeded');
    expect(ranSteps(run.processId)).toEqual(['a']);
    const keeper = await raw.client.workflow.getHandle(tokenKeeperId(tw.taskQueue)).describe();
    expect(keeper.status.name).toBe('RUNNING');
    const keeperHistory = await rawHistory(tokenKeeperId(tw.taskQueue));
    expect((keeperHistory.events ?? []).filter((event) => event.workflowTaskFailedEventAttributes)).toEqual([]);
  });

  it('rejects a raw update, which never reaches the history, and the run goes on', async () => {
    const marker = `raw-update-${stamp}`;
    blocked.add('a/hold');
    const handle = await startProcess(jipperClient, definition('update-run'), { taskQueue: tw.taskQueue });
    const id = handle.workflowId;
    await waitUntil(async () => ranSteps(id).includes('a'), 'step a to run');
    await expect(
      raw.client.workflow.getHandle(id).executeUpdate('jipper.pause', { args: [{ reason: marker }] })
    ).rejects.toThrow();
    const report = await getReport(jipperClient, id);
    expect(report.status).toBe('running');
    expect(report.pause).toBeUndefined();
    blocked.delete('a/hold');
    await handle.result();
    expect(ranSteps(id)).toEqual(['a', 'b']);
    expect(showsIn(await rawHistory(id), marker)).toBe(false);
  });

  it('fails the run on a raw signal: no further job runs', async () => {
    const marker = `raw-signal-${stamp}`;
    blocked.add('a/hold');
    const handle = await startProcess(jipperClient, definition('signal-run'), { taskQueue: tw.taskQueue });
    const id = handle.workflowId;
    await waitUntil(async () => ranSteps(id).includes('a'), 'step a to run');
    await raw.client.workflow.getHandle(id).signal('jipper.tokens.granted', { requestId: marker, waitedMs: 0 });
    const error: unknown = await handle.result().then(
      () => undefined,
      (err: unknown) => err
    );
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('PlaintextRefused');
    expect(cause.message).toMatch(/^refused: the signal "jipper\.tokens\.granted" arrived unencrypted \(json\/plain\)/);
    blocked.delete('a/hold');
    expect(ranSteps(id)).toEqual(['a']);
  });
});

describe('keys that rotate without a restart', () => {
  it('follows `jipper keys add` and `jipper keys use` mid-run, in the worker and in the client; decodes 0600', async () => {
    blocked.add('a/hold');
    const before = await startProcess(jipperClient, definition('rotate-run'), { taskQueue: tw.taskQueue });
    await waitUntil(async () => ranSteps(before.workflowId).includes('a'), 'step a to run');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
    expect((await jipper(['keys', 'add', ringFile, '--id', 'k2', '--keep-current'], env)).code).toBe(0);
    expect((await jipper(['keys', 'use', ringFile, 'k2'], env)).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    blocked.delete('a/hold');
    await before.result();
    // The run started under k1 finished under k2: its later payloads are k2's, the worker never restarted.
    expect(keyIdsOf(await rawHistory(before.workflowId))).toEqual(new Set(['k1', 'k2']));
    const marker = `rotated-${stamp}`;
    const after = await runProcess(jipperClient, definition(marker), { taskQueue: tw.taskQueue });
    expect(after.status).toBe('succeeded');
    expect(keyIdsOf(await rawHistory(after.processId))).toEqual(new Set(['k2']));
    expect(showsIn(await rawHistory(after.processId), marker)).toBe(false);
    // Decoded, the history is plaintext: the file is its owner's only, one that was there before too.
    const decoded = join(scratch, 'decoded.json');
    writeFileSync(decoded, '', { mode: 0o644 });
    chmodSync(decoded, 0o644);
    const cli = { ...env, TEMPORAL_ADDRESS: serverAddress(), JIPPER_ENCRYPTION_KEYS_FILE: ringFile };
    const exported = await jipper(['history', after.processId, '--decode', '-o', decoded], cli);
    expect(exported.stderr).toContain(`of ${after.processId} to ${decoded}`);
    expect(showsIn(readFileSync(decoded, 'utf8'), marker)).toBe(true);
    expect(statSync(decoded).mode & 0o777).toBe(0o600);
  });

  it('replays the history of a run of another namespace, its payloads bound to that namespace', async () => {
    const run = await runProcess(jipperClient, definition('replay-run'), { taskQueue: tw.taskQueue });
    expect(run.status).toBe('succeeded');
    // The history as a namespace "team-a" would hold it: every payload bound to team-a instead of this one.
    const ring = await FileKeyRing.open(ringFile);
    const here = new EncryptionCodec(ring, { namespace: raw.namespace });
    const teamA = { type: 'workflow' as const, namespace: 'team-a', workflowId: run.processId };
    const rebind = async (payloads: Payload[]) =>
      Promise.all(
        payloads.map(
          async (p) => (isEncrypted(p) ? (await here.encode(await here.decode([p]), teamA))[0] : p) as Payload
        )
      );
    const history = temporal.api.history.v1.History.create(await rawHistory(run.processId));
    await visit({ history }, walkGetWorkflowExecutionHistoryResponse, {
      transformPayload: async (payload) => (await rebind([payload]))[0] as Payload,
      transformPayloads: rebind,
      skipSearchAttributes: true,
    });
    const file = join(scratch, `${run.processId}.json`);
    writeFileSync(file, historyToJson(history));
    const asTeamA = await replayHistoryFiles([file], {
      dataConverter: encryptingDataConverter(ring, { namespace: 'team-a' }),
    });
    expect(asTeamA).toEqual([{ file }]);
    const asHere = await replayHistoryFiles([file], {
      dataConverter: encryptingDataConverter(ring, { namespace: raw.namespace }),
    });
    // Bound to team-a, the payloads do not decrypt as this namespace's: the replay fails.
    expect(asHere[0]?.error).toMatch(/^replay failed: /);
  });

  it('counts what a short-lived process encrypted when it exits', async () => {
    const file = join(scratch, 'short-lived.json');
    addKeyToFile(file, 'c1');
    const dist = join(__dirname, '..', '..', 'dist', 'codec');
    const script = [
      `const { FileKeyRing } = require(${JSON.stringify(join(dist, 'keyring.js'))});`,
      `const { EncryptionCodec } = require(${JSON.stringify(join(dist, 'encryption-codec.js'))});`,
      `const codec = new EncryptionCodec(new FileKeyRing(${JSON.stringify(file)}));`,
      `codec.encode([1, 2, 3].map((n) => ({ metadata: {}, data: Buffer.from(String(n)) }))).then(() => process.exit(0));`,
    ].join('\n');
    const child = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    expect(readFileSync(`${file}.counts`, 'utf8')).toBe('c1 3\n');
  });

  it('reloads a ring file with wrapped keys (jipper keys wrap) on SIGHUP in a worker process', async () => {
    const sandbox = join(scratch, 'sandbox');
    const logFile = join(scratch, 'hup-worker.log');
    const file = join(scratch, 'hup-keys.json');
    addKeyToFile(file, 'h1');
    // Envelope encryption: the worker's ring file holds its keys wrapped by a KEK in another file.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
    const kekFile = join(scratch, 'hup-kek.key');
    const wrap = await jipper(['keys', 'wrap', file, '--kek-file', kekFile], env);
    expect(wrap.stdout.trim()).toBe(`wrapped h1 with the key-encryption key in ${kekFile}`);
    const worker = await spawnWorker({
      taskQueue: `hup-${stamp}`,
      sandbox,
      logFile,
      env: { JIPPER_ENCRYPTION_KEYS_FILE: file },
    });
    try {
      expect(readFileSync(logFile, 'utf8')).toContain('payloads encrypted with key "h1"');
      expect((await jipper(['keys', 'add', file, '--id', 'h2'], env)).code).toBe(0);
      expect(readFileSync(file, 'utf8')).toContain('"h2": {\n      "wrapped"');
      process.kill(worker.pid, 'SIGHUP');
      await waitUntil(
        async () => readFileSync(logFile, 'utf8').includes(`SIGHUP: key ring reloaded from ${file} (current key "h2")`),
        'the worker to reload on SIGHUP',
        10_000
      );
      expect(worker.alive()).toBe(true);
    } finally {
      await worker.kill('SIGTERM');
    }
  });
});
