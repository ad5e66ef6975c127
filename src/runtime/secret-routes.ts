/**
 * The workers' secret routes checked against a definition, where the run is planned (the `jipper.plan` activity):
 * every `{ $secret: name }` in a step's args, directly or through a parameter whose value is one, must go to a job the
 * routes list for that secret. A definition that sends a secret elsewhere is refused with one line per place, before
 * any job runs. (A secret handed on at run time, `secretRef` through `$from`, is checked by the job's activity.)
 */
import type { Problem } from '../shared/plan';
import { formatPath } from '../shared/plan';
import { findRefs, isSecretRef } from '../shared/refs';
import { isRecord } from '../shared/text';
import type { SecretRoutes } from './secrets';
import { secretRouteRefusal } from './secrets';

/** Every place in `definition` that sends a secret to a job `routes` does not allow. */
export function secretRouteProblems(
  definition: unknown,
  params: Record<string, unknown>,
  routes: SecretRoutes | undefined
): Problem[] {
  if (routes === undefined) return [];
  const problems: Problem[] = [];
  const visit = (value: unknown, path: (string | number)[]): void => {
    if (Array.isArray(value)) return value.forEach((item, i) => visit(item, [...path, i]));
    if (!isRecord(value)) return;
    if (typeof value.job === 'string' && isRecord(value.args)) {
      for (const ref of findRefs(value.args)) {
        const param = ref.kind === 'param' ? params[ref.target] : undefined;
        const name = ref.kind === 'secret' ? ref.target : isSecretRef(param) ? param.$secret : undefined;
        const refusal = name === undefined ? undefined : secretRouteRefusal(routes, name, value.job);
        if (refusal) problems.push({ path: formatPath([...path, 'args', ...ref.path]), message: refusal });
      }
    }
    for (const [key, child] of Object.entries(value)) if (key !== 'args') visit(child, [...path, key]);
  };
  if (isRecord(definition)) visit(definition.steps, ['steps']);
  return problems;
}
