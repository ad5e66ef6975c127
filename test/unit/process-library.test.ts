/**
 * Process libraries: a step `process: <name>` resolves, in the client's loader, to the definition file of that name in
 * the directories the config file's `processes` names, and is embedded as a child named by file is. Unknown names,
 * no library, a file without a name and a name given twice are each one line; cycles, depth and missing parameters are
 * refused through names as through files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../../src/config/config';
import { ConfigError } from '../../src/config/errors';
import { DefinitionFileError, loadDefinitionFile, loadDefinitionFileSync } from '../../src/client/definition-file';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { JobRegistry } from '../../src/runtime/registry';
import { previewPlan } from '../../src/shared/revert-plan';

let project: string;
const write = (files: Record<string, string>) => {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), text);
  }
};
const job = (name: string) =>
  defineJob({ name, input: z.object({}).loose(), run: async () => ({ ok: name }), revert: async () => undefined });
const registry = new JobRegistry([defineLibrary('abc', [job('a'), job('b'), job('c')])]);

const database = `name: create-database
params: { owner: nobody }
outputs: { url: { $from: create.ok } }
steps:
  - { id: create, job: b, args: { owner: { $param: owner } } }
  - { id: grant, job: c, args: {} }
`;
const tenant = (child: string) => `name: tenant
steps:
  - { id: account, job: a, args: {} }
  - { id: db, process: ${child}, params: { owner: acme } }
  - { id: dns, job: a, args: { url: { $from: db.url } } }
`;

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'jipper-process-library-'));
});
afterEach(() => rmSync(project, { recursive: true, force: true }));

test('the config file names process libraries; a step runs a process by name, embedded, checked and planned', async () => {
  write({
    'jipper.config.json': JSON.stringify({ processes: ['./processes'] }),
    'processes/database.yaml': database,
    'processes/notes.txt': 'not a definition',
    'tenant.yaml': tenant('create-database'),
  });
  const config = await loadConfig({ env: {}, cwd: project });
  expect(config.processLibraries).toEqual([join(project, 'processes')]);
  const definition = await loadDefinitionFile(join(project, 'tenant.yaml'), { processes: config.processLibraries });
  const step = (definition as { steps: { process?: { name?: string } }[] }).steps[1];
  expect(step?.process?.name).toBe('create-database');
  const validation = registry.validate(definition);
  expect(validation.problems).toEqual([]);
  expect(validation.jobs.map((j) => j.job)).toEqual(['a', 'process:create-database', 'a']);
  const preview = previewPlan(validation, validation.definition as never, {}, { failAt: 'db/grant' });
  expect(preview.reverts.flat().map((r) => r.stepId)).toEqual(['db/create', 'account']);
});

test('a file path still names a file, beside a library', () => {
  write({ 'processes/database.yaml': database, 'tenant.yaml': tenant('./processes/database.yaml') });
  const definition = loadDefinitionFileSync(join(project, 'tenant.yaml'), { processes: [join(project, 'nowhere')] });
  expect(registry.validate(definition).problems).toEqual([]);
});

test('an unknown name is refused in one line, with the known names', () => {
  write({ 'processes/database.yaml': database, 'tenant.yaml': tenant('create-databse') });
  const load = () => loadDefinitionFileSync(join(project, 'tenant.yaml'), { processes: [join(project, 'processes')] });
  expect(load).toThrow(DefinitionFileError);
  expect(load).toThrow(
    new RegExp(
      `^${join(project, 'tenant.yaml')}: steps\\[1\\]\\.process: no process "create-databse" in the process libraries \\(.*processes\\); known: create-database$`
    )
  );
});

test('a name without a configured library, a library file without a name, a name twice: one line each', () => {
  write({ 'tenant.yaml': tenant('create-database'), 'lib/a.yaml': database, 'lib/b.yml': database });
  const path = join(project, 'tenant.yaml');
  expect(() => loadDefinitionFileSync(path)).toThrow(
    /steps\[1\]\.process: "create-database" is not a file path \(\.\/create-database\.yaml\) and no process library is configured \(processes: in the config file\)$/
  );
  expect(() => loadDefinitionFileSync(path, { processes: [join(project, 'lib')] })).toThrow(
    /lib\/b\.yml: process "create-database" is also defined by .*lib\/a\.yaml$/
  );
  write({ 'lib/b.yml': 'steps: []\n' });
  expect(() => loadDefinitionFileSync(path, { processes: [join(project, 'lib')] })).toThrow(
    /lib\/b\.yml: a process in a library needs a name \(name: \.\.\.\)$/
  );
  expect(() => loadDefinitionFileSync(path, { processes: [join(project, 'missing')] })).toThrow(
    /^process library .*missing: no such directory$/
  );
});

test('a cycle through names is refused with the chain named; a missing parameter at the step', () => {
  write({
    'lib/a.yaml': 'name: loop-a\nsteps:\n  - { id: next, process: loop-b }\n',
    'lib/b.yaml': 'name: loop-b\nsteps:\n  - { id: back, process: loop-a }\n',
    'top.yaml': 'name: top\nsteps:\n  - { id: first, process: loop-a }\n',
    'lib/needs.yaml': 'name: needs-owner\nsteps:\n  - { id: create, job: b, args: { owner: { $param: owner } } }\n',
    'needy.yaml': 'name: needy\nsteps:\n  - { id: db, process: needs-owner }\n',
  });
  const processes = [join(project, 'lib')];
  expect(() => loadDefinitionFileSync(join(project, 'top.yaml'), { processes })).toThrow(
    /steps\[0\]\.process: a process includes itself: .*lib\/a\.yaml → .*lib\/b\.yaml → .*lib\/a\.yaml$/
  );
  const validation = registry.validate(loadDefinitionFileSync(join(project, 'needy.yaml'), { processes }));
  expect(validation.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
    'steps[0].params: the child process "needs-owner" needs parameter "owner", which this step does not give',
  ]);
});

test('the config file refuses an empty list of process libraries, in one line', async () => {
  write({ 'jipper.config.json': JSON.stringify({ processes: [] }) });
  await expect(loadConfig({ env: {}, cwd: project })).rejects.toThrow(ConfigError);
  await expect(loadConfig({ env: {}, cwd: project })).rejects.toThrow(/processes.*name at least one directory/);
});
