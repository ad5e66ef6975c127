/**
 * References in step args. A value `{ $param: "name" }` takes the run's parameter `name`; a value
 * `{ $from: "alloc.path" }` takes the result of the earlier step `alloc` at the path `path` (`{ $from: "alloc" }` takes
 * the whole result). References may sit anywhere inside args (nested objects and arrays). Pure and deterministic:
 * the workflow resolves them when the step starts.
 *
 * A value `{ $secret: "db-password" }` names a secret. The workflow never resolves it: it stays a reference in the
 * workflow's state, its history and the job's call, and only the job's activity, inside the worker, replaces it with
 * the secret's value from the worker's secret provider, just before the job runs (`src/runtime/secrets.ts`).
 * Wherever a secret's value would be shown, `‹secret db-password›` is shown instead.
 */

export interface ParamRef {
  $param: string;
}
export interface FromRef {
  $from: string;
}
export interface SecretRef {
  $secret: string;
}

/** What a secret's name may be: a name, or a path in a vault (`team/db-password`). */
export const SECRET_NAME_PATTERN = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

/** What is shown in place of a secret's value: `‹secret db-password›`. */
export function secretMarker(name: string): string {
  return `‹secret ${name}›`;
}

/** A `{ $secret: name }` reference. */
export function secretRef(name: string): SecretRef {
  return { $secret: name };
}

/** True for a `{ $secret: name }` reference (an object with that one key, naming the secret with a string). */
export function isSecretRef(value: unknown): value is SecretRef {
  return isPlainObject(value) && Object.keys(value).length === 1 && typeof value.$secret === 'string';
}

/** Where a reference sits inside a step's args, and what it names. */
export interface FoundRef {
  /** Path inside args, e.g. `['volume', 'name']`. */
  path: (string | number)[];
  kind: 'param' | 'from' | 'secret';
  /** For `$param`: the parameter name. For `$from`: the step id. For `$secret`: the secret's name. */
  target: string;
  /** For `$from`: the path inside that step's result (may be empty). */
  resultPath: string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRef(value: unknown): Omit<FoundRef, 'path'> | undefined {
  if (!isPlainObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  if (typeof value.$param === 'string') return { kind: 'param', target: value.$param, resultPath: [] };
  if (typeof value.$secret === 'string') return { kind: 'secret', target: value.$secret, resultPath: [] };
  if (typeof value.$from === 'string') {
    const [target = '', ...resultPath] = value.$from.split('.');
    return { kind: 'from', target, resultPath };
  }
  return undefined;
}

/** Every reference inside a value, with where it sits. */
export function findRefs(value: unknown, path: (string | number)[] = []): FoundRef[] {
  const ref = asRef(value);
  if (ref) return [{ path, ...ref }];
  if (Array.isArray(value)) return value.flatMap((item, i) => findRefs(item, [...path, i]));
  if (isPlainObject(value)) return Object.entries(value).flatMap(([k, v]) => findRefs(v, [...path, k]));
  return [];
}

/** Reads `path` inside `value`; `undefined` when any segment is missing. */
export function getPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (isPlainObject(current)) current = Object.hasOwn(current, segment) ? current[segment] : undefined;
    else return undefined;
  }
  return current;
}

/** A reference that cannot be resolved (the parameter or the result path is missing). */
export class UnresolvedReferenceError extends Error {
  override readonly name = 'UnresolvedReferenceError';
}

/** Rebuilds `value` with every reference replaced by what `replace` returns for it. */
export function mapRefs(
  value: unknown,
  replace: (ref: Omit<FoundRef, 'path'>, where: string) => unknown,
  where = 'args'
): unknown {
  const ref = asRef(value);
  if (ref) return replace(ref, where);
  if (Array.isArray(value)) return value.map((item, i) => mapRefs(item, replace, `${where}[${i}]`));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapRefs(v, replace, `${where}.${k}`)]));
  }
  return value;
}

/**
 * Replaces every `$param` and `$from` reference inside `value` with what it names; `$secret` references stay as they
 * are (the job's activity resolves them). Throws {@link UnresolvedReferenceError} when a parameter is missing or a
 * result path leads nowhere.
 */
export function resolveRefs(
  value: unknown,
  params: Readonly<Record<string, unknown>>,
  results: Readonly<Record<string, unknown>>,
  where = 'args'
): unknown {
  return mapRefs(
    value,
    (ref, at) => {
      if (ref.kind === 'secret') return secretRef(ref.target);
      if (ref.kind === 'param') {
        if (!Object.hasOwn(params, ref.target))
          throw new UnresolvedReferenceError(`${at}: parameter "${ref.target}" is not set`);
        return params[ref.target];
      }
      if (!Object.hasOwn(results, ref.target))
        throw new UnresolvedReferenceError(`${at}: step "${ref.target}" has no result`);
      const resolved = getPath(results[ref.target], ref.resultPath);
      if (resolved === undefined) {
        throw new UnresolvedReferenceError(
          `${at}: the result of step "${ref.target}" has nothing at "${ref.resultPath.join('.')}"`
        );
      }
      return resolved;
    },
    where
  );
}
