/**
 * Checks a definition's outcome hooks (`on:`) against the job libraries before anything runs: a hook whose job no
 * library has, a `$report` name that does not exist, a `$from` (a hook has no step results to read), a parameter that
 * is not set, and literal args the job's schema refuses — a malformed e-mail address or URL among them. One problem a
 * line, at `on.<outcome>[<n>]...`. (Unknown outcome names are the schema's: `src/schema/definition.ts`.)
 */
import type { HookStep, JobStep } from '../schema/definition';
import { HOOK_OUTCOMES, hooksSchema } from '../schema/definition';
import type { Problem } from '../shared/plan';
import { formatPath } from '../shared/plan';
import { REPORT_FIELDS, mapReportRefs, reportRefName } from '../shared/hooks';
import { findRefs } from '../shared/refs';
import { isRecord } from '../shared/text';
import type { FoundRef } from '../shared/refs';
import type { JobCatalog } from './validate';

/** The checks `validate.ts` makes of a step, lent to the hooks' check (which it calls): a job's args, a typo's fix. */
export interface StepChecks {
  args: (step: JobStep, job: NonNullable<ReturnType<JobCatalog['get']>>, path: string, refs: FoundRef[]) => Problem[];
  suggestion: (name: string, known: readonly string[]) => string;
}

/** What a `$report` reference stands for while checking args: a value of the type it will have. */
function sample(name: string): unknown {
  if (name === 'revertOrder' || name === 'needsAttention') return [];
  if (name === 'report') return {};
  if (name === 'link') return 'http://127.0.0.1:8233/namespaces/default/workflows/p';
  return 'x';
}

/** Problems with the hooks of a (possibly malformed) definition. */
export function hookProblems(
  raw: unknown,
  catalog: JobCatalog,
  allParams: Record<string, unknown>,
  checks: StepChecks
): Problem[] {
  const { suggestion } = checks;
  const on = isRecord(raw) ? raw.on : undefined;
  const parsed = hooksSchema.safeParse(on);
  if (on === undefined || !parsed.success) return [];
  const problems: Problem[] = [];
  for (const outcome of HOOK_OUTCOMES) {
    (parsed.data[outcome] ?? []).forEach((hook, i) => problems.push(...oneHook(hook, `on.${outcome}[${i}]`)));
  }
  return problems;

  function oneHook(hook: HookStep, path: string): Problem[] {
    const job = catalog.get(hook.job);
    if (!job) {
      const names = catalog.names();
      return [
        {
          path: `${path}.job`,
          message: `unknown job "${hook.job}"${suggestion(hook.job, names)}; known jobs: ${names.join(', ')}`,
        },
      ];
    }
    const found: Problem[] = [];
    const visit = (value: unknown, at: (string | number)[]): void => {
      const name = reportRefName(value);
      if (name !== undefined && !(REPORT_FIELDS as readonly string[]).includes(name)) {
        found.push({
          path: formatPath([`${path}.args`, ...at]),
          message: `unknown $report "${name}"${suggestion(name, REPORT_FIELDS)}; it may be: ${REPORT_FIELDS.join(', ')}`,
        });
      } else if (Array.isArray(value)) value.forEach((v, k) => visit(v, [...at, k]));
      else if (name === undefined && isRecord(value)) for (const [k, v] of Object.entries(value)) visit(v, [...at, k]);
    };
    visit(hook.args ?? {}, []);
    const args = mapReportRefs(hook.args ?? {}, sample) as Record<string, unknown>;
    const refs = findRefs(args);
    for (const ref of refs) {
      const where = formatPath([`${path}.args`, ...ref.path]);
      if (ref.kind === 'from') {
        found.push({ path: where, message: 'a hook has no step results to read: use $param, $secret or $report' });
      } else if (ref.kind === 'param' && !Object.hasOwn(allParams, ref.target)) {
        found.push({ path: where, message: `parameter "${ref.target}" is not set (add it to params or --set it)` });
      }
    }
    const asStep = { id: 'hook', job: hook.job, args } as JobStep;
    return [...found, ...checks.args(asStep, job, path, refs)];
  }
}
