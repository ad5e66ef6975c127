/**
 * What the `jipper` commands share: the global options and the configuration they make, a client connection,
 * `--set` parameters, and reading a definition file and checking it against the configured job libraries, with every
 * problem located in the file.
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { Option } from 'commander';
import { z } from 'zod';
import type { JobRegistry } from '../runtime/registry';
import type { Validation } from '../checks/validate';
import type { ProcessDefinition } from '../schema/definition';
import type { Problem } from '../shared/plan';
import { loadRegistry } from '../worker/libraries';
import type { ConfigFlags, JipperConfig } from '../config/config';
import { loadConfig } from '../config/config';
import { connectClient } from '../config/connect';
import type { ServerInUse } from '../dev/ensure-server';
import { configuredAddress, ensureServer, webUiOf } from '../dev/ensure-server';
import type { DefinitionSource } from '../client/definition-file';
import { loadDefinitionSource, parseProblemPath } from '../client/definition-file';
import { getPath } from '../shared/refs';
import { DefinitionProblemsError, UsageError } from './errors';
import { isRecord } from '../shared/text';

/**
 * The options every command takes, as the `temporal` CLI has them; each overrides the environment and the config
 * file (see `src/config/config.ts`). `jipper config` prints the settings they make and where each came from.
 */
export function addGlobalOptions(program: Command): void {
  const options: [string, string][] = [
    ['--config <file>', 'config file (default: jipper.config.ts or .json, found from the working directory up)'],
    ['--address <host:port>', 'Temporal frontend (default 127.0.0.1:7233; on loopback, the embedded dev server)'],
    ['-n, --namespace <name>', 'Temporal namespace (default: default)'],
    ['--task-queue <name>', 'task queue of the workers (default: jipper)'],
    ['--libraries <modules>', 'job library modules, comma-separated (paths or package names)'],
    ['--api-key <key>', 'API key (Temporal Cloud); implies --tls'],
    ['--tls', 'connect with TLS'],
    ['--tls-cert-path <file>', 'client certificate (mTLS)'],
    ['--tls-key-path <file>', 'client certificate key (mTLS)'],
    ['--tls-ca-path <file>', 'CA certificate to verify the server with'],
    ['--tls-server-name <name>', 'server name to verify'],
    ['--profile <name>', "profile of Temporal's config file (TEMPORAL_PROFILE)"],
    ['--web-ui <url>', 'Web UI base for links (default: the dev server in use)'],
  ];
  for (const [flags, description] of options) program.addOption(new Option(flags, description));
  program.hook('preAction', (_program, actionCommand) => {
    globalFlags = pickFlags(actionCommand.optsWithGlobals());
    configLoading = undefined;
  });
}

const FLAG_KEYS = [
  'config',
  'address',
  'namespace',
  'taskQueue',
  'libraries',
  'apiKey',
  'tls',
  'tlsCertPath',
  'tlsKeyPath',
  'tlsCaPath',
  'tlsServerName',
  'profile',
  'webUi',
] as const satisfies readonly (keyof ConfigFlags)[];

function pickFlags(options: Record<string, unknown>): ConfigFlags {
  const flags: ConfigFlags = {};
  for (const key of FLAG_KEYS) if (options[key] !== undefined) Object.assign(flags, { [key]: options[key] });
  return flags;
}

/** The global options of the command being run (set before its action runs). */
let globalFlags: ConfigFlags = {};
let configLoading: Promise<JipperConfig> | undefined;

/** The configuration for this command: flags, environment, config file, Temporal profile (loaded once). */
export function cliConfig(): Promise<JipperConfig> {
  configLoading ??= loadConfig({ flags: globalFlags });
  return configLoading;
}

/**
 * A client for the configured server (default: the embedded dev server's address). Commands that only read or signal
 * runs start nothing (an unreachable server is a one-line TemporalUnreachableError); `startServer` starts the
 * embedded dev server first when the address is on loopback and nothing listens (for `start`). `server` says which
 * server is in use and its Web UI, for links.
 */
