/**
 * Resource tokens: names, counts and capacities as a step or process declares them, resolved to what the token keeper
 * is asked for. Pure (the workflow resolves them when the step starts).
 */
import type { TokenSpec } from '../schema/definition';
import { resolveRefs } from './refs';

/** A token request as the keeper sees it: a name, how many units, and the token's capacity. */
export interface TokenClaim {
  name: string;
  count: number;
  capacity: number;
}

/** The parameters a token name's `{param}` placeholders name: `volume/{volume}` → `['volume']`. */
export function tokenTemplateParams(name: string): string[] {
  return [...name.matchAll(/\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g)].map((match) => match[1] as string);
}

/**
 * Resolves token specs: `{param}` placeholders from the run's params, `$param` / `$from` references from params and
 * earlier results. Throws (an `UnresolvedReferenceError`, or a `TypeError`) when a name cannot be made.
 */
export function resolveTokens(
  specs: readonly TokenSpec[],
  params: Readonly<Record<string, unknown>>,
  results: Readonly<Record<string, unknown>>,
  where: string
): TokenClaim[] {
  const claims = specs.map((spec, i) => {
    const raw = typeof spec === 'string' ? spec : spec.name;
    const at = `${where}[${i}]`;
    const resolved = typeof raw === 'string' ? raw : resolveRefs(raw, params, results, at);
    if (typeof resolved !== 'string' || resolved === '') {
      throw new TypeError(`${at}: a token name must be a non-empty string`);
    }
    const name = resolved.replace(/\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g, (_, param: string) => {
      if (!Object.hasOwn(params, param)) throw new TypeError(`${at}: parameter "${param}" is not set`);
      return String(params[param]);
    });
    const count = typeof spec === 'string' ? 1 : (spec.count ?? 1);
    const capacity = typeof spec === 'string' ? 1 : (spec.capacity ?? 1);
    if (count > capacity) throw new TypeError(`${at}: token "${name}" asks for ${count} of a capacity of ${capacity}`);
    return { name, count, capacity };
  });
  // The same token twice in one request counts once, with the larger count.
  const byName = new Map<string, TokenClaim>();
  for (const claim of claims) {
    const seen = byName.get(claim.name);
    byName.set(claim.name, seen ? { ...claim, count: Math.max(seen.count, claim.count) } : claim);
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The token keeper's workflow type, and its id for a task queue: one keeper per queue. */
export const TOKEN_KEEPER_WORKFLOW = 'jipperTokenKeeper';
export function tokenKeeperId(taskQueue: string): string {
  return `jipper-tokens:${taskQueue}`;
}
/** The signal that asks the keeper for tokens (sent with start, so the keeper exists). */
export const TOKENS_REQUEST_SIGNAL = 'jipper.tokens.request';
/** The activity that sends a request to the keeper, starting the keeper if it is not running. */
export const TOKENS_REQUEST_ACTIVITY = 'jipper.tokens.request';
/** The activity the keeper asks which holders have ended without releasing (terminated, timed out). */
export const TOKENS_ENDED_ACTIVITY = 'jipper.tokens.ended';
