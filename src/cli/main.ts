#!/usr/bin/env node
/**
 * The `jipper` command line: run the embedded server and a worker, validate and start processes, follow them, read
 * their reports, list, cancel and decide, export and replay histories, and draw a process. `jipper <command> --help`
 * documents each command.
 *
 * Exit codes: 0 success; 1 the process ended not succeeded, or the command failed; 2 usage or bad input (a missing
 * file, bad YAML, an invalid definition, an unknown id or step). Every error is one line on stderr, `jipper: ...`
 * (with its stack trace too when JIPPER_DEBUG=1).
 *
 * Configuration: Temporal's standard environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key, profile) and
 * JIPPER_TASK_QUEUE; with no address configured, the embedded dev server on 127.0.0.1:7233.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerCodec } from './commands/codec';
import { registerControl } from './commands/control';
import { EXIT_OK, EXIT_USAGE, reportError } from './errors';
import { registerGraph } from './commands/graph';
import { registerHistory } from './commands/history';
import { registerList } from './commands/list';
import { registerServers } from './commands/servers';
import { registerStart } from './commands/start';
import { registerStatus } from './commands/status';
import { registerValidate } from './commands/validate';
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
    .configureOutput({
      outputError: (message, write) =>
        write(
          `jipper: ${message
            .replace(/^error: /, '')
            .replace(/\s*\n\s*/g, ' ')
            .trim()}\n`
        ),
    });
  registerServers(program);
  registerValidate(program);
  registerStart(program);
  registerStatus(program);
  registerList(program);
  registerControl(program);
  registerHistory(program);
  registerGraph(program);
  registerCodec(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message (or the help) already.
      return HELP_CODES.has(err.code) && err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    return reportError(err);
  }
}

if (require.main === module) {
  silenceIpServerNameWarning();
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportError(err);
    }
  );
}
