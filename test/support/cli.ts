/**
 * Runs the built `jipper` command (`node dist/cli/main.js`) as a child process, the way an operator runs it, and
 * collects its exit code and output. Needs `npm run build`; `npm test` builds first.
 *
 * ```ts
 * const { code, stdout, stderr } = await jipper(['status', id], env);
 * ```
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findProjectRoot } from '../../src/config/project';
import { serverAddress } from './worker';

/** The built command (found from the project root, so this also works when compiled elsewhere, as scripts are). */
export const CLI_PATH = join(findProjectRoot(__dirname), 'dist', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Throws (the test fails) when the CLI has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`);
}

/** Runs `jipper <args>` with the environment `env` (nothing inherited beyond it); never rejects on a non-zero exit. */
export function jipper(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`jipper ${args.join(' ')}: ${error.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
          return;
        }
        resolvePromise({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      }
    );
  });
}

/** Runs `jipper <args>` and fails with its output unless it exits with `expected`. */
export async function jipperExpect(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  expected: number,
  timeoutMs?: number
): Promise<CliResult> {
  const result = await jipper(args, env, timeoutMs);
  if (result.code !== expected) {
    throw new Error(
      `jipper ${args.join(' ')} exited ${result.code}, expected ${expected}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`
    );
  }
  return result;
}

/**
 * The environment a test runs the command in: only PATH and HOME from the test's own, the test server, the test
 * worker's task queue, the example library's sandbox, no colour; `extra` on top.
 */
export function cliEnv(taskQueue: string, sandbox: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: serverAddress(),
    JIPPER_TASK_QUEUE: taskQueue,
    JIPPER_SANDBOX: sandbox,
    NO_COLOR: '1',
    ...extra,
  };
}
