/**
 * Example job library: provisioning a storage volume inside a sandbox directory, with real effects on disk.
 *
 * Layout under `root`: `pool.json` (capacity), `volumes/<volume>.img` (a sparse volume file) with its
 * `<volume>.alloc.json` record, `mnt/<volume>/` (the filesystem tree), `quotas/<volume>.json`,
 * `exports/<exportName>.conf`, `catalog.json` (registered volumes) and `audit.log` (append-only; no revert), and
 * `fences/` (one small file per reverted step, see below).
 *
 * Every effect is keyed by the job's idempotency key, so a retried attempt (after a worker crash, say) finds its own
 * earlier effect and does not apply it twice. Every effect a revert undoes is also fenced: a revert first records, under
 * the step's own lock, when it was scheduled; a run writes its effect under that lock, and refuses
 * ({@link SupersededAttemptError}) when the step has been reverted since the attempt was scheduled. An attempt
 * Temporal gave up on can still be running — a worker that stalled, a wait that ended late — after its retry succeeded
 * and the process unwound; without the fence it would apply its effect again, with nothing left to revert it. Failures
 * are domain errors chosen by the process args: asking for more than the pool holds, a quota above the volume's size,
 * an export name another volume already uses.
 */
import { createHash } from 'node:crypto';
import { link, mkdir, open, readFile, readdir, rename, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineJob } from '../job';
import type { JobContext, RevertContext } from '../job';
import type { JobLibrary } from '../..';
import { defineLibrary } from '../..';

/** The pool cannot hold the requested volume. */
export class CapacityExceededError extends Error {
  override readonly name = 'CapacityExceededError';
}
/** Another process already owns a volume of that name. */
export class VolumeExistsError extends Error {
  override readonly name = 'VolumeExistsError';
}
/** The volume is not allocated. */
export class VolumeNotFoundError extends Error {
  override readonly name = 'VolumeNotFoundError';
}
/** A quota larger than the volume itself. */
export class QuotaAboveLimitError extends Error {
  override readonly name = 'QuotaAboveLimitError';
}
/** Another volume is already exported under that name. */
export class NameAlreadyExportedError extends Error {
  override readonly name = 'NameAlreadyExportedError';
}
/**
 * A late attempt: the step was reverted after this attempt was scheduled (Temporal had given up on it, its retry ran,
 * and the process unwound), so it applies nothing. Only an attempt nobody waits for any more meets this.
 */
export class SupersededAttemptError extends Error {
  override readonly name = 'SupersededAttemptError';
}

const DOMAIN_ERRORS = [
  'CapacityExceededError',
  'VolumeExistsError',
  'VolumeNotFoundError',
  'QuotaAboveLimitError',
  'NameAlreadyExportedError',
  'SupersededAttemptError',
];

/** Default pool capacity when the sandbox has no `pool.json`. */
export const DEFAULT_CAPACITY_MB = 1024;

const volumeName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a volume name is lower-case letters, digits and "-"');

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a record atomically (see {@link writeAtomically}). */
async function writeJson(path: string, value: unknown): Promise<void> {
  await writeAtomically(path, JSON.stringify(value, null, 2));
}

