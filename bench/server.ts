/**
 * The benchmark's Temporal server: `temporal server start-dev`, in memory, headless, on a free loopback port, killed
 * when the benchmark ends.
 *
 * It is started here rather than through `startDevServer` because the benchmark passes dynamic config. The dev server
 * has one history shard, and its transfer-queue reader polls for new tasks at most 20 times a second
 * (`history.transferProcessorMaxPollRPS`). Under steady traffic every workflow task then waits for the next 50 ms tick
 * and end-to-end latency locks to 50 ms per workflow task on both sides, which measures the dev server's tick rather
 * than the orchestration. The benchmark raises that limit (`--stock-server` keeps the default); both sides share the
 * same server either way.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { findOrInstallTemporalCli } from '../src/dev/temporal-cli';
import { probeTemporal, connectChecked } from '../src/config/connect';
import { ensureSearchAttributes } from '../src/config/search-attributes';
import { freePort } from '../src/dev/ports';

/** Dynamic config the benchmark sets on the dev server (see the module comment). */
export const BENCH_DYNAMIC_CONFIG: Readonly<Record<string, number>> = {
  'history.transferProcessorMaxPollRPS': 1_000,
};

export interface BenchServer {
  address: string;
  cliVersion: string;
  /** The dynamic config values passed to the server. */
  dynamicConfig: Record<string, number>;
  /** CPU time the server process has used so far (user + system), in ms; undefined where /proc is not available. */
  cpuMs(): number | undefined;
  /** The server process's pid (its memory, for bench/waits.ts). */
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function startBenchServer(options: {
  projectRoot: string;
  stock: boolean;
  log: (line: string) => void;
  /** More dynamic config (`npm run bench -- --local` allows eager starts and eager activity dispatch). */
  extra?: Record<string, number | boolean>;
}): Promise<BenchServer> {
  const cli = await findOrInstallTemporalCli({ projectRoot: options.projectRoot, log: options.log });
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const dynamicConfig = options.stock ? {} : { ...BENCH_DYNAMIC_CONFIG };
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless'];
  args.push('--log-level', 'warn', '--disable-config-file');
  for (const [key, value] of Object.entries({ ...dynamicConfig, ...options.extra })) {
    args.push('--dynamic-config-value', `${key}=${value}`);
  }

  const logFile = join(options.projectRoot, '.jipper', 'bench-dev-server.log');
  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'w');
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
  const child = spawn(cli.path, args, { stdio: ['ignore', out, out], env });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    await terminate(child, exited);
  };

  try {
    const deadline = Date.now() + 60_000;
    while ((await probeTemporal({ address }, 1_000)).kind !== 'temporal') {
      if (child.exitCode !== null)
        throw new Error(`temporal server start-dev exited with ${child.exitCode}; see ${logFile}`);
      if (Date.now() > deadline) throw new Error(`temporal server start-dev did not answer in 60 s; see ${logFile}`);
      await delay(200);
    }
    const connection = await connectChecked({ address }, 10_000);
    try {
      await ensureSearchAttributes(connection, 'default', options.log);
    } finally {
      await connection.close();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  options.log(`dev server ${address} (CLI ${cli.version}), dynamic config ${JSON.stringify(dynamicConfig)}`);
  return {
    address,
    cliVersion: cli.version,
    dynamicConfig,
    cpuMs: () => processCpuMs(child.pid),
    pid: child.pid,
    stop,
  };
}

/** Linux: user + system CPU time of a process, from /proc/<pid>/stat (in clock ticks of 10 ms). */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = delay(5_000, 'timeout' as const, { ref: false });
  if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}
