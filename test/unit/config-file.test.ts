/**
 * The project's config file and the job libraries it names: found from the working directory upward, loaded
 * (TypeScript directly, through jiti), checked with zod, overridden by environment and flags; libraries resolved from
 * the project, each failure one line naming the module and the cause.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { ConfigError } from '../../src/config/errors';
import { findProjectRoot } from '../../src/config/project';
import { LibraryLoadError, loadLibraries } from '../../src/worker/libraries';

let project: string;

/** Writes files (path → text) under the project. */
function write(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), text);
  }
}

/** A TypeScript job library module that imports Jipper as a project would (`jipper` resolves to this repository). */
const tsLibrary = (name: string, job: string) => `
import { defineJob, defineLibrary, z } from 'jipper';
interface Typed { n: number }
const typed: Typed = { n: 1 };
export const library = defineLibrary('${name}', [
  defineJob({ name: '${job}', input: z.object({}), async run() { return typed; } }),
]);
`;

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'jipper-config-file-'));
  // The project depends on jipper: a link to this repository's package (built by npm test).
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  symlinkSync(resolve(__dirname, '..', '..'), join(project, 'node_modules', 'jipper'));
});
afterEach(() => rmSync(project, { recursive: true, force: true }));

test('jipper.config.ts is found from a subdirectory, loaded as TypeScript, and each setting says where it came from', async () => {
  write({
    'package.json': '{}',
    'jipper.config.ts': `import { defineConfig } from 'jipper';
const queue: string = 'storage';
export default defineConfig({ libraries: ['./src/jobs.ts'], taskQueue: queue, namespace: 'team', address: '127.0.0.1:7400' });`,
    'src/jobs.ts': tsLibrary('storage', 'make-bucket'),
  });
  const cwd = join(project, 'src');
  const config = await loadConfig({ env: {}, cwd });
  expect(config).toMatchObject({
    configFile: join(project, 'jipper.config.ts'),
    projectRoot: project,
    address: '127.0.0.1:7400',
    addressSource: 'jipper.config.ts',
    namespace: 'team',
    taskQueue: 'storage',
    libraries: [{ specifier: './src/jobs.ts', baseDir: project }],
  });
  expect(config.sources).toMatchObject({
    taskQueue: 'jipper.config.ts',
    libraries: 'jipper.config.ts',
    webUi: 'default',
  });
  expect(findProjectRoot(cwd)).toBe(project);
  const libraries = await loadLibraries(config);
  expect(libraries.map((l) => [l.name, l.jobs.map((j) => j.name)])).toEqual([['storage', ['make-bucket']]]);
});

test('environment variables override the file, and flags override both', async () => {
  write({
    'jipper.config.json': JSON.stringify({ taskQueue: 'from-file', namespace: 'file-ns', address: '127.0.0.1:7400' }),
  });
  const env = { JIPPER_TASK_QUEUE: 'from-env', TEMPORAL_ADDRESS: '127.0.0.1:7500' };
  const config = await loadConfig({ env, cwd: project, flags: { address: '127.0.0.1:7600' } });
  expect(config).toMatchObject({ taskQueue: 'from-env', namespace: 'file-ns', address: '127.0.0.1:7600' });
  expect(config.sources).toMatchObject({
    taskQueue: 'JIPPER_TASK_QUEUE',
    namespace: 'jipper.config.json',
    address: '--address',
  });
});

test('a bad config file is one line naming the file and every bad setting', async () => {
  write({ 'jipper.config.json': JSON.stringify({ taskQueue: 'has space', address: 'nope:x', colour: 'red' }) });
  const attempt = loadConfig({ env: {}, cwd: project });
  await expect(attempt).rejects.toBeInstanceOf(ConfigError);
  const message = (await attempt.catch((err: Error) => err.message)) as string;
  expect(message.split('\n')).toHaveLength(1);
  expect(message).toContain(`jipper.config.json (${join(project, 'jipper.config.json')}): `);
  expect(message).toContain('taskQueue: must not contain spaces');
  expect(message).toContain('address: must be host:port');
  expect(message).toContain('Unrecognized key: "colour"');
});

test('a config file that does not load says which and why; two config files in one place are refused', async () => {
  write({ 'jipper.config.ts': 'export default { taskQueue: ;' });
  await expect(loadConfig({ env: {}, cwd: project })).rejects.toThrow(
    new RegExp(`^${join(project, 'jipper.config.ts')}: cannot load it: .*jipper\\.config\\.ts:1:`)
  );
  write({ 'jipper.config.json': '{}' });
  await expect(loadConfig({ env: {}, cwd: project })).rejects.toThrow(
    `${project} has jipper.config.ts and jipper.config.json: keep one config file`
  );
});

describe('job libraries', () => {
  const load = async (env: NodeJS.ProcessEnv, cwd = project) =>
    loadLibraries(await loadConfig({ env, cwd, configFile: false }));

  test('a path without ./, a directory with an index, and a package name resolved from the project', async () => {
    write({
      'package.json': '{}',
      'lib/a.ts': tsLibrary('a', 'job-a'),
      'lib/b/index.ts': tsLibrary('b', 'job-b'),
      'node_modules/team-jobs/package.json': JSON.stringify({ name: 'team-jobs', main: 'index.js' }),
      'node_modules/team-jobs/index.js': `const { defineJob, defineLibrary, z } = require('jipper');
exports.libraries = [defineLibrary('c', [defineJob({ name: 'job-c', input: z.object({}), async run() {} })])];`,
    });
    // Run from a subdirectory: paths are relative to it, the package is found from the project root.
    mkdirSync(join(project, 'sub'));
    const libraries = await load({ JIPPER_LIBRARIES: '../lib/a.ts, ../lib/b, team-jobs' }, join(project, 'sub'));
    expect(libraries.map((l) => l.name)).toEqual(['a', 'b', 'c']);
  });

  test('each failure is one line naming the module and the cause', async () => {
    write({
      'package.json': '{}',
      'lib/syntax.ts': 'export const library = ;',
      'lib/missing-import.ts': "import { x } from 'not-installed';\nexport const library = x;",
      'lib/empty.ts': 'export const nothing = 1;',
      'lib/empty-dir/README': 'no index here',
    });
    const cases: [string, RegExp][] = [
      ['lib/syntax.ts', /^JIPPER_LIBRARIES: cannot load job library "lib\/syntax\.ts": .*syntax\.ts:1:\d+/],
      [
        'lib/missing-import.ts',
        /cannot load job library "lib\/missing-import\.ts": .*Cannot find module 'not-installed'/,
      ],
      [
        './lib/nothing.ts',
        /cannot load job library "\.\/lib\/nothing\.ts": no such file or directory: .*lib\/nothing\.ts$/,
      ],
      ['lib/empty-dir', /is a directory with no index\.ts, index\.js or package\.json$/],
      ['not-a-package', /cannot load job library "not-a-package": .*Cannot find module 'not-a-package'/],
      ['lib/empty.ts', /"lib\/empty\.ts" \(.*lib\/empty\.ts\) exports no job library: export `library`/],
    ];
    for (const [specifier, pattern] of cases) {
      const attempt = load({ JIPPER_LIBRARIES: specifier });
      await expect(attempt).rejects.toBeInstanceOf(LibraryLoadError);
      const message = (await attempt.catch((err: Error) => err.message)) as string;
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toMatch(pattern);
    }
  });

  test('none configured: the example volume library', async () => {
    const libraries = await load({});
    expect(libraries.map((l) => l.name)).toEqual(['volumes']);
  });
});
