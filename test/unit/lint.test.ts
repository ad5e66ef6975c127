/**
 * The lint rules bite: deliberately bad probe files, placed where the rules apply, each draw the error they should —
 * imports against the direction of the rooms, an import cycle, and non-deterministic workflow code (Node built-ins,
 * zod, Date.now, Math.random, values from Node-side rooms), and a function longer than 100 lines of code. Each probe is written into the tree, linted with the
 * project's own ESLint configuration, and removed.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..');
const ESLINT = join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

/** Runs the project's ESLint (as `npm run lint` does) on files; its JSON report. */
async function eslint(
  paths: string[]
): Promise<{ filePath: string; messages: { ruleId: string | null; message: string }[] }[]> {
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, [ESLINT, '--format', 'json', ...paths], {
    cwd: root,
    maxBuffer: 1 << 26,
  }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '[]' }));
  return JSON.parse(stdout) as { filePath: string; messages: { ruleId: string | null; message: string }[] }[];
}

/** Lints files written at the given paths (relative to the root); returns the rule ids reported, by file. */
async function lintProbes(files: Record<string, string>): Promise<Record<string, string[]>> {
  const paths = Object.keys(files).map((file) => join(root, file));
  try {
    Object.entries(files).forEach(([file, text]) => writeFileSync(join(root, file), text));
    const results = await eslint(paths);
    return Object.fromEntries(
      results.map((r) => [r.filePath.slice(root.length + 1), r.messages.map((m) => m.ruleId ?? m.message)])
    );
  } finally {
    paths.forEach((path) => rmSync(path, { force: true }));
  }
}

jest.setTimeout(300_000);

/** Every probe, linted in one run (type-aware linting of the project takes a while). */
const PROBES: Record<string, string> = {
  'src/client/zz-lint-probe.ts':
    "import { buildProgram } from '../cli/main';\nimport { startWorker } from '../worker/main';\nexport const x = [buildProgram, startWorker];\n",
  'src/shared/zz-lint-probe.ts': "import { loadConfig } from '../config/config';\nexport const y = loadConfig;\n",
  'src/jobs/zz-lint-probe.ts': "import { JobRegistry } from '../runtime/registry';\nexport const r = JobRegistry;\n",
  'src/config/zz-lint-probe.ts':
    "import { startDevServer } from '../dev/dev-server';\nexport const z = startDevServer;\n",
  'src/client/zz-lint-probe-cycle-a.ts':
    "import { b } from './zz-lint-probe-cycle-b';\nexport const a = (): number => b() + 1;\n",
  'src/client/zz-lint-probe-cycle-b.ts':
    "import { a } from './zz-lint-probe-cycle-a';\nexport const b = (): number => a() - 1;\n",
  'src/workflows/zz-lint-probe.ts': [
    "import { readFileSync } from 'node:fs';",
    "import { z } from 'zod';",
    "import type { ZodType } from 'zod';",
    "import { JobRegistry } from '../runtime/registry';",
    "import type { AnyJob } from '../jobs/job';",
    'export type T = ZodType | AnyJob;',
    'export const w = [readFileSync, z, JobRegistry, Date.now(), Math.random()];',
    '',
  ].join('\n'),
};

/**
 * A function of `code` lines (its first and last line included), padded with `padding` blank lines and as many comment
 * lines, which the length rule does not count.
 */
function functionOf(name: string, code: number, padding = 0): string {
  const statements = Array.from({ length: code - 4 }, (_, i) => `  total += ${i};`);
  const filler = Array.from({ length: padding }, (_, i) => `  // filler ${i}\n`);
  return [
    `export function ${name}(): number {`,
    '  let total = 0;',
    ...statements,
    ...filler,
    '  return total;',
    '}',
    '',
  ].join('\n');
}
PROBES['src/client/zz-lint-probe-long.ts'] = [
  functionOf('tooLong', 101),
  functionOf('justRight', 100, 30), // 100 lines of code, 60 lines of blanks and comments
].join('\n');

let found: Record<string, string[]>;
beforeAll(async () => {
  found = await lintProbes(PROBES);
});

test('imports go one way between rooms: nothing below the CLI imports it; the client never loads worker code', () => {
  expect(found['src/client/zz-lint-probe.ts']).toEqual([
    'import-x/no-restricted-paths',
    'import-x/no-restricted-paths',
  ]);
  expect(found['src/shared/zz-lint-probe.ts']).toContain('import-x/no-restricted-paths');
  expect(found['src/config/zz-lint-probe.ts']).toEqual(['import-x/no-restricted-paths']);
  expect(found['src/jobs/zz-lint-probe.ts']).toEqual(['import-x/no-restricted-paths']);
});

test('import cycles are errors', () => {
  expect(found['src/client/zz-lint-probe-cycle-a.ts']).toContain('import-x/no-cycle');
  expect(found['src/client/zz-lint-probe-cycle-b.ts']).toContain('import-x/no-cycle');
});

test('workflow code: no Node built-ins, no zod values, no Date.now or Math.random, Node-side rooms as types only', () => {
  expect(found['src/workflows/zz-lint-probe.ts']?.sort()).toEqual(
    [
      'no-restricted-imports', // node:fs
      'no-restricted-imports', // zod as a value
      'no-restricted-imports', // a Node-side room as a value
      'no-restricted-properties', // Date.now
      'no-restricted-properties', // Math.random
    ].sort()
  );
});

test('no function longer than 100 lines of code (blank lines and comments do not count)', () => {
  expect(found['src/client/zz-lint-probe-long.ts']).toEqual(['max-lines-per-function']);
});
