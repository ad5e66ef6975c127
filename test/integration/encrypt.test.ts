/**
 * Encrypted processes on the run's real Temporal server: with a key ring, a worker and a client (jipper/testing, and
 * the built `jipper` command) run the example process to success and through an unwinding, while every payload the
 * server stores — inputs, results, the report, memo, summaries, failure messages — is AES-256-GCM ciphertext under the
 * current key, and no job data shows anywhere in the raw history bytes. Keys rotate: runs made under an old key still
 * read and replay. A run under a key the worker lacks waits, its workflow task failing with the key id, and goes on to
 * success, nothing lost and nothing done twice, once a worker with the key is there.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { DataConverter, Payload } from '@temporalio/common';
import { visit, walkGetWorkflowExecutionHistoryResponse } from '@temporalio/common/lib/internal-non-workflow';
import type { History } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { inspectSandbox, volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { loadDefinitionFile } from '../../src/client/definition-file';
import { getReport, runProcess, startProcess, waitForReport } from '../../src/client';
import { findStuckWorkflowTask } from '../../src/client/stuck-task';
import { encryptingDataConverter } from '../../src/codec/data-converter';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/codec/encryption-codec';
import { decodeHistory } from '../../src/codec/history';
import { generateKey, parseInlineKeyRing } from '../../src/codec/keyring';
import type { TestWorker } from '../../src/testing/worker';
import { startTestWorker } from '../../src/testing/worker';
import type { CliResult } from '../support/cli';
import { jipper, requireBuiltCli, cliEnv } from '../support/cli';
import { waitUntil } from '../support/observe';
import { spawnWorker } from '../support/worker-process';
import { testConnection } from '../support/server';

const KEYS = { k1: generateKey(), k2: generateKey(), k3: generateKey() };
const ringOf = (...ids: (keyof typeof KEYS)[]) => ids.map((id) => `${id}:${KEYS[id]}`).join(',');
const converterOf = (...ids: (keyof typeof KEYS)[]): DataConverter =>
  encryptingDataConverter(parseInlineKeyRing(ringOf(...ids), 'the test key ring'));

const stamp = randomUUID().slice(0, 8);
/** Job data that must never show in what the server stores. */
const volume = `acme-payroll-${stamp}`;
const exportName = `acme-share-${stamp}`;

let sandbox: string;
let scratch: string;
let definition: unknown;
let plain: Awaited<ReturnType<typeof testConnection>>;

beforeAll(async () => {
  requireBuiltCli();
  sandbox = mkdtempSync(join(tmpdir(), 'jipper-encrypt-'));
  scratch = mkdtempSync(join(tmpdir(), 'jipper-encrypt-files-'));
  definition = await loadDefinitionFile('examples/provision-volume.yaml');
  plain = await testConnection();
});