export async function withClient<T>(
  fn: (client: Client, config: JipperConfig, server: ServerInUse) => Promise<T>,
  options: { startServer?: boolean } = {}
): Promise<T> {
  const config = await cliConfig();
  const server: ServerInUse = options.startServer
    ? await ensureServer(config, (line) => process.stderr.write(`${line}\n`))
    : { address: configuredAddress(config), uiUrl: undefined, started: false };
  const client = await connectClient({
    ...config,
    address: server.address,
    addressSource: config.addressSource ?? 'embedded dev server',
  });
  if (!options.startServer) server.uiUrl = await webUiOf(config, server.address);
  try {
    return await fn(client, config, server);
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
 * Checking a definition then types each value by the place it goes (see {@link checkDefinitionFile}): `--set seat=12`
 * is the string "12" where the job takes a string.
 */
export function parseSets(items: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(setTexts(items))) {
    try {
      params[key] = JSON.parse(value) as unknown;
    } catch {
      params[key] = value;
    }
  }
  return params;
}

/** The text of each `--set key=value`, as typed (a later `--set` of a key wins); a malformed one is a UsageError. */
export function setTexts(items: readonly string[]): Record<string, string> {
  const texts: Record<string, string> = {};
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
    texts[parsed.data.key] = parsed.data.value;
  }
  return texts;
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

/**
 * Reads a definition file and checks it against the configured job libraries (the worker's) with the params (or the
 * params a function makes of what the file holds). `sets` are the texts of the `--set`s among the params: a value
 * `--set` parsed as JSON (`12`, `true`) that goes, through `$param`, where the job takes a string is passed as the text
 * it was typed as; a problem that is still about a `--set` value names the `--set`.
 */
export async function checkDefinitionFile(
  path: string,
  paramsFor: Record<string, unknown> | ((value: unknown) => Record<string, unknown>),
  sets: Record<string, string> = {}
): Promise<CheckedDefinition & { params: Record<string, unknown> }> {
  const config = await cliConfig();
  // A child step may name a process of the configured process libraries (`process: create-database`).
  const source = await loadDefinitionSource(path, { processes: config.processLibraries });
  const registry = await loadRegistry(config);
  let params = typeof paramsFor === 'function' ? paramsFor(source.value) : paramsFor;
  let validation = registry.validate(source.value, params);
  const retyped = setsAsText(source.value, validation.problems, params, sets);
  if (retyped) {
    params = retyped;
    validation = registry.validate(source.value, params);
  }
  const fileParams = isRecord(source.value) && isRecord(source.value.params) ? source.value.params : {};
  const problems = validation.problems.map((problem) => {
    // A parameter the file does not declare came from the command line: the problem is in its --set.
    const set = /^params\.(.+)$/.exec(problem.path)?.[1];
    if (set !== undefined && Object.hasOwn(params, set) && !Object.hasOwn(fileParams, set)) {
      return { ...problem, location: `--set ${set}` };
    }
    const { line, col } = source.locate(problem.path);
    const at = `${path}:${line}:${col}`;
    // A value that came from a --set: the problem is in the --set, at the place the file puts it.
    const param = paramAt(source.value, problem.path);
    if (param !== undefined && Object.hasOwn(sets, param)) {
      return {
        ...problem,
        location: `--set ${param}=${sets[param]}`,
        message: `${problem.message} (the value goes to ${problem.path}, ${at})`,
      };
    }
    return { ...problem, location: at };
  });
  return { source, validation, registry, problems, params };
}

/** The parameter a `{ $param: name }` at a problem's path names, if that is what the file has there. */
function paramAt(value: unknown, problemPath: string): string | undefined {
  const at = getPath(value, parseProblemPath(problemPath).map(String));
  return isRecord(at) && typeof at.$param === 'string' && Object.keys(at).length === 1 ? at.$param : undefined;
}

/**
 * The params with each `--set` value that JSON made a number, boolean or null put back as the text it was typed as,
 * where a problem says that place takes a string; `undefined` when there is none.
 */
function setsAsText(
  value: unknown,
  problems: readonly Problem[],
  params: Record<string, unknown>,
  sets: Record<string, string>
): Record<string, unknown> | undefined {
  const keys = problems.flatMap((problem) => {
    const param = paramAt(value, problem.path);
    const wantsString = /expected string/.test(problem.message);
    const text = param !== undefined ? sets[param] : undefined;
    return wantsString && param !== undefined && text !== undefined && params[param] !== text ? [param] : [];
  });
  if (!keys.length) return undefined;
  return { ...params, ...Object.fromEntries(keys.map((key) => [key, sets[key]])) };
}

/** Like {@link checkDefinitionFile}, but a definition with problems is a {@link DefinitionProblemsError}. */
export async function requireValidDefinition(
  path: string,
  params: Record<string, unknown>,
  sets: Record<string, string> = {}
): Promise<CheckedDefinition & { definition: ProcessDefinition; params: Record<string, unknown> }> {
  const checked = await checkDefinitionFile(path, params, sets);
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
