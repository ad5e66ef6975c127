/**
 * Which job libraries a worker registers, from the environment (validated here, where it enters):
 *
 * - `JIPPER_LIBRARIES`: comma-separated module paths (relative to the working directory) or package names; each
 *   module exports a library as `library`, `libraries` (an array) or `default`.
 * - Unset: the example volume library, with its sandbox in `JIPPER_SANDBOX` (default `.jipper/sandbox` under the
 *   project root).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { volumeLibrary } from '../activities/examples/volume-jobs';

import { findProjectRoot } from '../config/project';
import type { JobLibrary } from '../activities/library';

const envSchema = z.object({
  JIPPER_LIBRARIES: z
    .string()
    .optional()
    .transform((v) =>
      v
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : []
    ),
  JIPPER_SANDBOX: z.string().min(1, 'JIPPER_SANDBOX must be a directory path').optional(),
});

const librarySchema = z.object({ name: z.string().min(1), jobs: z.array(z.object({ name: z.string() }).loose()) });

/** A library module is missing or does not export a job library. */
export class LibraryLoadError extends Error {
  override readonly name = 'LibraryLoadError';
}

/** The example library's sandbox directory. */
export function sandboxRoot(env: NodeJS.ProcessEnv = process.env): string {
  const { JIPPER_SANDBOX } = envSchema.parse(env);
  if (!JIPPER_SANDBOX) return join(findProjectRoot(), '.jipper', 'sandbox');
  return isAbsolute(JIPPER_SANDBOX) ? JIPPER_SANDBOX : resolve(JIPPER_SANDBOX);
}

export async function loadLibraries(env: NodeJS.ProcessEnv = process.env): Promise<JobLibrary[]> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new LibraryLoadError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  if (parsed.data.JIPPER_LIBRARIES.length === 0) return [volumeLibrary({ root: sandboxRoot(env) })];
  const libraries: JobLibrary[] = [];
  for (const specifier of parsed.data.JIPPER_LIBRARIES) {
    const target = specifier.startsWith('.') || isAbsolute(specifier) ? resolve(specifier) : specifier;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(target)) as Record<string, unknown>;
    } catch (err) {
      throw new LibraryLoadError(
        `JIPPER_LIBRARIES: cannot load "${specifier}": ${(err as Error).message.split('\n')[0]}`
      );
    }
    const exported = mod.libraries ?? mod.library ?? mod.default;
    const candidates = Array.isArray(exported) ? (exported as unknown[]) : [exported];
    for (const candidate of candidates) {
      if (!librarySchema.safeParse(candidate).success) {
        throw new LibraryLoadError(
          `JIPPER_LIBRARIES: "${specifier}" exports no job library (export \`library\`, \`libraries\` or \`default\` made with defineLibrary)`
        );
      }
      libraries.push(candidate as JobLibrary);
    }
  }
  return libraries;
}