afterAll(async () => {
  await plain?.close();
  rmSync(sandbox, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** Every payload of a history as stored (search attributes aside: those are indexed, never payloads of job data). */
/**
 * Temporal's own marker metadata, written without codecs: a patch marker's one payload (the patch id), and a local
 * activity marker's `data` (its seq, activity type, attempt and times). Checked on their own; the local activity's
 * result, in the same marker, is an encoded payload like any other.
 */
const SDK_MARKER_METADATA: Record<string, (key: string) => boolean> = {
  core_patch: () => true,
  core_local_activity: (key) => key === 'data',
};
const isSdkMetadata = (event: temporal.api.history.v1.IHistoryEvent, key: string) =>
  SDK_MARKER_METADATA[event.markerRecordedEventAttributes?.markerName ?? '']?.(key) ?? false;

/** Temporal's marker metadata in a history, by marker name. */
function sdkMarkerMetadata(history: History): { marker: string; value: unknown }[] {
  return (history.events ?? []).flatMap((event) =>
    Object.entries(event.markerRecordedEventAttributes?.details ?? {})
      .filter(([key]) => isSdkMetadata(event, key))
      .flatMap(([, list]) => list.payloads ?? [])
      .map((p) => ({
        marker: event.markerRecordedEventAttributes?.markerName ?? '',
        value: JSON.parse(text(p.data)) as unknown,
      }))
  );
}

/** Every payload a history stores, but Temporal's marker metadata. */
async function storedPayloads(history: History): Promise<Payload[]> {
  const found: Payload[] = [];
  const events = (history.events ?? []).map((event) => {
    const marker = event.markerRecordedEventAttributes;
    if (!marker?.details) return event;
    const details = Object.fromEntries(Object.entries(marker.details).filter(([key]) => !isSdkMetadata(event, key)));
    return { ...event, markerRecordedEventAttributes: { ...marker, details } };
  });
  await visit(
    { history: temporal.api.history.v1.History.create({ events }) },
    walkGetWorkflowExecutionHistoryResponse,
    {
      transformPayload: async (payload) => (found.push(payload), payload),
      transformPayloads: async (payloads) => (found.push(...payloads), payloads),
      skipSearchAttributes: true,
    }
  );
  return found;
}

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const rawHistory = (id: string) => plain.client.workflow.getHandle(id).fetchHistory();
const historyBytes = (history: History) =>
  Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');

/** Every failure recorded in a history. */
function failures(history: History) {
  return (history.events ?? []).flatMap((event) => {
    const failure =
      event.activityTaskFailedEventAttributes?.failure ??
      event.workflowExecutionFailedEventAttributes?.failure ??
      event.workflowTaskFailedEventAttributes?.failure;
    return failure ? [failure] : [];
  });
}

describe('a worker and a client with a key ring (jipper/testing)', () => {
  let tw: TestWorker;
  let succeededId: string;
  let revertedId: string;

  beforeAll(async () => {
    tw = await startTestWorker([volumeLibrary({ root: sandbox })], {
      name: 'encrypt',
      dataConverter: converterOf('k1'),
    });
    const options = { taskQueue: tw.taskQueue, registry: tw.registry };
    const first = await runProcess(tw.client, definition, { ...options, params: { volume, exportName } });
    expect(first.status).toBe('succeeded');
    succeededId = first.processId;
    const second = await runProcess(tw.client, definition, {
      ...options,
      params: { volume: `${volume}-b`, exportName },
    });
    expect(second).toMatchObject({ status: 'reverted', failedStep: 'export' });
    expect(second.error?.message).toContain(`export name "${exportName}" is already used by volume "${volume}"`);
    revertedId = second.processId;
  });

  afterAll(() => tw?.shutdown());

  it('reads the reports back as they were written', async () => {
    const report = await getReport(tw.client, succeededId);
    expect(report.jobs.find((j) => j.stepId === 'allocate')?.detail).toContain(volume);
    expect((await inspectSandbox(sandbox)).volumes).toEqual([volume]);
  });

  it.each([
    ['succeeded', () => succeededId],
    ['unwound', () => revertedId],
  ])(
    'stores only ciphertext for the %s run: every payload encrypted under k1, no job data in any byte',
    async (_, id) => {
      const history = await rawHistory(id());
      const payloads = await storedPayloads(history);
      // Inputs, results, the report, memo, summaries, details, failure messages: dozens of payloads, all encrypted.
      expect(payloads.length).toBeGreaterThan(20);
      for (const payload of payloads) {
        expect(text(payload.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
        expect(text(payload.metadata?.[KEY_ID_METADATA])).toBe('k1');
      }
      // Temporal's marker metadata, in plaintext: a patch id of Jipper's, or a local activity's seq, type and times.
      const ofJipper = {
        id: expect.stringMatching(/^jipper[.-]/) as unknown,
        type: expect.stringMatching(/^jipper\./) as unknown,
      };
      for (const { marker, value } of sdkMarkerMetadata(history)) {
        if (marker === 'core_patch') expect(value).toEqual({ id: ofJipper.id, deprecated: false });
        else expect(value).toMatchObject({ activity_type: ofJipper.type });
      }
      const bytes = historyBytes(history);
      const jobData = [volume, exportName, 'acme', 'allocated', 'already used', '"sizeMb"', 'Steps: allocate'];
      for (const data of jobData) expect(bytes).not.toContain(data);
      // The same history, decrypted with the key ring, holds them: the search above looks where the data is.
      const decoded = historyBytes(await decodeHistory(await rawHistory(id()), converterOf('k1').payloadCodecs ?? []));
      for (const data of [volume, 'allocated', '"sizeMb"', 'Steps: allocate']) expect(decoded).toContain(data);
    }
  );

  it('moves failure messages into the encrypted attributes, keeping only their type in plaintext', async () => {
    const recorded = failures(await rawHistory(revertedId));
    expect(recorded.length).toBeGreaterThanOrEqual(2); // the export's attempts, and the process
    for (const failure of recorded) {
      expect(failure.message).toBe('Encoded failure');
      expect(failure.stackTrace ?? '').toBe('');
      expect(text(failure.encodedAttributes?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    }
    expect(recorded.map((f) => f.applicationFailureInfo?.type)).toEqual(
      expect.arrayContaining(['NameAlreadyExportedError', 'JipperProcessFailed'])
    );
  });

  it('keeps in plaintext only the search attributes (process name and status) and ids, none of them job data', async () => {
    const { workflowExecutionInfo: info } = await plain.client.workflowService.describeWorkflowExecution({
      namespace: plain.namespace,
      execution: { workflowId: revertedId },
    });
    const fields = info?.searchAttributes?.indexedFields ?? {};
    expect(Object.keys(fields)).toEqual(expect.arrayContaining(['JipperProcess', 'JipperStatus']));
    expect(text(fields.JipperProcess?.data)).toBe('"provision-volume"');
    expect(text(fields.JipperStatus?.data)).toBe('"reverted"');
    for (const payload of Object.values(info?.memo?.fields ?? {})) {
      expect(text(payload.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    }
    expect(JSON.stringify(fields)).not.toContain(stamp);
  });
});

describe('the jipper command with a key ring', () => {
  let tw: TestWorker;
  let env: NodeJS.ProcessEnv;
  let id: string;

  beforeAll(async () => {
    tw = await startTestWorker([volumeLibrary({ root: sandbox })], {
      name: 'encrypt-cli',
      dataConverter: converterOf('k1'),
    });
    env = cliEnv(tw.taskQueue, sandbox);
    id = `encrypt-cli-${stamp}`;
    const started = await jipper(
      [
        'start',
        'examples/provision-volume.yaml',
        '--id',
        id,
        '--set',
        `volume=${volume}-cli`,
        '--set',
        `exportName=${exportName}-cli`,
        '--wait',
      ],
      { ...env, JIPPER_ENCRYPTION_KEYS: ringOf('k1') }
    );
    expect(started).toMatchObject({ code: 0 });
  });

  afterAll(() => tw?.shutdown());

  const withKeys = (args: string[], ring = ringOf('k1')) => jipper(args, { ...env, JIPPER_ENCRYPTION_KEYS: ring });
  const expectOneLine = (result: CliResult, code: number, pattern: RegExp) => {
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(/^jipper: [^\n]+\n$/);
    expect(result.stderr).toMatch(pattern);
  };

  it('started an encrypted run: its stored input is ciphertext', async () => {
    const [start] = (await rawHistory(id)).events ?? [];
    const input = start?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    expect(text(input?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
  });

  it('reads the report and status with the key ring, and says what is missing without it', async () => {
    const report = await withKeys(['report', id, '--json']);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ status: 'succeeded', processId: id });
    expect((await withKeys(['status', id])).stdout).toMatch(/succeeded/);
    expectOneLine(
      await jipper(['report', id], env),
      1,
      /payloads are encrypted and no key ring is configured: set JIPPER_ENCRYPTION_KEYS/
    );
    expectOneLine(
      await withKeys(['report', id], ringOf('k2')),
      1,
      /encrypted with key "k1", which is not in the key ring of JIPPER_ENCRYPTION_KEYS \(it has "k2"\)/
    );
  });

  it('lists encrypted runs without a key ring: the list reads only the plaintext search attributes', async () => {
    const listed = await jipper(['list', '--process', 'provision-volume', '--limit', '200', '--json'], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ id, process: 'provision-volume', status: 'succeeded' })])
    );
  });

  it('exports the history encrypted, replays it with the key ring, and decodes it on request', async () => {
    const file = join(scratch, `${id}.json`);
    expect((await withKeys(['history', id, '-o', file])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toContain(volume);
    const replayed = await withKeys(['replay', file]);
    expect(replayed.stdout).toContain(`ok    ${file}`);
    expect(replayed.code).toBe(0);
    const without = await jipper(['replay', file], env);
    expect(without.code).toBe(1);
    // One line naming the key and that there is no ring, and none of the SDK's errors and stacks before it.
    expect(without.stdout).toContain(
      `FAIL  ${file}: cannot decrypt: a payload is encrypted with key "k1" and this replay has no key ring`
    );
    expect(without.stderr).not.toMatch(/^\s+at |Unknown encoding/m);
    expect(without.stderr.split('\n').filter(Boolean).length).toBeLessThanOrEqual(1);
    const wrongKey = await withKeys(['replay', file], ringOf('k2'));
    expect(wrongKey.stdout).toContain(
      `FAIL  ${file}: cannot decrypt: a payload is encrypted with key "k1", which is not in the key ring of JIPPER_ENCRYPTION_KEYS (it has "k2")`
    );
    // --decode writes plaintext payloads: readable, and replayable without the key ring.
    const decodedFile = join(scratch, `${id}-decoded.json`);
    expect((await withKeys(['history', id, '--decode', '-o', decodedFile])).code).toBe(0);
    const datas: string[] = [];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (value && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) {
          if (key === 'data' && typeof inner === 'string') datas.push(Buffer.from(inner, 'base64').toString('utf8'));
          else collect(inner);
        }
      }
    };
    collect(JSON.parse(readFileSync(decodedFile, 'utf8')));
    expect(datas.join('\n')).toContain(`${volume}-cli`);
    expect(readFileSync(decodedFile, 'utf8')).not.toContain(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));
    expect((await jipper(['replay', decodedFile], env)).code).toBe(0);
  });
});

describe('rotating keys', () => {
  it('encrypts new runs under the new current key while runs under the old key still read and replay', async () => {
    const root = mkdtempSync(join(tmpdir(), 'jipper-rotate-'));
    const old = await startTestWorker([volumeLibrary({ root })], {
      name: 'rotate-old',
      dataConverter: converterOf('k1'),
    });
    let oldId: string;
    try {
      const report = await runProcess(old.client, definition, {
        taskQueue: old.taskQueue,
        registry: old.registry,
        params: { volume: `rot-a-${stamp}`, exportName: `rot-a-${stamp}` },
      });
      oldId = report.processId;
    } finally {
      await old.shutdown();
    }
    const rotated = await startTestWorker([volumeLibrary({ root })], {
      name: 'rotate-new',
      taskQueue: old.taskQueue,
      dataConverter: converterOf('k2', 'k1'),
    });
    try {
      const report = await runProcess(rotated.client, definition, {
        taskQueue: rotated.taskQueue,
        registry: rotated.registry,
        params: { volume: `rot-b-${stamp}`, exportName: `rot-b-${stamp}` },
      });
      expect(report.status).toBe('succeeded');
      const keysOf = async (id: string) =>
        new Set((await storedPayloads(await rawHistory(id))).map((p) => text(p.metadata?.[KEY_ID_METADATA])));
      expect(await keysOf(report.processId)).toEqual(new Set(['k2']));
      expect(await keysOf(oldId)).toEqual(new Set(['k1']));
      await expect(getReport(rotated.client, oldId)).resolves.toMatchObject({ status: 'succeeded' });
    } finally {
      await rotated.shutdown();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a run under a key the worker does not have', () => {
  it('waits, its workflow task failing with the key id, and goes on once a worker has the key: nothing lost', async () => {
    const root = mkdtempSync(join(tmpdir(), 'jipper-unknown-key-'));
    const taskQueue = `unknown-key-${randomUUID()}`;
    // The client has rotated to k3; the only worker still has k1 alone.
    const behind = await startTestWorker([volumeLibrary({ root })], { taskQueue, dataConverter: converterOf('k1') });
    const ahead = await startTestWorker([volumeLibrary({ root })], {
      taskQueue: `${taskQueue}-unused`,
      dataConverter: converterOf('k3', 'k1'),
    });
    const client: Client = ahead.client;
    let caughtUp: TestWorker | undefined;
    try {
      const handle = await startProcess(client, definition, {
        taskQueue,
        registry: ahead.registry,
        params: { volume: `unk-${stamp}`, exportName: `unk-${stamp}` },
      });
      const stuck = await waitUntil(async () => {
        const found = await findStuckWorkflowTask(client, handle.workflowId);
        return found !== undefined && found.attempt >= 2 && found;
      }, 'the workflow task to fail twice');
      expect(stuck?.message).toContain('encrypted with key "k3", which is not in the key ring');
      // `jipper status` says the run is stuck and why, in one line naming the key and the ring.
      const status = await jipper(
        ['status', handle.workflowId],
        cliEnv(taskQueue, root, { JIPPER_ENCRYPTION_KEYS: ringOf('k3', 'k1') })
      );
      expect(status.code).toBe(1);
      expect(status.stderr).toMatch(
        /^jipper: \S+ is running but stuck: its workflow task failed \d+ times: a payload is encrypted with key "k3", which is not in the key ring of the test key ring \(it has "k1"\)[^\n]*\n$/
      );
      expect((await handle.describe()).status.name).toBe('RUNNING');
      expect((await inspectSandbox(root)).volumes).toEqual([]);

      await behind.shutdown();
      caughtUp = await startTestWorker([volumeLibrary({ root })], {
        taskQueue,
        dataConverter: converterOf('k3', 'k1'),
      });
      const report = await waitForReport(handle);
      expect(report.status).toBe('succeeded');
      expect(report.jobs.every((j) => j.status === 'succeeded' && j.attempts === 1)).toBe(true);
      const effects = await inspectSandbox(root);
      expect(effects.volumes).toEqual([`unk-${stamp}`]);
      expect(effects.catalog).toHaveLength(1);
    } finally {
      await caughtUp?.shutdown();
      if (behind.worker.getState() === 'RUNNING') await behind.shutdown();
      await ahead.shutdown();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a worker with no key ring', () => {
  it('fails the workflow task of an encrypted run naming the key, in its log and in findStuckWorkflowTask', async () => {
    const root = mkdtempSync(join(tmpdir(), 'jipper-no-ring-'));
    const taskQueue = `no-ring-${randomUUID()}`;
    const logFile = join(root, 'worker.log');
    const worker = await spawnWorker({ taskQueue, sandbox: join(root, 'sandbox'), logFile });
    const client = new Client({ connection: plain.connection, dataConverter: converterOf('k1') });
    try {
      const handle = await startProcess(client, definition, {
        taskQueue,
        params: { volume: `nr-${stamp}`, exportName: `nr-${stamp}` },
      });
      const stuck = await waitUntil(async () => {
        const found = await findStuckWorkflowTask(client, handle.workflowId);
        return found !== undefined && found.attempt >= 2 && found;
      }, 'the workflow task to fail twice');
      const said = 'a payload is encrypted with key "k1" and this worker has no key ring';
      expect(stuck?.message).toContain(said);
      const log = readFileSync(logFile, 'utf8');
      expect(log).toContain(said);
      expect(log).not.toContain('Unknown encoding');
      await handle.terminate('test over');
    } finally {
      await worker.kill('SIGTERM');
      rmSync(root, { recursive: true, force: true });
    }
  });
});
