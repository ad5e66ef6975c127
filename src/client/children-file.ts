/**
 * Child-process steps in definition files: a step `process: ./create-database.yaml` names another definition file,
 * relative to the file that names it. The loader reads it (and its own children, depth first) and puts each child's
 * definition in its step, so the workflow that runs the process reads no file. A file that includes itself (directly
 * or through others) is refused with the chain named, and so is nesting deeper than {@link MAX_CHILD_DEPTH}.
 */
import { dirname, relative, resolve } from 'node:path';
import { MAX_CHILD_DEPTH } from '../shared/children';
import { isRecord } from '../shared/text';
import type { ProcessLibrary } from './process-library';
import { namesFile, processFile } from './process-library';

/** Reads and parses one definition file (without its children). */
export type RawReader = (path: string) => unknown;

/** How children are read: the reader, the error maker, and the process library names resolve in. */
export interface EmbedContext {
  read: RawReader;
  fail: (message: string) => Error;
  /** Read when a step first names a process (so a definition naming files only never reads the libraries). */
  library?: (() => ProcessLibrary | undefined) | undefined;
}

/**
 * Embeds the child definitions `value` (read from `path`) names by file, in place of their paths. Throws an error
 * made by `fail` (one line: the file, the step's path and what is wrong) when a child cannot be read, includes
 * itself, or nests too deep. A `process:` that is a name, not a path, is the file of that name in the library.
 */
export function embedChildFiles(
  value: unknown,
  path: string,
  context: EmbedContext,
  chain: readonly string[] = [resolve(path)]
): unknown {
  if (!isRecord(value) || !Array.isArray(value.steps)) return value;
  const steps = value.steps.map((step: unknown, i) => {
    if (isRecord(step) && Array.isArray(step.parallel)) {
      const parallel = step.parallel.map((member: unknown, j) =>
        embedOne(member, `steps[${i}].parallel[${j}]`, path, context, chain)
      );
      return { ...step, parallel };
    }
    return embedOne(step, `steps[${i}]`, path, context, chain);
  });
  return { ...value, steps };
}

function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

function embedOne(step: unknown, at: string, path: string, context: EmbedContext, chain: readonly string[]): unknown {
  if (!isRecord(step) || typeof step.process !== 'string') return step;
  const { read, fail } = context;
  const where = `${path}: ${at}.process`;
  const named = namesFile(step.process) ? undefined : processFile(context.library?.(), step.process);
  if (typeof named === 'object') throw fail(`${where}: ${named.problem}`);
  const file = named ?? resolve(dirname(path), step.process);
  if (chain.includes(file)) {
    const cycle = [...chain.slice(chain.indexOf(file)), file].map(shown).join(' → ');
    throw fail(`${where}: a process includes itself: ${cycle}`);
  }
  if (chain.length > MAX_CHILD_DEPTH) {
    throw fail(
      `${where}: processes nest more than ${MAX_CHILD_DEPTH} deep: ${[...chain, file].map(shown).join(' → ')}`
    );
  }
  let child: unknown;
  try {
    child = read(file);
  } catch (err) {
    throw fail(`${where}: ${(err as Error).message}`);
  }
  return { ...step, process: embedChildFiles(child, file, context, [...chain, file]) };
}
