/**
 * A process library on a real server, through the command line as an operator runs it: the config file names a job
 * library and a directory of process definitions; `jipper start --wait` runs a definition whose step names a process
 * by name (`process: create-database`), which runs as a child workflow and is unwound in its place when the parent
 * fails, as the jobs' own journal shows. An unknown name is refused in one line before anything starts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { runCli } from '../../src/cli/main';
import type { ProcessReport } from '../../src/shared/report';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
let tw: TestWorker;
let project: string;

beforeAll(async () => {
  tw = await startTestWorker([journalLibrary(journal, new Set())], 'process-library');
  project = mkdtempSync(join(tmpdir(), 'jipper-process-library-'));
  const support = resolve(__dirname, '..', 'support', 'journal-jobs');
  const files: Record<string, string> = {
    // The command plans with the same jobs the worker runs (same names, reverts and options: same fingerprints).
    'jobs.ts': `import { journalLibrary } from ${JSON.stringify(support)};\nexport const library = journalLibrary([], new Set());\n`,
    'jipper.config.json': JSON.stringify({
      libraries: ['./jobs.ts'],
      processes: ['./processes'],
      taskQueue: tw.taskQueue,
    }),
    'processes/database.yaml': `name: create-database
params: { owner: nobody }
outputs: { url: { $from: db-create.value } }
steps:
  - { id: db-create, job: task, args: { value: { $param: owner } } }
  - { id: db-grant, job: task, args: { value: grant } }
`,
    'tenant.yaml': `name: tenant
steps:
  - { id: account, job: task, args: { value: account } }
  - { id: db, process: create-database, params: { owner: acme } }
  - { id: dns, job: task, args: { value: { $from: db.url } } }
  - { id: mail, job: task, args: { value: mail, outcome: fail-nonretryable } }
`,
    'typo.yaml': `name: typo\nsteps:\n  - { id: db, process: create-databse }\n`,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(project, path, '..'), { recursive: true });
    writeFileSync(join(project, path), text);
  }
});
afterAll(async () => {
  await tw?.shutdown();
  rmSync(project, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'jipper', ...args, '--config', join(project, 'jipper.config.json')], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

test('jipper start runs a process named from the configured library as a child, unwound in its place', async () => {
  const id = `proclib-${randomUUID()}`;
  const result = await cli(['start', join(project, 'tenant.yaml'), '--id', id, '--wait', '--json']);
  const { report } = JSON.parse(result.stdout) as { report: ProcessReport };
  expect(report.status).toBe('reverted');
  const row = report.jobs.find((j) => j.stepId === 'db');
  expect(row).toMatchObject({ job: 'process:create-database', status: 'reverted', child: { processId: `${id}/db` } });
  const ledger = (kind: JournalEntry['kind']) =>
    journal
      .filter((e) => e.key.startsWith(`${id}/`) && e.kind === kind)
      .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
      .map((e) => e.stepId);
  expect(ledger('run')).toEqual(['account', 'db-create', 'db-grant', 'dns', 'mail']);
  expect(ledger('revert')).toEqual(['dns', 'db-grant', 'db-create', 'account']);
  expect(journal.find((e) => e.key.startsWith(`${id}/`) && e.stepId === 'dns')?.input).toMatchObject({ value: 'acme' });
});

test('an unknown process name is refused in one line with the known names, and nothing starts', async () => {
  const id = `proclib-typo-${randomUUID()}`;
  const result = await cli(['start', join(project, 'typo.yaml'), '--id', id]);
  expect(result.code).not.toBe(0);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(
    /steps\[0\]\.process: no process "create-databse" in the process libraries .*; known: create-database/
  );
  expect(journal.some((e) => e.key.startsWith(`${id}/`))).toBe(false);
  await expect(tw.client.workflow.getHandle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
});
