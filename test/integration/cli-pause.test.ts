/**
 * A paused process's report says so: while it is paused, since when and for how long (`jipper report`, `status`);
 * once it was resumed and ended, that it was paused, and for how long (read from the run's history, since the live
 * report keeps only a pause that lasts). Through the built `jipper` command, on a real server.
 */
import { JobRegistry } from '../../src/runtime/registry';
import { getReport, startProcess } from '../../src/client';
import { jipperExpect, requireBuiltCli, cliEnv } from '../support/cli';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import { waitUntil } from '../support/observe';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';

const journal: JournalEntry[] = [];
let tw: TestWorker;
let env: NodeJS.ProcessEnv;
let registry: JobRegistry;

beforeAll(async () => {
  requireBuiltCli();
  const libraries = [journalLibrary(journal)];
  registry = new JobRegistry(libraries);
  tw = await startTestWorker(libraries, 'cli-pause');
  env = cliEnv(tw.taskQueue, '/nonexistent');
});

afterAll(async () => {
  await tw?.shutdown();
});

const expectExit = (args: string[], code: number) => jipperExpect(args, env, code);

test('paused: since when and for how long; resumed and ended: that it was paused, and for how long', async () => {
  const id = `cli-pause-${Date.now().toString(36)}`;
  const definition = {
    name: 'pause-me',
    steps: ['a', 'b', 'c'].map((step) => ({ id: step, job: 'task', args: { durationMs: 1500 } })),
  };
  await startProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry, id });
  await waitUntil(async () => (await getReport(tw.client, id)).jobs[0]?.status === 'running', 'a to run');
  await expectExit(['pause', id], 0);
  await waitUntil(async () => (await getReport(tw.client, id)).status === 'paused', 'the process to be paused');
  await new Promise((r) => setTimeout(r, 1200));

  const paused = (await expectExit(['report', id], 0)).stdout;
  const since = new RegExp(
    `^paused: no further step starts; jipper resume ${id}; paused since \\S+Z \\(\\d\\S* ago\\)$`,
    'm'
  );
  expect(paused).toMatch(since);
  expect((await expectExit(['status', id], 0)).stdout).toMatch(/paused since \S+Z \(\d\S* ago\)/);

  await expectExit(['resume', id], 0);
  await waitUntil(async () => (await getReport(tw.client, id)).status === 'succeeded', 'the process to succeed');
  const ended = (await expectExit(['report', id], 0)).stdout;
  expect(ended).toMatch(/^status: succeeded/m);
  expect(ended).toMatch(/^paused once by an operator, (\d\S*) in all: at \S+Z for \1$/m);
}, 120_000);
