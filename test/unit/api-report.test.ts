/**
 * The API reports bite: `npm run api:check` (scripts/api-report.mjs) fails when an entry point's API differs from its
 * committed report in etc/api/, and names the entry. Here the declarations are emitted into a temporary folder, one
 * entry's API is changed there (a function added to jipper/workflow), and the check runs against a copy of the
 * committed reports plus one report no entry has: it must fail, naming exactly the changed entry and the stale report.
 * Every other entry must match — so this test also fails when a committed report is out of date.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..');
const run = promisify(execFile);

jest.setTimeout(300_000);

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'jipper-api-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('api:check fails on a changed API and on a stale report, naming them; the other reports match', async () => {
  const dts = join(work, 'dts');
  const reports = join(work, 'reports');
  const tsc = require.resolve('typescript/bin/tsc');
  await run(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--emitDeclarationOnly', '--sourceMap', 'false', '--outDir', dts],
    { cwd: root }
  );
  appendFileSync(join(dts, 'workflow.d.ts'), '\nexport declare function addedByTheTest(): void;\n');
  cpSync(join(root, 'etc', 'api'), reports, { recursive: true });
  writeFileSync(join(reports, 'jipper-gone.api.md'), 'an entry that left package.json\n');

  const check = await run(process.execPath, ['scripts/api-report.mjs', '--dts', dts, '--reports', reports], {
    cwd: root,
    maxBuffer: 1 << 24,
  }).then(
    (ok) => ({ code: 0, out: ok.stdout + ok.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr })
  );

  expect(check.code).toBe(1);
  const differing = [...check.out.matchAll(/^api: the API of (\S+) differs from \S+\/(\S+)$/gm)];
  expect(differing.map((m) => [m[1], m[2]])).toEqual([['jipper/workflow', 'jipper-workflow.api.md']]);
  expect(check.out).toMatch(/^\+export function addedByTheTest\(\): void;$/m);
  expect(check.out).toMatch(/jipper-gone\.api\.md is stale \(no such entry\)/);
});
