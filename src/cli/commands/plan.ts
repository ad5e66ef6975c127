/**
 * `jipper plan <definition>`: the revert-plan preview, before anything runs — what would run in which order and
 * side by side, and for a failure (`--fail-at`) or a cancellation (`--cancel-at`) at a step, exactly what would be
 * reverted in which order. Without a scenario, one line per job: what a failure there would revert.
 */
import type { Command } from 'commander';
import { suggestion } from '../../checks/validate';
import type { PreviewScenario } from '../../shared/revert-plan';
import { stepPath } from '../args';
import { previewJobIds } from '../../shared/child-plans';
import { UsageError } from '../errors';
import { out, printJson } from '../io';
import { planMermaid, planText, planView } from '../plan-view';
import { action, collectSet, parseSets, setTexts, requireValidDefinition } from '../context';
import { SET_HELP } from './validate';

interface PlanOptions {
  set?: string[];
  failAt?: string;
  timeoutAt?: string;
  cancelAt?: string;
  revertFails?: string;
  json?: boolean;
  mermaid?: boolean;
  markdown?: boolean;
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description(
      'Preview a definition before anything runs: the forward path wave by wave, and for a failure or a cancellation at a step what would never start and what would be reverted, in which order (without one: a failure at every job in turn).'
    )
    .argument('<definition>', 'definition file (.json, .yaml, .yml)')
    .option('--set <key=value>', SET_HELP, collectSet)
    .option('--fail-at <step>', 'the job that fails (once its retries are spent; in a child: db/grant)', stepPath)
    .option('--cancel-at <step>', 'the job during which the process is cancelled', stepPath)
    .option('--timeout-at <step>', 'the wait step whose timeout expires (it follows its onTimeout)', stepPath)
    .option('--revert-fails <step>', 'besides: the job whose revert fails', stepPath)
    .option('--json', 'print { name, settings, forward, previews } as JSON')
    .option('--mermaid', 'print a Mermaid flowchart: the forward path, the stop, the reverts (dashed)')
    .option('--markdown', 'with --mermaid: wrap the chart in a ```mermaid fence')
    .action(
      action(async (file: string, options: PlanOptions) => {
        if ([options.failAt, options.cancelAt, options.timeoutAt].filter((o) => o !== undefined).length > 1) {
          throw new UsageError('choose one of --fail-at, --cancel-at and --timeout-at');
        }
        if (options.json && options.mermaid) throw new UsageError('choose one of --json and --mermaid');
        if (options.markdown && !options.mermaid) throw new UsageError('--markdown goes with --mermaid');
        const { definition, validation } = await requireValidDefinition(
          file,
          parseSets(options.set ?? []),
          setTexts(options.set ?? [])
        );
        const known = previewJobIds(validation, definition);
        for (const [flag, step] of [
          ['--fail-at', options.failAt],
          ['--cancel-at', options.cancelAt],
          ['--revert-fails', options.revertFails],
          ['--timeout-at', options.timeoutAt],
        ] as const) {
          if (step !== undefined && !known.includes(step)) {
            throw new UsageError(
              `${flag} ${step}: no job "${step}" in ${definition.name}${suggestion(step, known)}; its jobs: ${known.join(', ')}`
            );
          }
        }
        const scenario: PreviewScenario = {
          ...(options.failAt !== undefined ? { failAt: options.failAt } : {}),
          ...(options.cancelAt !== undefined ? { cancelAt: options.cancelAt } : {}),
          ...(options.revertFails !== undefined ? { revertFails: options.revertFails } : {}),
          ...(options.timeoutAt !== undefined ? { timeoutAt: options.timeoutAt } : {}),
        };
        const waits = validation.jobs.filter((job) => job.wait).map((job) => job.stepId);
        if (options.timeoutAt !== undefined && !waits.includes(options.timeoutAt)) {
          throw new UsageError(
            `--timeout-at ${options.timeoutAt}: not a wait step of ${definition.name}; its waits: ${waits.join(', ') || 'none'}`
          );
        }
        const view = planView(definition, validation, scenario);
        if (options.json) return printJson(view);
        if (options.mermaid) {
          const chart = planMermaid(view, definition, validation.jobs);
          return out(options.markdown ? `\`\`\`mermaid\n${chart}\n\`\`\`` : chart);
        }
        out(planText(view, validation.jobs));
      })
    );
}
