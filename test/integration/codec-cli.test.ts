/**
 * The codec server with the real `temporal` CLI (`workflow show --codec-endpoint`) on the run's real Temporal server:
 * an encrypted run that was paused and resumed (its resume update carries an empty payload list, which the CLI sends as
 * `{}`) and a failed run show decoded, with the endpoint given bare or as `http://host/{namespace}` as Temporal's docs
 * write it, with the CLI's `--codec-auth` bearer token (a static one, and a JWT whose permissions name the namespace
 * the CLI sends as `X-Namespace`). Without the codec the same history shows no job data.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { CodecServer } from '../../src/codec/codec-server';
import { startCodecServer } from '../../src/codec/codec-server';
import { encryptingDataConverter } from '../../src/codec/data-converter';
import { generateKey, parseInlineKeyRing } from '../../src/codec/keyring';
import { getReport, pauseProcess, resumeProcess, runProcess, startProcess, waitForReport } from '../../src/client';
import { JobRegistry } from '../../src/runtime/registry';
import type { TestWorker } from '../../src/testing/worker';
import { startTestWorker } from '../../src/testing/worker';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitUntil } from '../support/observe';
import { startApiKeyIssuer } from '../support/tls-server';
import { serverAddress } from '../support/worker';

const keyRing = parseInlineKeyRing(`k1:${generateKey()}`, 'the test key ring');
const TOKEN = `codec-cli-${randomUUID()}`;
const marker = `codec-cli-marker-${randomUUID().slice(0, 8)}`;
const journal: JournalEntry[] = [];
let tw: TestWorker;
let registry: JobRegistry;
let codec: CodecServer;
const refused: string[] = [];

beforeAll(async () => {
  const libraries = [journalLibrary(journal)];
  registry = new JobRegistry(libraries);
  tw = await startTestWorker(libraries, { name: 'codec-cli', dataConverter: encryptingDataConverter(keyRing) });
  codec = await startCodecServer({ keyRing, token: TOKEN, log: (line) => refused.push(line) });
});

afterAll(async () => {
  await codec?.close();
  await tw?.shutdown();
});

function temporalCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = process.env.TEMPORAL_CLI_PATH;
  if (!cli) throw new Error('TEMPORAL_CLI_PATH is not set: the global setup sets it when it starts the dev server');
  return new Promise((resolveRun) => {
    execFile(
      cli,
      [...args, '--address', serverAddress(), '--namespace', 'default', '--output', 'json'],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolveRun({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })
    );
  });
}

/** The CLI's output with every base64 string in it decoded too: a marker shows whether sent plain or as base64. */
function plainText(stdout: string): string {
  const decodedStrings = [...stdout.matchAll(/"([A-Za-z0-9+/]{8,}={0,2})"/g)].map((m) =>
    Buffer.from(m[1] ?? '', 'base64').toString('latin1')
  );
  return [stdout, ...decodedStrings].join('\n');
}

const ENCRYPTED = 'binary/encrypted';

const show = (id: string, codecArgs: string[] = []) => temporalCli(['workflow', 'show', '-w', id, ...codecArgs]);

async function pausedThenResumed(): Promise<string> {
  const id = `codec-cli-paused-${randomUUID().slice(0, 8)}`;
  const definition = {
    name: 'codec-cli-paused',
    steps: ['a', 'b'].map((step) => ({ id: step, job: 'task', args: { durationMs: 700, value: marker } })),
  };
  await startProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry, id });
  await waitUntil(async () => (await getReport(tw.client, id)).jobs[0]?.status === 'running', 'a to run');
  await pauseProcess(tw.client, id, `paused for ${marker}`);
  await waitUntil(async () => (await getReport(tw.client, id)).status === 'paused', 'the process to be paused');
  await resumeProcess(tw.client, id);
  expect((await waitForReport(tw.client.workflow.getHandle(id))).status).toBe('succeeded');
  return id;
}

async function failedRun(): Promise<string> {
  const definition = {
    name: 'codec-cli-failed',
    steps: [{ id: 'boom', job: 'task', args: { outcome: 'fail-nonretryable', value: marker } }],
  };
  const result = await runProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry });
  expect(result.status).toBe('reverted');
  return result.processId;
}

describe('temporal workflow show --codec-endpoint', () => {
  const endpoints = () => [codec.url, `${codec.url}/{namespace}`];

  it.each([
    ['a paused-then-resumed run', pausedThenResumed],
    ['a failed run', failedRun],
  ])('shows %s decoded, with the endpoint bare and as http://host/{namespace}', async (_, run) => {
    const id = await run();
    const raw = await show(id);
    expect(raw.code).toBe(0);
    expect(plainText(raw.stdout)).not.toContain(marker);
    expect(plainText(raw.stdout)).toContain(ENCRYPTED);
    for (const endpoint of endpoints()) {
      const shown = await show(id, ['--codec-endpoint', endpoint, '--codec-auth', `Bearer ${TOKEN}`]);
      expect({ code: shown.code, stderr: shown.stderr }).toEqual({ code: 0, stderr: '' });
      expect(plainText(shown.stdout)).toContain(marker);
      expect(plainText(shown.stdout)).not.toContain(ENCRYPTED);
    }
    expect(refused).toEqual([]);
  });

  it("decodes with a JWT whose permissions name the CLI's namespace (sent as X-Namespace)", async () => {
    const issuer = await startApiKeyIssuer();
    const jwtCodec = await startCodecServer({
      keyRing,
      jwt: { jwksUrl: issuer.jwksUrl },
      log: (line) => refused.push(line),
    });
    try {
      const id = await failedRun();
      // The bare endpoint has no namespace in its path: the server reads the CLI's X-Namespace header.
      const shown = await show(id, [
        '--codec-endpoint',
        jwtCodec.url,
        '--codec-auth',
        `Bearer ${issuer.issue(['default:read'])}`,
      ]);
      expect({ code: shown.code, stderr: shown.stderr }).toEqual({ code: 0, stderr: '' });
      expect(plainText(shown.stdout)).toContain(marker);
      expect(refused).toEqual([]);
    } finally {
      await jwtCodec.close();
      await issuer.close();
    }
  });

  it('without the token, the CLI gets nothing decoded', async () => {
    const id = await failedRun();
    const shown = await show(id, ['--codec-endpoint', codec.url]);
    expect(plainText(shown.stdout)).not.toContain(marker);
    expect(refused.some((line) => line.includes('a bearer token is required'))).toBe(true);
    refused.length = 0;
  });
});