const tmpName = (path: string) => `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;

/** Writes a file atomically (write to a temporary name, then rename), so a crash never leaves half of it. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = tmpName(path);
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/**
 * Creates a file with its whole content, unless it exists (then returns false). Written under a temporary name and
 * linked into place — a link never replaces a file — so nobody, a retry after a crash included, finds it half written.
 */
async function createAtomically(path: string, text: string): Promise<boolean> {
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
async function withLock<T>(
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

/** What a revert leaves for its step: when the latest revert of the step was scheduled (server clock, ms). */
interface Fence {
  key: string;
  revertScheduledAt: number;
}

const fenceLock = (runKey: string) => `fence-${createHash('sha256').update(runKey).digest('hex').slice(0, 16)}`;
const fencePath = (root: string, runKey: string) => join(root, 'fences', `${encodeURIComponent(runKey)}.json`);

/**
 * Applies a run's effect under its step's fence: refuses, with {@link SupersededAttemptError}, when the step was
 * reverted after this attempt was scheduled. Waiting for the fence stops when the attempt's signal aborts.
 */
async function applyFenced<T>(root: string, ctx: JobContext, apply: () => Promise<T>): Promise<T> {
  return withLock(
    root,
    fenceLock(ctx.idempotencyKey),
    async () => {
      const fence = await readJson<Fence>(fencePath(root, ctx.idempotencyKey));
      if (fence && fence.revertScheduledAt > ctx.scheduledAt) {
        const at = (ms: number) => new Date(ms).toISOString();
        const message = `attempt ${ctx.attempt} of ${ctx.idempotencyKey} (scheduled ${at(ctx.scheduledAt)}) applies nothing: the step was reverted by an attempt scheduled ${at(fence.revertScheduledAt)}`;
        ctx.log.warn(`late attempt refused: ${message}`);
        throw new SupersededAttemptError(message);
      }
      return apply();
    },
    ctx.signal
  );
}

/**
 * Fences a step off before its revert undoes it: from now on no attempt of its run scheduled before this revert
 * applies its effect (one that is applying it right now finishes first, and the revert then undoes it too).
 */
async function fenceOff(root: string, ctx: RevertContext): Promise<void> {
  const runKey = `${ctx.processId}/${ctx.stepId}`;
  await mkdir(join(root, 'fences'), { recursive: true });
  await withLock(
    root,
    fenceLock(runKey),
    async () => {
      const fence = await readJson<Fence>(fencePath(root, runKey));
      if (fence && fence.revertScheduledAt >= ctx.scheduledAt) return;
      await writeJson(fencePath(root, runKey), { key: runKey, revertScheduledAt: ctx.scheduledAt } satisfies Fence);
    },
    ctx.signal
  );
}

interface AllocationRecord {
  volume: string;
  sizeMb: number;
  key: string;
  filledMb?: number;
}

export interface CatalogEntry {
  volume: string;
  exportName?: string;
  path: string;
  key: string;
}

export interface VolumeLibraryOptions {
  /** The sandbox directory all effects live in; created when missing. */
  root: string;
}

/** The example library, with its effects under `options.root`. */
export function volumeJobs(options: VolumeLibraryOptions) {
  const { root } = options;
  const paths = {
    pool: join(root, 'pool.json'),
    volumes: join(root, 'volumes'),
    image: (v: string) => join(root, 'volumes', `${v}.img`),
    allocation: (v: string) => join(root, 'volumes', `${v}.alloc.json`),
    mount: (v: string) => join(root, 'mnt', v),
    quota: (v: string) => join(root, 'quotas', `${v}.json`),
    exports: join(root, 'exports'),
    exportConf: (name: string) => join(root, 'exports', `${name}.conf`),
    catalog: join(root, 'catalog.json'),
    audit: join(root, 'audit.log'),
  };
  const ensureDirs = async () => {
    for (const dir of [paths.volumes, join(root, 'mnt'), join(root, 'quotas'), paths.exports]) {
      await mkdir(dir, { recursive: true });
    }
  };
  const allocationOf = async (volume: string) => {
    const record = await readJson<AllocationRecord>(paths.allocation(volume));
    if (!record) throw new VolumeNotFoundError(`volume "${volume}" is not allocated`);
    return record;
  };

  /** Zero-fills the volume file 1 MB at a time, heartbeating its progress; a retry resumes where the last one stopped. */
  const zeroFill = async (volume: string, sizeMb: number, mbPerSecond: number | undefined, ctx: JobContext) => {
    const resumeAt = typeof ctx.lastHeartbeat === 'number' ? ctx.lastHeartbeat : 0;
    const handle = await open(paths.image(volume), 'r+');
    try {
      const chunk = Buffer.alloc(1024 * 1024);
      for (let mb = resumeAt; mb < sizeMb; mb++) {
        await handle.write(chunk, 0, chunk.length, mb * chunk.length);
        ctx.heartbeat(mb + 1);
        if (mbPerSecond) await ctx.sleep(1000 / mbPerSecond);
      }
    } finally {
      await handle.close();
    }
    return resumeAt;
  };

  const allocateVolume = defineJob({
    name: 'allocate-volume',
    description:
      'Allocates a volume file of sizeMb in the pool, optionally zero-filling it (rate-limited); its revert can wipe the volume before releasing it.',
    input: z.object({
      volume: volumeName,
      sizeMb: z.number().int().positive().max(1_048_576),
      zeroFill: z.boolean().default(false),
      /** Rate limit for zero-filling and wiping, in MB per second (unlimited when unset). */
      ioLimitMbPerSec: z.number().positive().optional(),
      /** Overwrite the volume with zeros before releasing it (the revert heartbeats its progress and resumes). */
      wipeOnRelease: z.boolean().optional(),
    }),
    output: z.object({ volume: z.string(), path: z.string(), sizeMb: z.number() }),
    options: {
      timeout: '10m',
      retry: { maximumAttempts: 5, nonRetryableErrorTypes: DOMAIN_ERRORS },
      revert: { timeout: '1m' },
    },
    async run(input, ctx) {
      await ensureDirs();
      const existing = await readJson<AllocationRecord>(paths.allocation(input.volume));
      if (existing && existing.key !== ctx.idempotencyKey) {
        throw new VolumeExistsError(`volume "${input.volume}" already exists (allocated by ${existing.key})`);
      }
      if (!existing) {
        await applyFenced(root, ctx, () =>
          withLock(
            root,
            'pool',
            async () => {
              const claimed = await readJson<AllocationRecord>(paths.allocation(input.volume));
              if (claimed) {
                if (claimed.key === ctx.idempotencyKey) return;
                throw new VolumeExistsError(`volume "${input.volume}" already exists (allocated by ${claimed.key})`);
              }
              const pool = (await readJson<{ capacityMb: number }>(paths.pool)) ?? { capacityMb: DEFAULT_CAPACITY_MB };
              let usedMb = 0;
              for (const file of await readdir(paths.volumes)) {
                if (!file.endsWith('.alloc.json')) continue;
                usedMb += (await readJson<AllocationRecord>(join(paths.volumes, file)))?.sizeMb ?? 0;
              }
              if (usedMb + input.sizeMb > pool.capacityMb) {
                throw new CapacityExceededError(
                  `the pool has ${pool.capacityMb - usedMb} MB free of ${pool.capacityMb} MB; volume "${input.volume}" needs ${input.sizeMb} MB`
                );
              }
              const handle = await open(paths.image(input.volume), 'w');
              await handle.truncate(input.sizeMb * 1024 * 1024);
              await handle.close();
              await writeJson(paths.allocation(input.volume), {
                volume: input.volume,
                sizeMb: input.sizeMb,
                key: ctx.idempotencyKey,
              } satisfies AllocationRecord);
            },
            ctx.signal
          )
        );
      }
      let note = existing ? ' (found from an earlier attempt)' : '';
      if (input.zeroFill) {
        const resumedAt = await zeroFill(input.volume, input.sizeMb, input.ioLimitMbPerSec, ctx);
        note += resumedAt ? `, zero-fill resumed at ${resumedAt} MB` : ', zero-filled';
      }
      ctx.setDetail(`allocated ${input.sizeMb} MB for ${input.volume}${note}`);
      return { volume: input.volume, path: paths.image(input.volume), sizeMb: input.sizeMb };
    },
    async revert(input, _result, ctx) {
      await fenceOff(root, ctx);
      const record = await readJson<AllocationRecord>(paths.allocation(input.volume));
      if (!record) {
        ctx.setDetail(`volume ${input.volume} was already released`);
        return;
      }
      if (!record.key.startsWith(ctx.processId + '/')) {
        ctx.setDetail(`volume ${input.volume} belongs to ${record.key}; left alone`);
        return;
      }
      let wiped = '';
      if (input.wipeOnRelease) {
        const resumedAt = await zeroFill(input.volume, record.sizeMb, input.ioLimitMbPerSec, ctx).catch(
          (err: unknown) => {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
            return record.sizeMb;
          }
        );
        wiped = resumedAt ? ` (wipe resumed at ${resumedAt} MB)` : ' (wiped)';
      }
      await rm(paths.image(input.volume), { force: true });
      await rm(paths.allocation(input.volume), { force: true });
      ctx.setDetail(`released ${record.sizeMb} MB of ${input.volume}${wiped}`);
    },
  });

  const createFilesystem = defineJob({
    name: 'create-filesystem',
    description: 'Lays out the filesystem tree of an allocated volume (data, logs, snapshots).',
    input: z.object({ volume: volumeName, label: z.string().max(16).optional() }),
    output: z.object({ mountPath: z.string() }),
    options: { timeout: '30s', retry: { nonRetryableErrorTypes: DOMAIN_ERRORS } },
    async run(input, ctx) {
      await allocationOf(input.volume);
      const mount = paths.mount(input.volume);
      await applyFenced(root, ctx, async () => {
        for (const dir of ['data', 'logs', 'snapshots']) await mkdir(join(mount, dir), { recursive: true });
        await writeJson(join(mount, '.filesystem.json'), {
          label: input.label ?? input.volume,
          key: ctx.idempotencyKey,
        });
      });
      ctx.setDetail(`laid out data/, logs/, snapshots/ under ${mount}`);
      return { mountPath: mount };
    },
    async revert(input, _result, ctx) {
      await fenceOff(root, ctx);
      await rm(paths.mount(input.volume), { recursive: true, force: true });
      ctx.setDetail(`removed the filesystem tree of ${input.volume}`);
    },
  });

  const setQuota = defineJob({
    name: 'set-quota',
    description: 'Sets a quota on the volume; it may not exceed the volume size.',
    input: z.object({ volume: volumeName, limitMb: z.number().int().positive() }),
    output: z.object({ limitMb: z.number() }),
    options: { timeout: '30s', retry: { nonRetryableErrorTypes: DOMAIN_ERRORS } },
    async run(input, ctx) {
      const allocation = await allocationOf(input.volume);
      if (input.limitMb > allocation.sizeMb) {
        throw new QuotaAboveLimitError(
          `quota ${input.limitMb} MB is above the size of volume "${input.volume}" (${allocation.sizeMb} MB)`
        );
      }
      await applyFenced(root, ctx, () =>
        writeJson(paths.quota(input.volume), { limitMb: input.limitMb, key: ctx.idempotencyKey })
      );
      ctx.setDetail(`quota ${input.limitMb} MB of ${allocation.sizeMb} MB`);
      return { limitMb: input.limitMb };
    },
    async revert(input, _result, ctx) {
      await fenceOff(root, ctx);
      await rm(paths.quota(input.volume), { force: true });
      ctx.setDetail(`removed the quota on ${input.volume}`);
    },
  });

  const exportVolume = defineJob({
    name: 'export-volume',
    description: 'Writes an export config so clients can mount the volume under exportName.',
    input: z.object({
      volume: volumeName,
      exportName: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'an export name is letters, digits, "-" and "_"'),
      clients: z.array(z.string().min(1)).min(1).default(['127.0.0.1/32']),
    }),
    output: z.object({ exportName: z.string(), configPath: z.string() }),
    options: { timeout: '30s', retry: { nonRetryableErrorTypes: DOMAIN_ERRORS } },
    async run(input, ctx) {
      await ensureDirs();
      await allocationOf(input.volume);
      const conf = paths.exportConf(input.exportName);
      const body = `volume=${input.volume}\npath=${paths.mount(input.volume)}\nclients=${input.clients.join(',')}\nkey=${ctx.idempotencyKey}\n`;
      await applyFenced(root, ctx, async () => {
        if (await createAtomically(conf, body)) return;
        const current = await readFile(conf, 'utf8');
        if (!current.includes(`key=${ctx.idempotencyKey}\n`)) {
          const owner = /^volume=(.*)$/m.exec(current)?.[1] ?? 'another volume';
          throw new NameAlreadyExportedError(`export name "${input.exportName}" is already used by volume "${owner}"`);
        }
      });
      ctx.setDetail(`exported ${input.volume} as ${input.exportName} to ${input.clients.join(', ')}`);
      return { exportName: input.exportName, configPath: conf };
    },
    async revert(input, _result, ctx) {
      await fenceOff(root, ctx);
      const conf = paths.exportConf(input.exportName);
      const current = await readFile(conf, 'utf8').catch(() => undefined);
      if (current?.includes(`key=${ctx.processId}/`)) await rm(conf, { force: true });
      ctx.setDetail(`withdrew export ${input.exportName}`);
    },
  });

  const registerVolume = defineJob({
    name: 'register-volume',
    description: 'Registers the volume in the catalog.',
    input: z.object({ volume: volumeName, path: z.string().min(1), exportName: z.string().optional() }),
    output: z.object({ registered: z.string() }),
    options: { timeout: '30s' },
    async run(input, ctx) {
      const entries = await applyFenced(root, ctx, () =>
        withLock(
          root,
          'catalog',
          async () => {
            const catalog = (await readJson<CatalogEntry[]>(paths.catalog)) ?? [];
            if (!catalog.some((e) => e.key === ctx.idempotencyKey)) {
              catalog.push({
                volume: input.volume,
                path: input.path,
                key: ctx.idempotencyKey,
                ...(input.exportName ? { exportName: input.exportName } : {}),
              });
              await writeJson(paths.catalog, catalog);
            }
            return catalog.length;
          },
          ctx.signal
        )
      );
      ctx.setDetail(`registered ${input.volume} in the catalog (${entries} ${entries === 1 ? 'volume' : 'volumes'})`);
      return { registered: input.volume };
    },
    async revert(input, _result, ctx) {
      await fenceOff(root, ctx);
      await withLock(root, 'catalog', async () => {
        const catalog = (await readJson<CatalogEntry[]>(paths.catalog)) ?? [];
        await writeJson(
          paths.catalog,
          catalog.filter((e) => !e.key.startsWith(`${ctx.processId}/`))
        );
      });
      ctx.setDetail(`removed ${input.volume} from the catalog`);
    },
  });

  const recordAuditEvent = defineJob({
    name: 'record-audit-event',
    description: 'Appends an event to the audit log. Audit logs are append-only: this job has no revert.',
    input: z.object({ volume: volumeName, message: z.string().min(1).max(500) }),
    output: z.object({ logged: z.boolean() }),
    options: { timeout: '30s' },
    async run(input, ctx) {
      await mkdir(root, { recursive: true });
      const log = await readFile(paths.audit, 'utf8').catch(() => '');
      if (!log.includes(` ${ctx.idempotencyKey} `)) {
        await appendFile(
          paths.audit,
          `${new Date().toISOString()} ${ctx.idempotencyKey} ${input.volume}: ${input.message}\n`
        );
      }
      ctx.setDetail(`audit: ${input.message}`);
      return { logged: true };
    },
  });

  return { allocateVolume, createFilesystem, setQuota, exportVolume, registerVolume, recordAuditEvent };
}

export type VolumeJobs = ReturnType<typeof volumeJobs>;

/** The example library, ready to register on a worker. */
export function volumeLibrary(options: VolumeLibraryOptions): JobLibrary {
  return defineLibrary('volumes', Object.values(volumeJobs(options)));
}

/** Reads the sandbox's state: what a test (or a curious operator) checks after a run. */
export async function inspectSandbox(root: string) {
  const list = async (dir: string) => (await readdir(join(root, dir)).catch(() => [] as string[])).sort();
  return {
    volumes: (await list('volumes')).filter((f) => f.endsWith('.img')).map((f) => f.replace(/\.img$/, '')),
    mounts: await list('mnt'),
    // Only whole records: a temporary file a killed worker left behind is not an effect.
    quotas: (await list('quotas')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')),
    exports: (await list('exports')).filter((f) => f.endsWith('.conf')).map((f) => f.replace(/\.conf$/, '')),
    catalog: (await readJson<CatalogEntry[]>(join(root, 'catalog.json'))) ?? [],
    audit: (await readFile(join(root, 'audit.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean),
  };
}
