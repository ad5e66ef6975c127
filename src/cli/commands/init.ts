/**
 * `jipper init [dir]`: scaffolds a project that works from the first command — a TypeScript job library, a YAML
 * process, a config file, npm scripts (`worker`, `start`, `typecheck`, and `test`, which type-checks first) and a test
 * file on `jipper/testing` — and prints the next three commands. It never overwrites a file: what exists is kept and
 * said so; package.json only gains the scripts, dependencies (`jipper`; `typescript` and `@types/node` to type-check
 * with) and the Node version (`engines`, as Jipper's own) it lacks.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { out, printJson } from '../io';
import { z } from 'zod';
import { action } from '../context';
import { UsageError } from '../errors';

/** Where the templates are: `templates/init` at the package root (two levels up from both src/cli and dist/cli). */
const TEMPLATES = join(__dirname, '..', '..', '..', 'templates', 'init');

/** The file a template is written as (npm drops `.gitignore` from packages, so it is kept without its dot). */
function targetName(templatePath: string): string {
  return templatePath === 'gitignore' ? '.gitignore' : templatePath;
}

export const SCAFFOLD_SCRIPTS: Record<string, string> = {
  worker: 'jipper worker',
  start: 'jipper start processes/provision-workspace.yaml --wait',
  typecheck: 'tsc -p tsconfig.json',
  test: 'npm run typecheck && node --import jipper/register --test test/*.test.ts',
};

/** What type-checks the project's jobs and tests (`npm run typecheck`, and first thing in `npm test`). */
export const SCAFFOLD_DEV_DEPENDENCIES: Record<string, string> = {
  typescript: '^5.9.0',
  '@types/node': '^20.18.0',
};

/** What `npm init -y` puts in `test`: a placeholder, replaced. */
const NPM_PLACEHOLDER_TEST = /^echo "Error: no test specified" && exit 1$/;

const packageJsonSchema = z.looseObject({
  scripts: z.record(z.string(), z.string()).optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  devDependencies: z.record(z.string(), z.string()).optional(),
  engines: z.record(z.string(), z.string()).optional(),
});

interface JipperPackage {
  version: string;
  engines: { node: string };
}

function jipperPackage(): JipperPackage {
  return JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as JipperPackage;
}

function templateFiles(dir: string = TEMPLATES, prefix = ''): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      return statSync(path).isDirectory() ? templateFiles(path, rel) : [rel];
    });
}

function jipperVersion(): string {
  return jipperPackage().version;
}

/** A package name from a directory name: lower-case, `-` for anything else. */
function packageName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '');
  return name || 'jipper-project';
}

/** Creates or completes package.json; returns what it did, one line each. */
function scaffoldPackageJson(dir: string): string[] {
  const path = join(dir, 'package.json');
  if (!existsSync(path)) {
    const pkg = {
      name: packageName(dir),
      version: '0.1.0',
      private: true,
      scripts: SCAFFOLD_SCRIPTS,
      engines: { node: jipperPackage().engines.node },
      dependencies: { jipper: `^${jipperVersion()}` },
      devDependencies: SCAFFOLD_DEV_DEPENDENCIES,
    };
    writeFileSync(path, `${JSON.stringify(pkg, null, 2)}\n`);
    return [
      `created package.json (scripts ${Object.keys(SCAFFOLD_SCRIPTS).join(', ')}; dependency jipper; dev dependencies ${Object.keys(SCAFFOLD_DEV_DEPENDENCIES).join(', ')}; Node ${jipperPackage().engines.node})`,
    ];
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${path}: not valid JSON (${(err as Error).message}); fix it and run jipper init again`);
  }
  const parsed = packageJsonSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`${path}: scripts and dependencies must be objects of strings`);
  const pkg = parsed.data;
  const lines: string[] = [];
  const added: string[] = [];
  const scripts = { ...pkg.scripts };
  for (const [name, command] of Object.entries(SCAFFOLD_SCRIPTS)) {
    const existing = scripts[name];
    if (existing === undefined || (name === 'test' && NPM_PLACEHOLDER_TEST.test(existing))) {
      scripts[name] = command;
      added.push(name);
    } else if (existing !== command) {
      lines.push(`kept package.json's "${name}" script; Jipper's would be: ${command}`);
    }
  }
  const has = (name: string) => pkg.dependencies?.[name] !== undefined || pkg.devDependencies?.[name] !== undefined;
  const hasJipper = has('jipper');
  const devAdded = Object.keys(SCAFFOLD_DEV_DEPENDENCIES).filter((name) => !has(name));
  const node = pkg.engines?.node === undefined ? jipperPackage().engines.node : undefined;
  if (!added.length && hasJipper && !devAdded.length && node === undefined) return lines;
  const next = {
    ...pkg,
    scripts,
    ...(node !== undefined ? { engines: { ...pkg.engines, node } } : {}),
    ...(hasJipper ? {} : { dependencies: { ...pkg.dependencies, jipper: `^${jipperVersion()}` } }),
    ...(devAdded.length
      ? {
          devDependencies: {
            ...pkg.devDependencies,
            ...Object.fromEntries(devAdded.map((name) => [name, SCAFFOLD_DEV_DEPENDENCIES[name] as string])),
          },
        }
      : {}),
  };
  writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`);
  const what = [
    added.length ? `scripts ${added.join(', ')}` : '',
    hasJipper ? '' : 'dependency jipper',
    devAdded.length ? `dev dependencies ${devAdded.join(', ')}` : '',
    node !== undefined ? `engines.node ${node}` : '',
  ];
  return [`updated package.json: added ${what.filter(Boolean).join('; ')}`, ...lines];
}

/** Scaffolds `dir`; returns the lines to print. Exported for tests. */
export function scaffold(dir: string): { lines: string[]; installed: boolean } {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${dir} exists and is not a directory`);
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (const template of templateFiles()) {
    const target = join(dir, targetName(template));
    if (existsSync(target)) {
      lines.push(`kept ${targetName(template)} (it exists)`);
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, readFileSync(join(TEMPLATES, template)));
    lines.push(`created ${targetName(template)}`);
  }
  lines.push(...scaffoldPackageJson(dir));
  const installed = ['jipper', ...Object.keys(SCAFFOLD_DEV_DEPENDENCIES)].every((name) =>
    existsSync(join(dir, 'node_modules', name, 'package.json'))
  );
  return { lines, installed };
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'Scaffold a Jipper project in a directory (default: this one): a TypeScript job library, a YAML process, jipper.config.ts, npm scripts (worker, start, typecheck, test), TypeScript to type-check with, and a test with the failure matrix. Never overwrites a file.'
    )
    .argument('[dir]', 'directory to scaffold', '.')
    .option('--json', 'print { dir, changes, installed } as JSON')
    .action(
      action(async (dirArg: string, options: { json?: boolean }) => {
        const dir = resolve(dirArg);
        const { lines, installed } = scaffold(dir);
        if (options.json) return printJson({ dir, changes: lines, installed });
        out(...lines);
        const where = relative(process.cwd(), dir);
        out('', 'Next:');
        if (where !== '') out(`  cd ${where}`);
        if (!installed) out('  npm install');
        out(
          '  npm run worker   # a worker with src/jobs.ts; starts a local Temporal server (Web UI printed)',
          '  npm start        # in another terminal: runs processes/provision-workspace.yaml, shows its report',
          '  npm test         # type-checks, then the tests in test/: one per failure the process can meet'
        );
      })
    );
}
