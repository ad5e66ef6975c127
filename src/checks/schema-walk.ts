/**
 * Reading a job's zod schemas the way a definition uses them, to catch typos before anything runs:
 * - {@link unknownKeys}: keys in a step's args that the job's input schema does not know. zod's `z.object` drops
 *   unknown keys without a word, so `regoin: eu-2` would run with the default region; only objects that drop keys are
 *   checked (a `looseObject`/`catchall` keeps them on purpose; a `strictObject` already refuses them).
 * - {@link missingOutputPath}: where a `$from` path leaves what a job's output schema says its result holds.
 *
 * Both walk zod 4's schema definitions (`schema._zod.def`); a kind of schema they do not know is given the benefit of
 * the doubt (nothing is reported), so they never refuse what zod itself would accept.
 */
import type { z } from 'zod';
import { isRecord } from '../shared/text';

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  getter?: () => z.ZodType;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  rest?: z.ZodType | null;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
}

function defOf(schema: unknown): Def | undefined {
  return (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;
}

/** Wrappers that hold one schema: what they accept is what it accepts (the input side of a pipe). */
function unwrapInput(def: Def): z.ZodType | undefined {
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return def.innerType;
    case 'pipe':
      return def.in;
    case 'lazy':
      return def.getter?.();
    default:
      return undefined;
  }
}

/** A key the schema does not know, where it is, and the keys it knows there. */
export interface UnknownKey {
  path: (string | number)[];
  key: string;
  known: string[];
}

/** Every key in `value` that `schema` would drop without a word. */
export function unknownKeys(schema: z.ZodType, value: unknown, path: (string | number)[] = []): UnknownKey[] {
  const def = defOf(schema);
  if (!def) return [];
  const inner = unwrapInput(def);
  if (inner) return unknownKeys(inner, value, path);
  switch (def.type) {
    case 'object': {
      if (!isRecord(value)) return [];
      const shape = def.shape ?? {};
      return Object.entries(value).flatMap(([key, v]) => {
        if (Object.hasOwn(shape, key)) return unknownKeys(shape[key] as z.ZodType, v, [...path, key]);
        if (def.catchall === undefined) return [{ path, key, known: Object.keys(shape) }];
        return unknownKeys(def.catchall, v, [...path, key]);
      });
    }
    case 'array':
      return Array.isArray(value) && def.element
        ? value.flatMap((item, i) => unknownKeys(def.element as z.ZodType, item, [...path, i]))
        : [];
    case 'tuple':
      return Array.isArray(value)
        ? value.flatMap((item, i) => {
            const itemSchema = def.items?.[i] ?? def.rest ?? undefined;
            return itemSchema ? unknownKeys(itemSchema, item, [...path, i]) : [];
          })
        : [];
    case 'record':
      return isRecord(value) && def.valueType
        ? Object.entries(value).flatMap(([key, v]) => unknownKeys(def.valueType as z.ZodType, v, [...path, key]))
        : [];
    case 'union': {
      // The option that takes the value decides; when none does, zod reports the value itself.
      const option = def.options?.find((o) => o.safeParse(value).success);
      return option ? unknownKeys(option, value, path) : [];
    }
    case 'intersection': {
      // A key is unknown only when neither side knows it.
      const right = unknownKeys(def.right as z.ZodType, value, path);
      const where = (u: UnknownKey) => JSON.stringify([...u.path, u.key]);
      const inRight = new Map(right.map((u) => [where(u), u]));
      return unknownKeys(def.left as z.ZodType, value, path).flatMap((u) => {
        const other = inRight.get(where(u));
        return other ? [{ ...u, known: [...new Set([...u.known, ...other.known])] }] : [];
      });
    }
    default:
      return [];
  }
}

/** Where a result path leaves the output schema: the segment that is not there, and what is there instead. */
export interface MissingPath {
  /** The segments that are there, before the missing one. */
  at: string[];
  segment: string;
  /** The keys there (or `[]` when the value there is not an object, as `kind` says). */
  known: string[];
  /** What the value there is, when it holds no keys at all: `a string`, `a number`... */
  kind?: string;
}

const SCALARS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a number',
  boolean: 'a boolean',
  bigint: 'a bigint',
  date: 'a date',
  enum: 'a string',
  null: 'null',
  undefined: 'undefined',
  void: 'undefined',
};

/**
 * Where `segments` (a `$from` path inside a result) leaves what the output `schema` describes; `undefined` when the
 * path may be there (or the schema cannot say: a transform, `unknown`, `any`).
 */
export function missingOutputPath(
  schema: z.ZodType,
  segments: readonly string[],
  at: string[] = []
): MissingPath | undefined {
  const [segment, ...rest] = segments;
  if (segment === undefined) return undefined;
  const def = defOf(schema);
  if (!def) return undefined;
  // The result is what the schema outputs: the output side of a pipe.
  if (def.type === 'pipe')
    return def.out && defOf(def.out)?.type !== 'transform' ? missingOutputPath(def.out, segments, at) : undefined;
  const inner = unwrapInput(def);
  if (inner) return missingOutputPath(inner, segments, at);
  const next = (child: z.ZodType) => missingOutputPath(child, rest, [...at, segment]);
  switch (def.type) {
    case 'object': {
      const shape = def.shape ?? {};
      if (Object.hasOwn(shape, segment)) return next(shape[segment] as z.ZodType);
      const closed = def.catchall === undefined || defOf(def.catchall)?.type === 'never';
      return closed ? { at, segment, known: Object.keys(shape) } : next(def.catchall as z.ZodType);
    }
    case 'array':
      return /^\d+$/.test(segment) && def.element ? next(def.element) : { at, segment, known: [], kind: 'a list' };
    case 'tuple': {
      const item = /^\d+$/.test(segment) ? (def.items?.[Number(segment)] ?? def.rest ?? undefined) : undefined;
      return item ? next(item) : { at, segment, known: [], kind: 'a list' };
    }
    case 'record':
      return def.valueType ? next(def.valueType) : undefined;
    case 'union': {
      const misses = (def.options ?? []).map((o) => missingOutputPath(o, segments, at));
      if (misses.some((m) => m === undefined)) return undefined;
      const known = [...new Set(misses.flatMap((m) => (m?.segment === segment ? (m?.known ?? []) : [])))];
      return misses[0] && { ...misses[0], known };
    }
    case 'intersection': {
      const left = missingOutputPath(def.left as z.ZodType, segments, at);
      const right = missingOutputPath(def.right as z.ZodType, segments, at);
      return left && right ? { ...left, known: [...new Set([...left.known, ...right.known])] } : undefined;
    }
    default: {
      const kind = SCALARS[def.type];
      return kind ? { at, segment, known: [], kind } : undefined;
    }
  }
}
