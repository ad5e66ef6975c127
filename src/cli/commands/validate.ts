/** `jipper validate <definition>`: checks a definition file against the worker's job libraries. */
import type { Command } from 'commander';
import { plural } from '../../shared/wording';
import { DefinitionProblemsError, EXIT_USAGE } from '../errors';
import { out, printJson } from '../io';
import { action, checkDefinitionFile, collectSet, parseSets, setTexts, problemLines } from '../context';

export const SET_HELP =
  'set a run parameter (repeatable); the value is JSON when it parses, else a string, and where the job takes a string the text as typed (seat=12 is "12")';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      "Check a definition file (JSON or YAML) against the worker's job libraries (JIPPER_LIBRARIES): every problem, with its file:line:col."
    )
    .argument('<definition>', 'definition file (.json, .yaml, .yml)')
    .option('--set <key=value>', SET_HELP, collectSet)
    .option('--json', 'print { ok, problems } as JSON')
    .action(
      action(async (file: string, options: { set?: string[]; json?: boolean }) => {
        const { validation, problems } = await checkDefinitionFile(
          file,
          parseSets(options.set ?? []),
          setTexts(options.set ?? [])
        );
        if (options.json) {
          printJson({ ok: problems.length === 0, problems });
          return problems.length ? EXIT_USAGE : undefined;
        }
        if (problems.length) throw new DefinitionProblemsError(problemLines(problems));
        const ids = validation.jobs.map((j) => j.stepId).join(', ');
        out(
          `${file}: ok · process ${validation.definition?.name ?? ''}, ${plural(validation.jobs.length, 'job')} (${ids})`
        );
        return undefined;
      })
    );
}
