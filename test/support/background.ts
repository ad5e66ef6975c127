/** `jipper <args>` (the built command) running in the background, for commands that serve until Ctrl-C. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { CLI_PATH } from './cli';

export interface Background {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `jipper <args>` and resolves once its output matches `ready`. */
export function jipperInBackground(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Background> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolveStart({ child, output: () => output, stop });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`jipper ${args.join(' ')} exited with ${code}:\n${output}`)));
  });
}
