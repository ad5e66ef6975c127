/**
 * The sandbox's records on disk: JSON read and written atomically, files created whole or not at all, and a
 * cross-process lock that survives a holder's death.
 */
import { link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a record atomically (see {@link writeAtomically}). */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeAtomically(path, JSON.stringify(value, null, 2));
}

const tmpName = (path: string) => `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;

/** Writes a file atomically (write to a temporary name, then rename), so a crash never leaves half of it. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = tmpName(path);
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/**
 * Creates a file with its whole content, unless it exists (then returns false). Written under a temporary name and
 * linked into place — a link never replaces a file — so nobody, a retry after a crash included, finds it half written.
 */
export async function createAtomically(path: string, text: string): Promise<boolean> {
  const tmp = tmpName(path);
  await writeFile(tmp, text);
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Whether a process with this pid runs on this host. */
function isAlive(pid: number): boolean {
  // 0 and negative numbers name process groups, and kill(0, 0) always succeeds: not a holder's pid.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the lock at `dir` was left by a holder that is gone: its owner file names a process that no longer runs
 * (a worker killed while holding it), or it has had no owner (no file, or not a pid) for `orphanMs` (killed between
 * taking the lock and writing its name).
 */
async function isStale(dir: string, orphanMs: number): Promise<boolean> {
  const owner = await readFile(join(dir, 'owner'), 'utf8').catch(() => undefined);
  if (owner !== undefined && /^\d+$/.test(owner)) return !isAlive(Number(owner));
  const info = await stat(dir).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > orphanMs;
}

/**
 * A cross-process lock on the sandbox (mkdir is atomic), held while reading and writing shared records: the pool's
 * allocations and the catalog. The holder writes its pid in the lock. A lock whose holder died is taken over — by one
 * waiter at a time, under a second lock, after checking again that it is still the dead holder's — so two processes
 * never hold it together. Waiting stops when `signal` aborts (the attempt was cancelled or timed out): an attempt
 * Temporal has given up on must not go on to write, since its retry (or the process's revert) may already have run.
 */
export async function withLock<T>(
  root: string,
  name: string,
  fn: () => Promise<T>,
  signal?: AbortSignal,
  orphanMs = 5_000
): Promise<T> {
  const dir = join(root, `.${name}.lock`);
  const takeover = `${dir}.takeover`;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    signal?.throwIfAborted();
    try {
      await mkdir(dir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(dir, orphanMs)) {
      const taking = await mkdir(takeover).then(
        () => true,
        () => false
      );
      if (taking) {
        try {
          if (await isStale(dir, orphanMs)) await rm(dir, { recursive: true, force: true });
        } finally {
          await rm(takeover, { recursive: true, force: true });
        }
        continue;
      }
      // Someone is taking it over; a taker that died mid-takeover leaves this, removed once clearly abandoned.
      const info = await stat(takeover).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > 60_000) await rm(takeover, { recursive: true, force: true });
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  try {
    // Written whole or not at all (a holder killed mid-write used to leave an empty name: a lock nobody took over).
    await writeAtomically(join(dir, 'owner'), String(process.pid));
    signal?.throwIfAborted();
    return await fn();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
