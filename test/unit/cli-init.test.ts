/**
 * The scaffold type-checks a team's jobs: `jipper init` gives it TypeScript (and Node's types) as dev dependencies, a
 * `typecheck` script, and a `test` script that runs it first; the Node version it declares is Jipper's, as the docs
 * say. The type-check itself runs for real on a scaffold whose `jipper` is this build (`npm run build` first).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scaffold } from '../../src/cli/commands/init';

const REPO = join(__dirname, '..', '..');
const jipperPackage = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } };

interface ScaffoldedPackage {
  scripts: Record<string, string>;
  devDependencies?: Record<string, string>;
  engines?: Record<string, string>;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jipper-init-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const pkgOf = (at: string) => JSON.parse(readFileSync(join(at, 'package.json'), 'utf8')) as ScaffoldedPackage;

test('a new project: typescript to type-check with, a typecheck script that npm test runs first, the Node version', () => {
  scaffold(dir);
  const pkg = pkgOf(dir);
  expect(pkg.scripts.typecheck).toBe('tsc -p tsconfig.json');
  expect(pkg.scripts.test).toMatch(/^npm run typecheck && node --import jipper\/register --test /);
  expect(Object.keys(pkg.devDependencies ?? {}).sort()).toEqual(['@types/node', 'typescript']);
  expect(pkg.engines).toEqual({ node: jipperPackage.engines.node });
});

test('a project from `npm init -y` gains them too; what it has is kept', () => {
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'x',
      scripts: { test: 'echo "Error: no test specified" && exit 1' },
      devDependencies: { typescript: '5.4.5' },
    })
  );
  const { lines } = scaffold(dir);
  const pkg = pkgOf(dir);
  expect(pkg.scripts.typecheck).toBe('tsc -p tsconfig.json');
  expect(pkg.scripts.test).toMatch(/^npm run typecheck && /);
  expect(pkg.devDependencies?.typescript).toBe('5.4.5');
  expect(pkg.devDependencies?.['@types/node']).toMatch(/^\^20\./);
  expect(lines.join('\n')).toContain('dev dependencies @types/node; engines.node');
});

test('getting-started asks for the Node version package.json requires', () => {
  const min = /^>=(\d+\.\d+)$/.exec(jipperPackage.engines.node)?.[1];
  const doc = readFileSync(join(REPO, 'docs', 'getting-started.md'), 'utf8');
  expect(doc).toContain(`Node ≥ ${min}`);
  expect(doc.match(/Node ≥ [\d.]+/g)).toEqual([`Node ≥ ${min}`]);
});

test("the scaffold's typecheck script type-checks its jobs, its test and its config, and fails on a type error", () => {
  if (!existsSync(join(REPO, 'dist', 'index.d.ts'))) throw new Error('dist/ is missing: run `npm run build` first');
  scaffold(dir);
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(REPO, join(dir, 'node_modules', 'jipper'), 'dir');
  symlinkSync(join(REPO, 'node_modules', 'typescript'), join(dir, 'node_modules', 'typescript'), 'dir');
  symlinkSync(join(REPO, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
  const typecheck = (): { ok: boolean; output: string } => {
    try {
      execFileSync('npm', ['run', '--silent', 'typecheck'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      return { ok: true, output: '' };
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string };
      return { ok: false, output: `${stdout ?? ''}${stderr ?? ''}` };
    }
  };
  expect(typecheck()).toEqual({ ok: true, output: '' });
  const jobs = join(dir, 'src', 'jobs.ts');
  writeFileSync(jobs, `${readFileSync(jobs, 'utf8')}\nexport const wrong: number = 'not a number';\n`);
  const failed = typecheck();
  expect(failed.ok).toBe(false);
  expect(failed.output).toMatch(/src\/jobs\.ts.*TS2322/);
}, 120_000);
