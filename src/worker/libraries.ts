/**
 * Which job libraries a worker registers — and a client plans with — from the configuration: the modules its
 * `libraries` name (config file `libraries`, `JIPPER_LIBRARIES`, `--libraries`), or, when none are named, the example
 * volume library with its sandbox in `JIPPER_SANDBOX` (default `.jipper/sandbox` under the project root).
 *
 * A module is a path (`./src/jobs.ts`, `src/jobs`, a directory with an index) relative to where it was named, or a
 * package name resolved from the project root. TypeScript loads directly (see `src/config/module-loader.ts`). Each
 * module exports a library as `library`, `libraries` (an array) or `default`, made with `defineLibrary`.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { volumeLibrary } from '../examples/volume/volume-jobs';
import type { JobLibrary } from '../jobs/library';
import { defineLibrary } from '../jobs/library';
import { standardLibrary } from '../jobs/standard';
import { JobRegistry } from '../runtime/registry';
import type { JipperConfig } from '../config/config';
import { importProjectModule, loadErrorCause } from '../config/module-loader';
import { findProjectRoot } from '../config/project';
import { loadSecretRoutes } from './secrets';

const envSchema = z.object({
  JIPPER_SANDBOX: z.string().min(1, 'JIPPER_SANDBOX must be a directory path').optional(),
});

const librarySchema = z.object({ name: z.string().min(1), jobs: z.array(z.object({ name: z.string() }).loose()) });

/** A library module is missing, fails to load, or does not export a job library. The message is one line. */
export class LibraryLoadError extends Error {
  override readonly name = 'LibraryLoadError';
}

/** The example library's sandbox directory: `JIPPER_SANDBOX`, else `.jipper/sandbox` under the project root. */
export function sandboxRoot(env: NodeJS.ProcessEnv = process.env, projectRoot: string = findProjectRoot()): string {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new LibraryLoadError(parsed.error.issues.map((i) => i.message).join('; '));
  const { JIPPER_SANDBOX } = parsed.data;
  if (!JIPPER_SANDBOX) return join(projectRoot, '.jipper', 'sandbox');
  return isAbsolute(JIPPER_SANDBOX) ? JIPPER_SANDBOX : resolve(JIPPER_SANDBOX);
}

/**
 * The job libraries the configuration names, loaded; the example volume library when it names none.
 *
 * @throws LibraryLoadError naming the module, where it was named, and the cause, on one line.
 */
export async function loadLibraries(
  config: Pick<JipperConfig, 'libraries' | 'projectRoot' | 'sources'>,
  env: NodeJS.ProcessEnv = process.env
): Promise<JobLibrary[]> {
  if (config.libraries === undefined) return [volumeLibrary({ root: sandboxRoot(env, config.projectRoot) })];
  const from = config.sources.libraries;
  const libraries: JobLibrary[] = [];
  for (const { specifier, baseDir } of config.libraries) {
    let loaded: { path: string; module: Record<string, unknown> };
    try {
      loaded = await importProjectModule(specifier, baseDir, config.projectRoot);
    } catch (err) {
      throw new LibraryLoadError(`${from}: cannot load job library "${specifier}": ${loadErrorCause(err)}`, {
        cause: err,
      });
    }
    const { module, path } = loaded;
    const exported = module.libraries ?? module.library ?? module.default;
    const candidates = Array.isArray(exported) ? (exported as unknown[]) : [exported];
    for (const candidate of candidates) {
      if (!librarySchema.safeParse(candidate).success) {
        throw new LibraryLoadError(
          `${from}: "${specifier}" (${path}) exports no job library: export \`library\`, \`libraries\` or \`default\` made with defineLibrary`
        );
      }
      libraries.push(candidate as JobLibrary);
    }
  }
  return libraries;
}

/**
 * The libraries and Jipper's standard jobs (`http-request`, `send-email`), usable from any definition; a job of the
 * project's own with the same name takes the standard one's place. The worker entrypoint and {@link loadRegistry} add
 * them.
 */
export function withStandardJobs(libraries: JobLibrary[]): JobLibrary[] {
  const taken = new Set(libraries.flatMap((library) => library.jobs.map((job) => job.name)));
  const standard = standardLibrary();
  const jobs = standard.jobs.filter((job) => !taken.has(job.name));
  return jobs.length ? [...libraries, defineLibrary(standard.name, jobs)] : libraries;
}

/**
 * A registry of the configured libraries and the standard jobs: what a client checks and plans definitions with, as
 * the worker does.
 */
export async function loadRegistry(
  config: Pick<JipperConfig, 'libraries' | 'projectRoot' | 'sources'>,
  env: NodeJS.ProcessEnv = process.env
): Promise<JobRegistry> {
  const registry = new JobRegistry(withStandardJobs(await loadLibraries(config, env)));
  registry.secretRoutes = loadSecretRoutes(env);
  return registry;
}
