/**
 * Jobs completed from outside: `jipper complete <token> --result JSON | --fail MESSAGE` settles the job that handed
 * out the token (`ctx.completeLater`); `jipper callback-server` serves the same over HTTP for systems without a
 * Temporal client (`src/client/callback-server.ts`).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import type { SettledJob } from '../../client/callbacks';
import { completeJob, decodeCompletionToken, failJob, heartbeatJob, reportJobCancelled } from '../../client/callbacks';
import { DEFAULT_CALLBACK_PORT, MIN_CALLBACK_TOKEN_CHARS, startCallbackServer } from '../../client/callback-server';
import { ConfigError } from '../../config/errors';
import { oneLine } from '../../shared/text';
import { parseWith } from '../args';
import { UsageError } from '../errors';
import { action, withClient } from '../context';
import { err, out, printJson, printJsonLine } from '../io';
import { untilSignal } from './servers';

const port = parseWith(z.coerce.number({ error: 'expected a port number (0-65535)' }).int().min(0).max(65535));

function json(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    throw new InvalidArgumentError(`not JSON: ${oneLine(error)}`);
  }
}

/** The result given: --result, or the JSON in --result-file (a file that cannot be read or is not JSON: a UsageError). */
async function resultOf(options: CompleteOptions): Promise<unknown> {
  if (options.resultFile === undefined) return options.result;
  let text: string;
  try {
    text = await readFile(options.resultFile, 'utf8');
  } catch (error) {
    throw new UsageError(`--result-file ${options.resultFile}: ${oneLine(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`--result-file ${options.resultFile}: not JSON: ${oneLine(error)}`);
  }
}

interface CompleteOptions {
  result?: unknown;
  resultFile?: string;
  fail?: string;
  heartbeat?: boolean;
  cancelled?: boolean;
  detail?: string;
  retry?: boolean;
  json?: boolean;
}

type Settlement = 'complete' | 'fail' | 'heartbeat' | 'cancelled';

/** Which of --result, --fail, --heartbeat and --cancelled was given: exactly one, else a UsageError. */
function settlement(options: CompleteOptions): Settlement {
  const given = (
    [
      [options.result !== undefined || options.resultFile !== undefined, 'complete'],
      [options.fail !== undefined, 'fail'],
      [options.heartbeat === true, 'heartbeat'],
      [options.cancelled === true, 'cancelled'],
    ] as const
  ).flatMap(([set, kind]) => (set ? [kind] : []));
  if (given.length !== 1 || given[0] === undefined) {
    throw new UsageError(
      'give exactly one of --result JSON (or --result-file), --fail MESSAGE, --heartbeat and --cancelled'
    );
  }
  if (options.result !== undefined && options.resultFile !== undefined) {
    throw new UsageError('give --result or --result-file, not both');
  }
  if (options.retry && given[0] !== 'fail') throw new UsageError('--retry goes with --fail');
  if (options.detail !== undefined && given[0] !== 'complete') throw new UsageError('--detail goes with --result');
  return given[0];
}

function registerComplete(program: Command): void {
  program
    .command('complete')
    .description(
      'Complete or fail a job that awaits completion from outside (its run called ctx.completeLater and handed out the token). --result: the job succeeds with this JSON result (later steps read it with $from). --fail: the job fails and its process unwinds. A token that is malformed, unknown or used already is refused in one line, and nothing changes.'
    )
    .argument('<token>', 'the completion token (jc1.…)')
    .option('--result <json>', "the job's result, JSON", json)
    .option(
      '--result-file <file>',
      "read the job's result (JSON) from this file (a result too long for a command line)"
    )
    .option('--fail <message>', 'fail the job with this message')
    .option(
      '--heartbeat',
      'only heartbeat the job (a job with a heartbeat timeout); says when its process asks to cancel it'
    )
    .option('--cancelled', 'the job stopped because its process asked to cancel it (see --heartbeat)')
    .option('--detail <text>', "with --result: the job's detail in the report")
    .option('--retry', "with --fail: let the job's retry policy run it again (default: the failure is final)")
    .option(
      '--json',
      'print { completed | failed | heartbeated | cancelled: true, processId, stepId, job, attempt, cancelRequested? } as JSON'
    )
    .action(
      action(async (token: string, options: CompleteOptions) => {
        const kind = settlement(options);
        decodeCompletionToken(token);
        const result = kind === 'complete' ? await resultOf(options) : undefined;
        const detail = options.detail !== undefined ? { detail: options.detail } : {};
        return withClient(async (client) => {
          const settle: Record<Settlement, () => Promise<SettledJob & { cancelRequested?: boolean }>> = {
            complete: () => completeJob(client, token, result, detail),
            fail: () => failJob(client, token, options.fail ?? '', { retry: options.retry ?? false }),
            heartbeat: () => heartbeatJob(client, token),
            cancelled: () => reportJobCancelled(client, token),
          };
          const job = await settle[kind]();
          const done = { complete: 'completed', fail: 'failed', heartbeat: 'heartbeated', cancelled: 'cancelled' }[
            kind
          ];
          if (options.json) return printJson({ [done]: true, ...job });
          out(`${done} step ${job.stepId} of process ${job.processId} (job ${job.job}, attempt ${job.attempt})`);
          if (job.cancelRequested) out('its process asks to cancel it: stop, then say so (--cancelled)');
        });
      })
    );
}

const envToken = z.object({
  JIPPER_CALLBACK_TOKEN: z
    .string()
    .min(MIN_CALLBACK_TOKEN_CHARS, `must be at least ${MIN_CALLBACK_TOKEN_CHARS} characters`)
    .optional(),
});

/** The bearer token: from --token-file (its first line), else JIPPER_CALLBACK_TOKEN, else none. */
async function bearerToken(file: string | undefined): Promise<{ token?: string; source: string }> {
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`--token-file ${file}: ${oneLine(error)}`);
    }
    const token = text.split(/\r?\n/)[0]?.trim() ?? '';
    if (token.length < MIN_CALLBACK_TOKEN_CHARS) {
      throw new ConfigError(`--token-file ${file}: the token must be at least ${MIN_CALLBACK_TOKEN_CHARS} characters`);
    }
    return { token, source: file };
  }
  const parsed = envToken.safeParse(process.env);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration: JIPPER_CALLBACK_TOKEN: ${parsed.error.issues[0]?.message}`);
  }
  const token = parsed.data.JIPPER_CALLBACK_TOKEN;
  return token === undefined ? { source: 'none' } : { token, source: 'JIPPER_CALLBACK_TOKEN' };
}

