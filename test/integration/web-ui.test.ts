/**
 * The Temporal Web UI shows a finished run as a zipper a person can read: headless Chromium opens a run that failed
 * and unwound, in the dev server's UI, and finds the activity summaries of the forward and the revert path on its
 * timeline, the process status in its search attributes, and the report in its current details. Screenshots go to
 * test-results/ (git-ignored).
 *
 * Needs a dev server with its UI and the Chromium the jest global setup found (test/support/browser.ts: a system
 * Chromium, else the one inside the `@sparticuz/chromium` package); with JIPPER_TEST_HEADLESS=1 neither is there and
 * this test fails; it is never skipped.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { loadDefinitionFile } from '../../src/client/definition-file';
import { runLink } from '../../src/cli/links';
import { runProcess } from '../../src/client';
import { CHROMIUM_ARGS, testChromium } from '../support/browser';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const SHOTS = join(__dirname, '..', '..', 'test-results');

let sandbox: string;
let tw: TestWorker;
let browser: Browser;
let page: Page;
let runUrl: string;

beforeAll(async () => {
  const executablePath = testChromium();
  const ui = process.env.JIPPER_TEST_UI_URL;
  if (!ui) {
    throw new Error(
      'JIPPER_TEST_UI_URL is not set: the jest global setup started no Web UI (unset JIPPER_TEST_HEADLESS)'
    );
  }
  sandbox = mkdtempSync(join(tmpdir(), 'jipper-web-ui-'));
  tw = await startTestWorker([volumeLibrary({ root: sandbox })], 'web-ui');
  const definition = await loadDefinitionFile('examples/provision-volume-over-quota.yaml');
  const report = await runProcess(tw.client, definition, { taskQueue: tw.taskQueue, params: { volume: 'ui-over' } });
  expect(report).toMatchObject({ status: 'reverted', revertOrder: ['filesystem', 'allocate'] });
  runUrl = runLink(ui, 'default', report.processId) as string;

  browser = await chromium.launch({
    executablePath,
    args: CHROMIUM_ARGS,
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
  mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await tw?.shutdown();
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

/** The text of the page and of its frames (the UI renders summaries and details as Markdown in iframes). */
async function pageText(): Promise<string> {
  const texts = await Promise.all(page.frames().map((frame) => frame.innerText('body').catch(() => '')));
  return texts.join('\n');
}

/** Waits (up to 30 s) until the page shows every text, saves a screenshot, then asserts each text is there. */
async function expectOnPage(texts: string[], shot: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let text = await pageText();
  while (!texts.every((t) => text.includes(t)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    text = await pageText();
  }
  await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
  for (const t of texts) expect(text).toContain(t);
}

async function openTab(name: string): Promise<void> {
  await page.getByRole('tab', { name }).first().click();
}

test('the timeline shows the forward path and the revert path as activity summaries', async () => {
  await page.goto(runUrl, { waitUntil: 'networkidle' });
  await expectOnPage(
    [
      'run allocate-volume · step allocate',
      'run create-filesystem · step filesystem',
      'run set-quota · step quota',
      'revert create-filesystem · step filesystem',
      'revert allocate-volume · step allocate',
      'process provision-volume-over-quota reverted at step',
    ],
    'web-ui-timeline.png'
  );
  expect(await pageText()).not.toContain('revert set-quota');
});

test('the search attributes carry the process name and its final status', async () => {
  await openTab('Search Attributes');
  await expectOnPage(
    ['"JipperProcess": "provision-volume-over-quota"', '"JipperStatus": "reverted"'],
    'web-ui-search-attributes.png'
  );
});

test('the current details show the report: status, the failure, the revert order, every job', async () => {
  await openTab('User Metadata');
  await expectOnPage(
    [
      'provision-volume-over-quota · status reverted · failed at quota',
      'Steps: allocate → (filesystem ∥ quota) → register',
      'Reverted, newest first: filesystem → allocate',
      'QuotaAboveLimitError',
      'removed the filesystem tree of ui-over',
      'released 32 MB of ui-over',
    ],
    'web-ui-current-details.png'
  );
  // Each job's parts stay apart as the page shows them (a table's cells ran together: "reverted65ms").
  const text = await pageText();
  expect(text).toMatch(
    /allocate · allocate-volume · reverted · \d+(ms|\.\ds) \(revert \d+(ms|\.\ds)\) — allocated 32 MB for ui-over/
  );
  expect(text).toMatch(/prepare\/quota · set-quota · failed · \d+(ms|\.\ds) — ✖ QuotaAboveLimitError: quota 64 MB/);
  expect(text).not.toMatch(/reverted\d+(ms|\.\ds)/);
});
