/**
 * Encrypted runs in the Web UI, in a real browser: `jipper dev` with a key ring starts the embedded dev server with
 * its Web UI pointed at the codec server it serves, and headless Chromium shows a run's report decrypted — activity
 * summaries, the report in the current details, job details, and a secret as `‹secret ui-db-password›`, never its
 * value — while the raw history the `temporal` CLI reads (no codec) holds only ciphertext. `jipper codec-server` with a
 * bearer token decodes for the `temporal` CLI only with the token, and refuses browsers from other origins.
 *
 * The browser is the one the jest global setup found (test/support/browser.ts: a system Chromium, else the one inside
 * the `@sparticuz/chromium` package); never skipped.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { z } from 'zod';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { envSecrets } from '../../src/runtime/secrets';
import { runLink } from '../../src/cli/links';
import { runProcess } from '../../src/client';
import { encryptingDataConverter } from '../../src/codec/data-converter';
import { generateKey, parseInlineKeyRing } from '../../src/codec/keyring';
import { freePort } from '../../src/dev/ports';
import type { TestWorker } from '../../src/testing/worker';
import { startTestWorker } from '../../src/testing/worker';
import { CHROMIUM_ARGS, testChromium } from '../support/browser';
import type { Background } from '../support/background';
import { jipperInBackground } from '../support/background';
import { requireBuiltCli } from '../support/cli';

const SHOTS = join(__dirname, '..', '..', 'test-results');
const RING = `ui1:${generateKey()}`;
const TOKEN = randomBytes(18).toString('base64url');
const SECRET = `pw-${randomBytes(9).toString('base64url')}`;
const stamp = randomUUID().slice(0, 8);
const volume = `ui-acme-${stamp}`;

/** A job that takes a secret, as a real one would take a database password. */
const connectDatabase = defineJob({
  name: 'connect-database',
  input: z.object({ volume: z.string(), password: z.string().min(8) }),
  async run(input, ctx) {
    ctx.setDetail(`catalog login for ${input.volume} with password ${input.password}`);
    return { session: `s-${input.volume}` };
  },
});

const definition = {
  name: 'provision-volume-with-catalog',
  description: 'The example process, then a catalog login that needs a secret.',
  steps: [
    { id: 'allocate', job: 'allocate-volume', args: { volume, sizeMb: 32 } },
    { id: 'filesystem', job: 'create-filesystem', args: { volume: { $from: 'allocate.volume' } } },
    { id: 'catalog', job: 'connect-database', args: { volume, password: { $secret: 'ui-db-password' } } },
  ],
};

function temporalCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = process.env.TEMPORAL_CLI_PATH;
  if (!cli) throw new Error('TEMPORAL_CLI_PATH is not set: the jest global setup found no Temporal CLI');
  return new Promise((resolveRun) =>
    execFile(
      cli,
      args,
      { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 60_000 },
      (err, stdout, stderr) => resolveRun({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr })
    )
  );
}

