/**
 * The public API, locked: one API Extractor report per entry point of package.json's "exports" (`jipper`,
 * `jipper/client`, `jipper/worker`, `jipper/workflow`, `jipper/testing`, `jipper/examples`, `jipper/register`), kept
 * in etc/api/ and reviewed like code.
 *
 *   npm run api:check    fails (exit 1) when an entry's API differs from its report, naming the entry and showing the
 *                        diff; CI runs it.
 *   npm run api:update   rewrites the reports from the current code; commit them with the change that made them.
 *
 * It emits the declarations of src/ into .jipper/api/dts (tsc, declarations only: the check neither needs nor touches
 * dist/), runs API Extractor on each entry's .d.ts (one TypeScript program for all of them), and compares what it
 * wrote with the committed report. Only node_modules is needed, no network; about 15 s.
 *
 * A report shows each exported declaration's signature, and a warning where the API uses a type its entry does not
 * export (`ae-forgotten-export`; the type may be exported by another entry). Warnings API Extractor cannot attach to a
 * declaration are listed at the end, with the declaration file but not the line, so editing a comment elsewhere in
 * that file does not change the report.
 *
 * Options: `--update` (write the reports), `--reports <dir>` (compare with, or write, reports in another folder),
 * `--dts <dir>` (declarations already emitted there: skip tsc).
 */
import { CompilerState, Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const update = args.includes('--update');
const option = (name) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? resolve(args[at + 1]) : undefined;
};
const work = join(root, '.jipper', 'api');
const generated = join(work, 'reports');
const reportFolder = option('--reports') ?? join(root, 'etc', 'api');
const givenDts = option('--dts');
const dtsRoot = givenDts ?? join(work, 'dts');

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** `.` -> `jipper`, `./client` -> `jipper-client`: the report's base name. */
const reportName = (subpath) => (subpath === '.' ? pkg.name : `${pkg.name}-${subpath.slice(2).replaceAll('/', '-')}`);

/** Each entry with types: its report's file name and its declaration file (dist/x.d.ts -> <dtsRoot>/x.d.ts). */
const entries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object' && typeof target.types === 'string')
  .map(([subpath, target]) => ({
    subpath,
    name: reportName(subpath),
    file: `${reportName(subpath)}.api.md`,
    dts: join(dtsRoot, relative('dist', target.types)),
  }));

function emitDeclarations() {
  rmSync(dtsRoot, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--emitDeclarationOnly', '--sourceMap', 'false', '--outDir', dtsRoot],
    { cwd: root, stdio: 'inherit' }
  );
}

/** API Extractor's settings for one entry: the report only; TSDoc style and release tags are not this check's job. */
function configFor(entry) {
  return ExtractorConfig.prepare({
    configObjectFullPath: undefined,
    packageJsonFullPath: join(root, 'package.json'),
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: entry.dts,
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2022'],
            module: 'node16',
            moduleResolution: 'node16',
            strict: true,
            skipLibCheck: true,
            types: ['node'],
          },
          files: entries.map((e) => e.dts),
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: entry.name,
        // Written here, then compared (or copied) by this script, not by API Extractor: see normalize().
        reportFolder: generated,
        reportTempFolder: join(work, 'temp'),
        includeForgottenExports: false,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      newlineKind: 'lf',
      messages: {
        compilerMessageReporting: { default: { logLevel: 'warning' } },
        extractorMessageReporting: {
          default: { logLevel: 'none' },
          'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: true },
          'ae-wrong-input-file-type': { logLevel: 'error' },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
      },
    },
  });
}

/** The report as committed: warnings at the end name their declaration file, not its line and column. */
const normalize = (text) =>
  text.replace(/^\/\/ (\S+?\.d\.m?ts):\d+:\d+ - \(/gm, (_, file) => `// ${relative(dtsRoot, resolve(root, file))} - (`);

/** Runs API Extractor on one entry; returns its report, normalized. */
function extract(entry, compilerState) {
  const problems = [];
  const result = Extractor.invoke(configFor(entry), {
    localBuild: true,
    compilerState,
    messageCallback(message) {
      // API Extractor's own progress (a report created or copied, a warning) is not news here; its errors are.
      if (message.logLevel === 'error' || (message.category !== 'console' && message.logLevel === 'warning')) {
        problems.push(message.formatMessageWithLocation(root));
      }
      message.handled = true;
    },
  });
  for (const problem of problems) console.error(`  ${entry.name}: ${problem}`);
  if (problems.length > 0 || !result.succeeded) {
    throw new Error(`API Extractor failed on ${entry.subpath} (${relative(root, entry.dts)})`);
  }
  return normalize(readFileSync(join(generated, entry.file), 'utf8'));
}

function main() {
  if (!givenDts) emitDeclarations();
  for (const entry of entries) {
    if (!existsSync(entry.dts)) throw new Error(`${entry.subpath}: no declarations at ${entry.dts}`);
  }
  rmSync(generated, { recursive: true, force: true });
  mkdirSync(generated, { recursive: true });
  mkdirSync(reportFolder, { recursive: true });
  const compilerState = CompilerState.create(configFor(entries[0]), {
    additionalEntryPoints: entries.map((e) => e.dts),
  });
  const where = relative(root, reportFolder) || '.';
  const changed = [];
  for (const entry of entries) {
    const report = extract(entry, compilerState);
    const committedPath = join(reportFolder, entry.file);
    const committed = existsSync(committedPath) ? readFileSync(committedPath, 'utf8') : undefined;
    if (committed === report) continue;
    changed.push(entry);
    if (update) {
      writeFileSync(committedPath, report);
      console.log(
        `api: ${where}/${entry.file} ${committed === undefined ? 'created' : 'rewritten'} (${entry.subpath})`
      );
    } else {
      const fresh = join(generated, entry.file);
      writeFileSync(fresh, report);
      console.error(`api: the API of ${pkg.name}${entry.subpath.slice(1)} differs from ${where}/${entry.file}`);
      diff(existsSync(committedPath) ? committedPath : '/dev/null', fresh);
    }
  }
  // A report whose entry left package.json's exports is stale too.
  const wanted = new Set(entries.map((e) => e.file));
  const stale = readdirSync(reportFolder).filter((f) => f.endsWith('.api.md') && !wanted.has(f));
  for (const file of stale) {
    if (update) rmSync(join(reportFolder, file));
    console[update ? 'log' : 'error'](`api: ${where}/${file} ${update ? 'removed' : 'is stale'} (no such entry)`);
  }
  if (update) {
    console.log(`api: ${where}/ holds the reports of ${entries.length} entries (${changed.length} changed)`);
    return 0;
  }
  if (changed.length + stale.length === 0) {
    console.log(`api: ${entries.length} entries match their reports in ${where}/`);
    return 0;
  }
  console.error('api: if the change is meant, `npm run api:update` and commit etc/api/ with it');
  return 1;
}

/** The difference, as git shows it (git is where the reports are reviewed); nothing when git is missing. */
function diff(committed, fresh) {
  try {
    execFileSync('git', ['diff', '--no-index', '--no-color', '--', committed, fresh], { stdio: 'inherit' });
  } catch {
    // git diff --no-index exits 1 when the files differ.
  }
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`api: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
}
