/**
 * The project's config file, `jipper.config.ts` (or `.mts`, `.cts`, `.js`, `.mjs`, `.cjs`, `.json`): found from the
 * working directory upward, loaded (TypeScript directly), and checked with zod where it enters. It names the job
 * libraries that the worker runs and that the command line plans with, the task queue, and the server.
 *
 * @example
 * ```ts
 * // jipper.config.ts
 * import { defineConfig } from 'jipper';
 *
 * export default defineConfig({
 *   libraries: ['./src/jobs.ts'],
 *   taskQueue: 'provisioning',
 *   address: '127.0.0.1:7233',
 * });
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors';
import { importProjectModule, loadErrorCause } from './module-loader';
import { addressSchema, taskQueueSchema } from './schemas';
import { hooksSchema } from '../schema/definition';

/** The names a config file may have, in the order they are looked for in each directory. */
export const CONFIG_FILE_NAMES = [
  'jipper.config.ts',
  'jipper.config.mts',
  'jipper.config.cts',
  'jipper.config.js',
  'jipper.config.mjs',
  'jipper.config.cjs',
  'jipper.config.json',
] as const;

const nonEmpty = z.string().trim().min(1, 'must not be empty');

const tlsFileSchema = z.strictObject({
  /** Client certificate (mTLS), a PEM file relative to the config file. */
  clientCertPath: nonEmpty.optional(),
  /** The client certificate's key. */
  clientKeyPath: nonEmpty.optional(),
  /** CA certificate to verify the server with (default: the system's). */
  serverCaCertPath: nonEmpty.optional(),
  /** Server name to verify (SNI), when it differs from the address's host. */
  serverName: nonEmpty.optional(),
});

export const configFileSchema = z
  .strictObject({
    /**
     * Job library modules, relative to the config file (`./src/jobs.ts`, a directory with an index) or package names
     * resolved from the project. Each exports `library`, `libraries` (an array) or a default made with `defineLibrary`.
     */
    libraries: z.array(nonEmpty).min(1, 'name at least one job library module').optional(),
    /**
     * Process libraries: directories of definition files, relative to the config file, whose processes a step runs
     * by name (`process: create-database`, the file's `name:`). See docs/sub-processes.md.
     */
    processes: z.array(nonEmpty).min(1, 'name at least one directory of process definitions').optional(),
    /** Task queue of the workers. Default `jipper`. */
    taskQueue: taskQueueSchema.optional(),
    /** Temporal namespace. Default `default`. */
    namespace: nonEmpty.optional(),
    /**
     * The Temporal frontend, `host:port`. On loopback with nothing listening, Jipper starts its embedded dev server
     * there. Default: the embedded dev server on 127.0.0.1:7233.
     */
    address: addressSchema.optional(),
    /** TLS: `true` for server TLS with the system's CAs, or the certificate files for mTLS. */
    tls: z.union([z.boolean(), tlsFileSchema]).optional(),
    /** API key (Temporal Cloud). Prefer the `TEMPORAL_API_KEY` variable: a config file is usually committed. */
    apiKey: nonEmpty.optional(),
    /**
     * Who decides approvals from this project (`jipper approve`), when `--as` is not given (`JIPPER_IDENTITY` wins).
     * Default: the OS user. A guard against mistakes, not authorization (docs/waits.md).
     */
    identity: nonEmpty.optional(),
    /** Base URL of the Web UI for links, when it is not the embedded dev server's (a cluster, Temporal Cloud). */
    webUi: z.url({ message: 'must be a URL such as http://127.0.0.1:8233' }).optional(),
    /**
     * Default outcome hooks of every process the worker runs, by outcome (as a definition's `on:`), e.g. e-mail the
     * on-call address on `parked` and `revert_failed`. A definition adds its own; `on: { defaults: false }` opts out.
     */
    hooks: hooksSchema.optional(),
    /**
     * `required`: this namespace's payloads must be encrypted; workers refuse plaintext, clients without a key ring
     * refuse to start (docs/security.md). Default: on where there is a key ring. The ring itself is never in this file.
     */
    encryption: z.strictObject({ required: z.boolean().optional() }).optional(),
  })
  .superRefine((file, ctx) => {
    if (typeof file.tls !== 'object') return;
    if ((file.tls.clientCertPath === undefined) !== (file.tls.clientKeyPath === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'clientCertPath and clientKeyPath go together' });
    }
  });

/** A config file's settings, as written. */
export type JipperConfigFile = z.infer<typeof configFileSchema>;

/** Declares a config file's settings, type-checked. Identity at run time. */
export function defineConfig(config: JipperConfigFile): JipperConfigFile {
  return config;
}

/** The config file in `start` or the nearest directory above it, if any. */
export function findConfigFile(start: string = process.cwd()): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const found = CONFIG_FILE_NAMES.filter((name) => existsSync(join(dir, name)));
    if (found.length > 1) {
      throw new ConfigError(`${dir} has ${found.join(' and ')}: keep one config file`);
    }
    if (found[0] !== undefined) return join(dir, found[0]);
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Loads and checks a config file.
 *
 * @throws ConfigError on one line naming the file and what is wrong: it cannot be read or loaded, or a setting is
 *   invalid (every invalid setting is listed).
 */
export async function readConfigFile(path: string): Promise<JipperConfigFile> {
  const name = basename(path);
  let raw: unknown;
  try {
    if (path.endsWith('.json')) {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } else {
      const { module } = await importProjectModule(path, dirname(path));
      raw = 'default' in module ? module.default : module;
    }
  } catch (err) {
    throw new ConfigError(`${path}: cannot load it: ${loadErrorCause(err)}`, { cause: err });
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : '(file)';
      return `${where}: ${issue.message}`;
    });
    throw new ConfigError(`${name} (${path}): ${problems.join('; ')}`);
  }
  return parsed.data;
}