interface ServerOptions {
  port: number;
  host: string;
  tokenFile?: string;
  json?: boolean;
}

function registerCallbackServer(program: Command): void {
  program
    .command('callback-server')
    .description(
      'Serve POST /complete {token, result}, /fail {token, message} and /heartbeat {token}, so systems without a Temporal client complete jobs that await completion; until Ctrl-C. Requests need `Authorization: Bearer <token>` when JIPPER_CALLBACK_TOKEN or --token-file sets one, which listening beyond loopback requires.'
    )
    .option('--port <port>', 'port (0: a free one)', port, DEFAULT_CALLBACK_PORT)
    .option('--host <address>', 'address to listen on (beyond loopback only with a bearer token)', '127.0.0.1')
    .option(
      '--token-file <file>',
      'read the bearer token from this file (its first line) instead of JIPPER_CALLBACK_TOKEN'
    )
    .option('--json', 'print { url, tokenRequired } as one JSON line once it serves')
    .action(
      action(async (options: ServerOptions) => {
        const { token, source } = await bearerToken(options.tokenFile);
        return withClient(async (client, config) => {
          const server = await startCallbackServer({
            client,
            port: options.port,
            host: options.host,
            ...(token !== undefined ? { token } : {}),
            log: (line) => err(line),
          });
          if (options.json) printJsonLine({ url: server.url, tokenRequired: token !== undefined });
          else {
            out(
              `callback server: ${server.url} (namespace ${config.namespace})`,
              `  bearer token: ${token !== undefined ? `required (${source})` : 'not required (loopback only)'}`,
              'Press Ctrl-C to stop.'
            );
          }
          await untilSignal();
          await server.close();
        });
      })
    );
}

export function registerCallbacks(program: Command): void {
  registerComplete(program);
  registerCallbackServer(program);
}
