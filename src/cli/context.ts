/**
 * What the `jipper` commands share: the configuration, a client connection, `--set` parameters, and reading a
 * definition file and checking it against the worker's job libraries, with every problem located in the file.
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { JobRegistry } from '../activities/registry';
import type { Validation } from '../activities/validate';
import type { ProcessDefinition } from '../schema/definition';
import type { Problem } from '../shared/plan';
import { loadLibraries } from '../worker/libraries';
import type { JipperConfig } from '../config/config';
import { loadConfig } from '../config/config';
import { connectClient } from '../config/connect';
import { ensureServer } from '../dev/ensure-server';
import { DEFAULT_DEV_SERVER_PORT } from '../dev/dev-server';
import type { DefinitionSource } from './definition-file';
import { loadDefinitionSource } from './definition-file';
import { DefinitionProblemsError, UsageError } from './errors';
import { isRecord } from '../shared/text';

/** Where the commands look for a server when none is configured: the embedded dev server's address. */
export const EMBEDDED_ADDRESS = `127.0.0.1:${DEFAULT_DEV_SERVER_PORT}`;

/**
 * A client for the configured server, or for the embedded dev server's address when none is configured. Commands
 * that only read or signal runs start nothing (an unreachable server is a one-line TemporalUnreachableError);
 * `startServer` starts the embedded dev server first when it is not running (for `start`).
 */
export async function withClient<T>(
  fn: (client: Client, config: JipperConfig) => Promise<T>,
  options: { startServer?: boolean } = {}
): Promise<T> {
  const config = loadConfig();
  const address = options.startServer
    ? await ensureServer(config, (line) => process.stderr.write(`${line}\n`))
    : (config.address ?? EMBEDDED_ADDRESS);
  const client = await connectClient({
    ...config,
    address,
    addressSource: config.addressSource ?? 'embedded dev server',
  });
  try {
    return await fn(client, config);
  } finally {
    await client.connection.close();
  }
}

const setSchema = z.object({
  key: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_.-]*$/,
      'a parameter name is letters, digits, "_", "-" and ".", starting with a letter or "_"'
    ),
  value: z.string(),
});

/** Commander's collector for a repeated `--set key=value`. */
export function collectSet(item: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), item];
}

/**
 * Turns `--set key=value` options into run parameters. A value is parsed as JSON when it parses (`--set sizeMb=64`,
 * `--set 'clients=["10.0.0.0/8"]'`), else kept as a string (`--set volume=vol-2`). A later `--set` of a key wins.
 */
export function parseSets(items: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const item of items) {
    const at = item.indexOf('=');
    const parsed = setSchema.safeParse({
      key: at < 0 ? item : item.slice(0, at),
      value: at < 0 ? undefined : item.slice(at + 1),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const reason = issue?.path[0] === 'value' ? 'expected key=value' : (issue?.message ?? 'invalid');
      throw new UsageError(`--set ${item}: ${reason}`);
    }
    const { key, value } = parsed.data;
    try {
      params[key] = JSON.parse(value) as unknown;
    } catch {
      params[key] = value;
    }
  }
  return params;
}

/** A problem with the place in the file it is about. */
export interface LocatedProblem extends Problem {
  /** `file:line:col` */
  location: string;
}

export interface CheckedDefinition {
  source: DefinitionSource;
  validation: Validation;
  registry: JobRegistry;
  problems: LocatedProblem[];
}

/** Reads a definition file and checks it against the worker's job libraries (`JIPPER_LIBRARIES`) with the params. */
export async function checkDefinitionFile(path: string, params: Record<string, unknown>): Promise<CheckedDefinition> {
  const source = await loadDefinitionSource(path);
  const registry = new JobRegistry(await loadLibraries());
  const validation = registry.validate(source.value, params);
  const fileParams = isRecord(source.value) && isRecord(source.value.params) ? source.value.params : {};
  const problems = validation.problems.map((problem) => {
    // A parameter the file does not declare came from the command line: the problem is in its --set.
    const set = /^params\.(.+)$/.exec(problem.path)?.[1];
    if (set !== undefined && Object.hasOwn(params, set) && !Object.hasOwn(fileParams, set)) {
      return { ...problem, location: `--set ${set}` };
    }
    const { line, col } = source.locate(problem.path);
    return { ...problem, location: `${path}:${line}:${col}` };
  });
  return { source, validation, registry, problems };
}

/** Like {@link checkDefinitionFile}, but a definition with problems is a {@link DefinitionProblemsError}. */
export async function requireValidDefinition(
  path: string,
  params: Record<string, unknown>
): Promise<CheckedDefinition & { definition: ProcessDefinition }> {
  const checked = await checkDefinitionFile(path, params);
  const { definition } = checked.validation;
  if (checked.problems.length || !definition) throw new DefinitionProblemsError(problemLines(checked.problems));
  return { ...checked, definition };
}

/** One line per problem: `file:line:col: steps[1].job: unknown job "x"`, or `--set bukket: ...` for a --set. */
export function problemLines(problems: readonly LocatedProblem[]): string[] {
  return problems.map((p) =>
    p.location.startsWith('--')
      ? `${p.location}: ${p.message}`
      : `${p.location}: ${p.path ? `${p.path}: ` : ''}${p.message}`
  );
}

export { printJson } from './io';

/**
 * Wraps a command's action: its returned number becomes the exit code. Errors are left to the entry point, which
 * prints them as one line.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const code = await fn(...args);
    if (code !== undefined) process.exitCode = code;
  };
}
