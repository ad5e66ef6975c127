#!/usr/bin/env node
/**
 * The `jipper` command line: run the embedded server and a worker, validate and start processes (now, later, or on a
 * schedule), follow them, read their reports, list, cancel, decide, pause and revise them, see who holds resource
 * tokens, export and replay histories, and draw a process. `jipper <command> --help` documents each command.
 *
 * Exit codes: 0 success; 1 the process ended not succeeded, or the command failed; 2 usage or bad input (a missing
 * file, bad YAML, an invalid definition, an unknown id or step). Every error is one line on stderr, `jipper: ...`
 * (with its stack trace too when JIPPER_DEBUG=1).
 *
 * Configuration: global options (--address, --namespace, --task-queue, --libraries, TLS, API key...), then Temporal's
 * standard environment and Jipper's (JIPPER_TASK_QUEUE, JIPPER_LIBRARIES...), then the project's jipper.config.ts or
 * .json, then a Temporal profile; `jipper config` prints the result. With no address configured, the embedded dev
 * server on 127.0.0.1:7233.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerCallbacks } from './commands/callbacks';
import { registerCheck } from './commands/check';
import { registerCodec } from './commands/codec';
import { registerCompletion } from './commands/completion';
import { registerConfig } from './commands/config';
import { registerControl } from './commands/control';
import { registerPlan } from './commands/plan';
import { registerRevise } from './commands/revise';
import { EXIT_OK, EXIT_USAGE, reportError } from './errors';
import type { CliIo } from './io';
import { io, setIo } from './io';
import { addGlobalOptions } from './context';
import { HELP_CONFIGURATION, helpWidth } from './help';
import { registerGraph } from './commands/graph';
import { registerHistory } from './commands/history';
import { registerInit } from './commands/init';
import { registerList } from './commands/list';
import { registerSchedule } from './commands/schedule';
import { registerServers } from './commands/servers';
import { registerStart } from './commands/start';
import { registerStatus } from './commands/status';
import { registerTokens } from './commands/tokens';
import { registerValidate } from './commands/validate';
import { registerWaits } from './commands/waits';
import { silenceIpServerNameWarning } from '../config/tls';

/** The version in package.json (two levels up from both src/cli and dist/cli). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

const HELP_CODES = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

export function buildProgram(): Command {
  const program = new Command('jipper')
    .description('Jipper: run processes of jobs on Temporal; a failed process is unwound, newest job first.')
    .version(packageVersion())
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureHelp(HELP_CONFIGURATION)
    .configureOutput({
      writeOut: (text) => void io().stdout.write(text),
      writeErr: (text) => void io().stderr.write(text),
      getOutHelpWidth: () => helpWidth(io().stdout),
      getErrHelpWidth: () => helpWidth(io().stderr),
      outputError: (message, write) =>
        write(
          `jipper: ${message
            .replace(/^error: /, '')
            .replace(/\s*\n\s*/g, ' ')
            .trim()}\n`
        ),
    });
  addGlobalOptions(program);
  registerInit(program);
  registerConfig(program);
  registerServers(program);
  registerValidate(program);
  registerCheck(program);
  registerStart(program);
  registerStatus(program);
  registerList(program);
  registerControl(program);
  registerWaits(program);
  registerRevise(program);
  registerTokens(program);
  registerSchedule(program);
  registerHistory(program);
  registerGraph(program);
  registerPlan(program);
  registerCompletion(program);
  registerCodec(program);
  registerCallbacks(program);
  return program;
}

/**
 * Runs the command line `argv` (as `process.argv`: node, script, then the arguments) and returns its exit code,
 * writing to `streams` (default: the process's). Never throws: every error is one line on stderr.
 */
export async function runCli(argv: string[], streams?: CliIo): Promise<number> {
  const previous = streams ? setIo(streams) : undefined;
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message (or the help) already.
      return HELP_CODES.has(err.code) && err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    return reportError(err);
  } finally {
    process.exitCode = exitCode;
    if (previous) setIo(previous);
  }
}

if (require.main === module) {
  silenceIpServerNameWarning();
  runCli(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportError(err);
    }
  );
}