let dev: Background;
let tokenCodec: Background;
let address: string;
let uiUrl: string;
let codecUrl: string;
let tokenCodecUrl: string;
let sandbox: string;
let tw: TestWorker;
let processId: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const executablePath = testChromium();
  requireBuiltCli();
  const port = await freePort();
  const uiPort = await freePort();
  address = `127.0.0.1:${port}`;
  uiUrl = `http://127.0.0.1:${uiPort}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
    JIPPER_ENCRYPTION_KEYS: RING,
  };
  dev = await jipperInBackground(
    ['dev', '--port', String(port), '--ui-port', String(uiPort), '--in-memory'],
    env,
    /Press Ctrl-C to stop/
  );
  codecUrl = /decodes them through (\S+)/.exec(dev.output())?.[1] ?? '';
  expect(codecUrl).toBe(`http://127.0.0.1:${uiPort + 1}`);
  tokenCodec = await jipperInBackground(
    ['codec-server', '--port', '0', '--origin', uiUrl, '--allow-encode'],
    { ...env, JIPPER_CODEC_TOKEN: TOKEN },
    /codec server: http:\/\/\S+\n/
  );
  tokenCodecUrl = /codec server: (\S+)/.exec(tokenCodec.output())?.[1] ?? '';

  sandbox = mkdtempSync(join(tmpdir(), 'jipper-web-ui-encrypt-'));
  tw = await startTestWorker([volumeLibrary({ root: sandbox }), defineLibrary('catalog', [connectDatabase])], {
    address,
    name: 'web-ui-encrypt',
    dataConverter: encryptingDataConverter(parseInlineKeyRing(RING)),
    secrets: envSecrets({ JIPPER_SECRET_UI_DB_PASSWORD: SECRET }),
  });
  const report = await runProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry: tw.registry });
  expect(report.status).toBe('succeeded');
  processId = report.processId;

  browser = await chromium.launch({
    executablePath,
    args: CHROMIUM_ARGS,
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
  mkdirSync(SHOTS, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await tw?.shutdown();
  await tokenCodec?.stop();
  await dev?.stop();
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

async function pageText(): Promise<string> {
  const texts = await Promise.all(page.frames().map((frame) => frame.innerText('body').catch(() => '')));
  return texts.join('\n');
}

async function expectOnPage(texts: string[], shot: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  let text = await pageText();
  while (!texts.every((t) => text.includes(t)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    text = await pageText();
  }
  await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
  for (const t of texts) expect(text).toContain(t);
  return text;
}

describe('the Web UI of `jipper dev` with a key ring', () => {
  it('is pointed at the codec server `jipper dev` serves', async () => {
    const settings = (await (await fetch(`${uiUrl}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
    expect(settings.Codec?.Endpoint).toBe(codecUrl);
  });

  it('shows the timeline decrypted: activity summaries and the outcome', async () => {
    await page.goto(runLink(uiUrl, 'default', processId) ?? uiUrl, { waitUntil: 'networkidle' });
    const text = await expectOnPage(
      [
        'run allocate-volume · step allocate',
        'run create-filesystem · step filesystem',
        'run connect-database · step catalog',
      ],
      'web-ui-encrypt-timeline.png'
    );
    expect(text).not.toContain(SECRET);
  });

  it('shows the report in the current details, with the secret as ‹secret ui-db-password›, never its value', async () => {
    await page.getByRole('tab', { name: 'User Metadata' }).first().click();
    const text = await expectOnPage(
      [
        'provision-volume-with-catalog · status succeeded',
        `allocated 32 MB`,
        volume,
        'catalog login for',
        'with password ‹secret ui-db-password›',
      ],
      'web-ui-encrypt-current-details.png'
    );
    expect(text).not.toContain(SECRET);
    expect(await page.content()).not.toContain(SECRET);
  });
});

describe('the raw history, read by the temporal CLI without a codec', () => {
  it('holds only ciphertext; with the token-protected codec server it decodes', async () => {
    const show = ['workflow', 'show', '-w', processId, '--address', address, '--output', 'json'];
    const raw = await temporalCli(show);
    expect(raw.code).toBe(0);
    expect(raw.stdout).toContain('"eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"');
    expect(raw.stdout).toContain(Buffer.from('binary/encrypted').toString('base64'));
    const rawPayloadText = Buffer.concat(
      [...raw.stdout.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1] ?? '', 'base64'))
    ).toString('latin1');
    for (const data of [volume, 'allocated', 'catalog login', SECRET]) {
      expect(raw.stdout).not.toContain(data);
      expect(rawPayloadText).not.toContain(data);
    }

    const decoded = await temporalCli([...show, '--codec-endpoint', tokenCodecUrl, '--codec-auth', `Bearer ${TOKEN}`]);
    expect(decoded.code).toBe(0);
    const decodedText = Buffer.concat(
      [...decoded.stdout.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1] ?? '', 'base64'))
    ).toString('utf8');
    expect(`${decoded.stdout}${decodedText}`).toContain(volume);
    expect(`${decoded.stdout}${decodedText}`).toContain('‹secret ui-db-password›');
    expect(`${decoded.stdout}${decodedText}`).not.toContain(SECRET);

    const refused = await temporalCli([...show, '--codec-endpoint', tokenCodecUrl, '--codec-auth', 'Bearer wrong']);
    // The CLI retries a refused codec request until its deadline, then gives up without showing anything decoded.
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toContain(volume);
  });
});

describe('jipper codec-server', () => {
  const body = JSON.stringify({ payloads: [] });

  it('answers the Web UI origin, and refuses browsers from any other', async () => {
    const preflight = await fetch(`${tokenCodecUrl}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: uiUrl,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'x-namespace',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(uiUrl);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/i);
    const foreign = await fetch(`${tokenCodecUrl}/decode`, {
      method: 'POST',
      headers: { Origin: 'http://evil.example', Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body,
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('wants the bearer token, and round-trips payloads with it (encoding on: --allow-encode)', async () => {
    const post = (path: string, payload: string, auth?: string) =>
      fetch(`${tokenCodecUrl}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
        body: payload,
      });
    expect((await post('/decode', body)).status).toBe(401);
    expect((await post('/decode', body, 'Bearer nope')).status).toBe(401);
    const plain = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('"hello"').toString('base64'),
    };
    const encoded = (await (
      await post('/encode', JSON.stringify({ payloads: [plain] }), `Bearer ${TOKEN}`)
    ).json()) as {
      payloads: { metadata: Record<string, string>; data: string }[];
    };
    expect(Buffer.from(encoded.payloads[0]?.metadata.encoding ?? '', 'base64').toString()).toBe('binary/encrypted');
    const decoded = (await (
      await post('/decode', JSON.stringify(encoded), `Bearer ${TOKEN}`)
    ).json()) as typeof encoded;
    expect(decoded.payloads).toEqual([plain]);
    const bad = await post('/decode', '{"payload":[]}', `Bearer ${TOKEN}`);
    expect(bad.status).toBe(400);
  });
});
