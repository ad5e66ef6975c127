/**
 * Runs the real worker entrypoint (`node dist/worker/main.js`) as a child process, so a test can SIGKILL it like a
 * crashed machine: no graceful shutdown, no activity completion, nothing flushed. It registers the example volume
 * library with its sandbox in `sandbox`, on its own task queue, against `address` (default: the run's dev server).
 *
 * ```ts
 * const worker = await spawnWorker({ taskQueue, sandbox });
 * await worker.kill(); // SIGKILL, resolves once the process is gone
 * ```
 *
 * Needs `npm run build` (dist/worker/main.js and dist/workflow-bundle.js); `npm test` builds first.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serverAddress } from './worker';

export const WORKER_ENTRYPOINT = resolve(__dirname, '..', '..', 'dist', 'worker', 'main.js');

export interface WorkerProcessOptions {
  taskQueue: string;
  /** The volume library's sandbox directory. */
  sandbox: string;
  /** Temporal frontend; default the run's dev server (`TEMPORAL_ADDRESS`). */
  address?: string;
  /** Where the worker's output goes; default `<sandbox>/../worker-<n>.log`. */
  logFile?: string;
  /** How long to wait for the worker to say it is polling. Default 60 s. */
  readyTimeoutMs?: number;
  /** More environment for the worker (JIPPER_LIBRARIES, JIPPER_DEPLOYMENT_NAME, JIPPER_BUILD_ID...). */
  env?: Record<string, string>;
}

export interface WorkerProcess {
  pid: number;
  logFile: string;
  /** Resolves when the process has exited (for any reason). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal (default SIGKILL) and waits for the process to be gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** True while the process runs. */
  alive(): boolean;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

let spawned = 0;

/** Starts a worker process and resolves once it polls its task queue. */
export async function spawnWorker(options: WorkerProcessOptions): Promise<WorkerProcess> {
  if (!existsSync(WORKER_ENTRYPOINT)) throw new Error(`${WORKER_ENTRYPOINT} is missing: run \`npm run build\` first`);
  spawned += 1;
  const logFile = options.logFile ?? join(options.sandbox, '..', `worker-${process.pid}-${spawned}.log`);
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_') && !name.startsWith('JIPPER_'))
  );
  Object.assign(env, {
    TEMPORAL_ADDRESS: options.address ?? serverAddress(),
    JIPPER_TASK_QUEUE: options.taskQueue,
    JIPPER_SANDBOX: options.sandbox,
    ...options.env,
  });
  const out = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [WORKER_ENTRYPOINT], { env, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolveExit({ code, signal });
    })
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  const handle: WorkerProcess = {
    pid: child.pid as number,
    logFile,
    exited,
    alive,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (alive()) child.kill(signal);
      await exited;
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    const log = readFileSync(logFile, 'utf8');
    if (log.includes(`worker on task queue "${options.taskQueue}"`)) return handle;
    if (!alive()) throw new Error(`the worker process exited before it was ready:\n${log}`);
    if (Date.now() > deadline) {
      await handle.kill();
      throw new Error(`the worker process was not ready in time:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
