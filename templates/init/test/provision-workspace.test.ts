/**
 * The process and its jobs against a real Temporal server (a dev server for this test run, started by
 * jipper/testing), with a worker running src/jobs.ts in this process. Every run checks each job's effect on disk
 * against the report; the failure matrix adds a test for each job failing, a cancel while each job runs, and each
 * revert failing — each with the unwinding the process definition implies.
 *
 *   npm test
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestServer, TestWorker } from 'jipper/testing';
import { expectEffects, failureMatrix, loadDefinitionFileSync, startTestServer, startTestWorker } from 'jipper/testing';
import { workspaceEffects, workspaceLibrary } from '../src/jobs';

const root = mkdtempSync(join(tmpdir(), 'workspaces-'));
const library = workspaceLibrary(root);
const effects = workspaceEffects(root);
const definition = loadDefinitionFileSync(resolve('processes/provision-workspace.yaml'));

let server: TestServer;
let worker: TestWorker;

before(async () => {
  server = await startTestServer();
  worker = await startTestWorker([library], { server });
});

after(async () => {
  await worker?.shutdown();
  await server?.teardown();
  rmSync(root, { recursive: true, force: true });
});

test('provision-workspace succeeds, and each job leaves its effect', async () => {
  const run = await worker.run(definition, { params: { workspace: 'ws-ok' } });
  assert.equal(run.report.status, 'succeeded');
  await expectEffects(run, effects);
});

test('an unknown channel fails announce: access, then the workspace, are reverted', async () => {
  const run = await worker.run(definition, { params: { workspace: 'ws-bad', channel: 'nowhere' } });
  assert.equal(run.report.status, 'reverted');
  assert.equal(run.report.failedStep, 'announce');
  assert.equal(run.report.error?.type, 'UnknownChannelError');
  assert.deepEqual(run.report.revertOrder, ['access', 'workspace']);
  await expectEffects(run, effects);
});

describe('failure matrix', () => {
  for (const c of failureMatrix(definition, [library])) {
    test(c.name, async () => {
      // runCase injects the case's fault and checks the report against what the definition implies.
      const run = await worker.runCase(c, { params: { workspace: `ws-${c.id}` } });
      await expectEffects(run, effects);
    });
  }
});
