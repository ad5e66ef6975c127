/**
 * `jipper check <definition|dir>...`: compensation coverage, with no server — for each step, whether a failure can
 * leave its effect standing (see `src/checks/coverage.ts`). Exit code 1 on findings, so CI can require full coverage.
 * `jipper check --deploy`: the runs in flight replayed against the code about to be deployed (`./check-deploy.ts`).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CoverageReport } from '../../checks/coverage';
import { compensationCoverage } from '../../checks/coverage';
import { plural } from '../../shared/wording';
import { EXIT_FAILED, UsageError } from '../errors';
import { out, printJson } from '../io';
import { outputWidth, renderTable } from '../table';
import { io } from '../io';
import { action, collectSet, parseSets, requireValidDefinition, setTexts } from '../context';
import { SET_HELP } from './validate';
import type { DeployOptions } from './check-deploy';
import { checkDeploy } from './check-deploy';

const DEFINITION_FILE = /\.(json|ya?ml)$/i;

/** The definition files named: files as given, directories as their .json/.yaml/.yml files, sorted. */
export async function definitionFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`${path}: no such file or directory`);
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const found = (await readdir(path)).filter((name) => DEFINITION_FILE.test(name)).sort();
    if (!found.length) throw new UsageError(`${path}: no definition files (.json, .yaml, .yml) in this directory`);
    files.push(...found.map((name) => join(path, name)));
  }
  return files;
}

/** The coverage of every definition file named (each checked against the configured job libraries first). */
export async function coverageOfFiles(
  paths: readonly string[],
  sets: readonly string[] = []
): Promise<(CoverageReport & { file: string })[]> {
  const reports: (CoverageReport & { file: string })[] = [];
  for (const file of await definitionFiles(paths)) {
    const { definition, validation } = await requireValidDefinition(file, parseSets(sets), setTexts(sets));
    reports.push({ file, ...compensationCoverage(definition, validation) });
  }
  return reports;
}

const MARK = { covered: '✔ covered', intended: '○ intended', gap: '✘ gap' } as const;

/** The coverage of one definition as a table: a row per step, a line per gap (or the reason it is intended). */
export function coverageTable(report: CoverageReport & { file: string }, width?: number): string {
  const rows = report.steps.map((step) => [
    step.stepId,
    step.job,
    MARK[step.status],
    [
      ...step.gaps.map((gap) => `${gap.kind}: ${gap.message}`),
      ...(step.reason !== undefined ? [`reason: ${step.reason}`] : []),
    ].join('\n'),
  ]);
  const head = `${report.file} · ${report.name}: ${
    report.findings ? `${plural(report.findings, 'step')} not covered` : 'every step covered'
  }`;
  return `${head}\n${renderTable({ head: ['STEP', 'JOB', 'COVERAGE', 'WHY'], rows, width, whole: [0] })}`;
}

interface CheckOptions extends DeployOptions {
  json?: boolean;
  set?: string[];
  deploy?: boolean;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'Compensation coverage, with no server: for each step of each definition, whether a failure can leave its effect standing (no revert, an unknown outcome, past the pivot, a failure class that does not unwind); steps that say why (`reason`) are intended. Exit code 1 on findings. With --deploy: replay the runs in flight against the code about to be deployed.'
    )
    .argument('[paths...]', 'definition files or directories of them (.json, .yaml, .yml)')
    .option('--set <key=value>', SET_HELP, collectSet)
    .option('--json', 'print the result as JSON')
    .option('--deploy', 'replay the open processes (or --history files) against --bundle and the job libraries')
    .option('--history <files...>', 'with --deploy: exported histories (files or directories) instead of the server')
    .option('--query <query>', 'with --deploy: a visibility query (default: every open process on the task queue)')
    .option('--bundle <file>', 'with --deploy: the workflow bundle about to be deployed (default: this build)')
    .option('--definition <file>', 'with --deploy: a revised definition; shows how each run’s revert plan changes')
    .action(
      action(async (paths: string[], options: CheckOptions) => {
        if (options.deploy && options.set) throw new UsageError('--set goes with definition paths, not --deploy');
        if (options.deploy) return checkDeploy(paths, options);
        for (const flag of ['history', 'query', 'bundle', 'definition'] as const) {
          if (options[flag] !== undefined) throw new UsageError(`--${flag} goes with --deploy`);
        }
        if (!paths.length) throw new UsageError('name a definition file or directory (or --deploy)');
        const reports = await coverageOfFiles(paths, options.set ?? []);
        const findings = reports.reduce((sum, r) => sum + r.findings, 0);
        if (options.json) printJson({ ok: findings === 0, findings, definitions: reports });
        else {
          out(reports.map((r) => coverageTable(r, outputWidth(io().stdout))).join('\n\n'));
          out(findings ? `${plural(findings, 'finding')}` : 'full coverage');
        }
        return findings ? EXIT_FAILED : undefined;
      })
    );
}
