/**
 * Long-running processes the cluster tooling starts: detached (they outlive `cluster up`), output to a log file, and
 * a pid file naming the binary, so `down` and the fault tests signal exactly the process that was started — never a
 * recycled pid, never by name.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';

export interface ManagedProcess {
  name: string;
  pid: number;
  binary: string;
  logFile: string;
}

const pidFileSchema = z.object({
  name: z.string(),
  pid: z.number().int().positive(),
  binary: z.string(),
  logFile: z.string(),
});

export function pidFilePath(runDir: string, name: string): string {
  return join(runDir, `${name}.json`);
}

/** The process a pid file names, if the file exists and is well-formed (whether or not it still runs). */
export function readPidFile(runDir: string, name: string): ManagedProcess | undefined {
  const path = pidFilePath(runDir, name);
  if (!existsSync(path)) return undefined;
  const parsed = pidFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

/** True while `pid` runs `binary` (its /proc cmdline starts with it): a pid reused by another program is not ours. */
export function isRunning(p: Pick<ManagedProcess, 'pid' | 'binary'>): boolean {
  try {
    const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return cmdline[0] === p.binary && state !== 'Z';
  } catch {
    return false;
  }
}

export interface StartOptions {
  runDir: string;
  logDir: string;
  name: string;
  binary: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/** Starts a detached process (its own process group), appending its output to `<logDir>/<name>.log`. */
export function startProcess(o: StartOptions): ManagedProcess {
  mkdirSync(o.runDir, { recursive: true });
  mkdirSync(o.logDir, { recursive: true });
  const logFile = join(o.logDir, `${o.name}.log`);
  const out = openSync(logFile, 'a');
  let pid: number | undefined;
  try {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...o.env };
    const child = spawn(o.binary, o.args, { cwd: o.cwd, env, stdio: ['ignore', out, out], detached: true });
    pid = child.pid;
    child.unref();
  } finally {
    closeSync(out);
  }
  if (pid === undefined) throw new Error(`${o.name}: ${o.binary} did not start`);
  const managed: ManagedProcess = { name: o.name, pid, binary: o.binary, logFile };
  writeFileSync(pidFilePath(o.runDir, o.name), JSON.stringify(managed) + '\n');
  return managed;
}

/** Sends `signal`, waits up to `graceMs` for the process to go, then SIGKILLs it. Removes the pid file. */
export async function stopProcess(
  runDir: string,
  p: ManagedProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 15_000
): Promise<void> {
  if (isRunning(p)) {
    process.kill(p.pid, signal);
    const deadline = Date.now() + graceMs;
    while (isRunning(p) && Date.now() < deadline) await delay(50);
    if (isRunning(p)) {
      process.kill(p.pid, 'SIGKILL');
      while (isRunning(p)) await delay(50);
    }
  }
  rmSync(pidFilePath(runDir, p.name), { force: true });
}

/** Resolves true once something accepts TCP connections at 127.0.0.1:port. */
export function tcpOpen(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolveOpen(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(path: string, lines = 5): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits until the port opens; fails early if the process has exited. */
export async function waitForPort(p: ManagedProcess, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await tcpOpen(port)) return;
    if (!isRunning(p)) throw new Error(`${p.name} exited before listening on ${port}:\n${logTail(p.logFile)}`);
    if (Date.now() > deadline)
      throw new Error(`${p.name} did not listen on ${port} in ${timeoutMs} ms:\n${logTail(p.logFile)}`);
    await delay(200);
  }
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; with `reapedChildren`, plus what its
 * children that have exited and been waited for used (how a postmaster accounts for its finished backends). Undefined
 * once the process is gone.
 */
export function cpuSeconds(pid: number, reapedChildren = false): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14–17 of stat(5) (utime, stime, cutime, cstime), counted here from the state field (3).
    const own = Number(fields[11]) + Number(fields[12]);
    const children = reapedChildren ? Number(fields[13]) + Number(fields[14]) : 0;
    return (own + children) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** sysconf(_SC_CLK_TCK): 100 on Linux on every architecture Node runs on. */
const CLOCK_TICKS = 100;

/** The pids of a process's direct children (PostgreSQL's backends are children of the postmaster). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
