/**
 * The local cluster's settings, read from the environment once (zod, one-line errors), and the port plan derived
 * from them. Every service listens on 127.0.0.1 only.
 *
 * | variable                       | default                  | meaning                                                    |
 * | ------------------------------ | ------------------------ | ---------------------------------------------------------- |
 * | `JIPPER_CLUSTER_DIR`           | `<project>/.jipper/cluster` | PostgreSQL data, logs, pid files                        |
 * | `JIPPER_CLUSTER_BASE_PORT`     | 17200                    | first of the cluster's ports (see {@link portPlan})        |
 * | `JIPPER_CLUSTER_HISTORY_HOSTS` | 2                        | history service processes (1–4)                            |
 * | `JIPPER_CLUSTER_SHARDS`        | 8                        | history shards (fixed once the database exists)            |
 * | `JIPPER_CLUSTER_CACHE`         | `~/.cache/jipper`        | a build cache that outlives the checkout; `off` for none   |
 * | `JIPPER_CLUSTER_UI`            | `auto`                   | the Web UI: `auto` (if built), `build`, `off`              |
 * | `JIPPER_CLUSTER_DYNAMIC_CONFIG`| none                     | a YAML file of dynamic config keys laid over the defaults  |
 *
 * The default base port sits below the range the test dev servers pick from (20000–32000) and the kernel's ephemeral
 * range (32768–60999), so a cluster and `npm test` can run side by side.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { findProjectRoot } from '../../config/project';

/** The Temporal server the cluster runs: the one inside the Temporal CLI 1.9.1 dev server (`Server 1.32.0`). */
export const TEMPORAL_SERVER_VERSION = 'v1.32.0';
/**
 * The Web UI server module (its UI assets embedded), built from the Go module proxy like the server: the version the
 * Temporal CLI 1.9.1 embeds (later ones ask for a newer Go than 1.26.8).
 */
export const TEMPORAL_UI_SERVER_VERSION = 'v2.54.1';

export const DEFAULT_BASE_PORT = 17_200;
/** Ports the plan uses above the base: 20 fixed ones, then two per history host. */
const FIXED_PORTS = 20;
const MAX_HISTORY_HOSTS = 4;

/** The cluster's settings are invalid; the message lists each problem on one line. */
export class ClusterSettingsError extends Error {
  override readonly name = 'ClusterSettingsError';
}

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`);

const envSchema = z.object({
  JIPPER_CLUSTER_DIR: z.string().trim().min(1, 'must not be empty').optional(),
  JIPPER_CLUSTER_BASE_PORT: integer(1024, 65_535 - FIXED_PORTS - 2 * MAX_HISTORY_HOSTS).optional(),
  JIPPER_CLUSTER_HISTORY_HOSTS: integer(1, MAX_HISTORY_HOSTS).optional(),
  JIPPER_CLUSTER_SHARDS: integer(1, 1024).optional(),
  JIPPER_CLUSTER_CACHE: z.string().trim().min(1, 'must not be empty (use `off` for no cache)').optional(),
  JIPPER_CLUSTER_UI: z.enum(['auto', 'build', 'off'], { error: 'must be auto, build or off' }).optional(),
  JIPPER_CLUSTER_DYNAMIC_CONFIG: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .refine((path) => existsSync(path), 'no such file')
    .optional(),
});

export interface ServicePorts {
  grpc: number;
  membership: number;
  http?: number;
}

export interface PortPlan {
  frontend: Required<ServicePorts>;
  matching: ServicePorts;
  worker: ServicePorts;
  history: ServicePorts[];
  postgres: number;
  ui: number;
}

export interface ClusterSettings {
  projectRoot: string;
  /** `<project>/.jipper/cluster` unless `JIPPER_CLUSTER_DIR`. */
  dir: string;
  /** `<project>/.jipper/temporal-server`: the binaries and schemas of {@link TEMPORAL_SERVER_VERSION}. */
  binDir: string;
  /** A second copy of the binaries outside the checkout, or `undefined` (`JIPPER_CLUSTER_CACHE=off`). */
  sharedCacheDir: string | undefined;
  basePort: number;
  historyHosts: number;
  shards: number;
  ui: 'auto' | 'build' | 'off';
  /** A YAML file of dynamic config laid over {@link DYNAMIC_CONFIG} (server-env.ts), or undefined. */
  dynamicConfigFile: string | undefined;
  ports: PortPlan;
  /** `127.0.0.1:<frontend gRPC port>`. */
  address: string;
}

/**
 * Ports from `base`: frontend gRPC +0, HTTP +1, membership +2; matching +3/+4; internal worker +5/+6; PostgreSQL +7;
 * Web UI +8; history host i (from 0) at +20+2i (gRPC) and +21+2i (membership).
 */
export function portPlan(base: number, historyHosts: number): PortPlan {
  return {
    frontend: { grpc: base, http: base + 1, membership: base + 2 },
    matching: { grpc: base + 3, membership: base + 4 },
    worker: { grpc: base + 5, membership: base + 6 },
    postgres: base + 7,
    ui: base + 8,
    history: Array.from({ length: historyHosts }, (_, i) => ({
      grpc: base + FIXED_PORTS + 2 * i,
      membership: base + FIXED_PORTS + 2 * i + 1,
    })),
  };
}

/** @throws ClusterSettingsError */
export function clusterSettings(
  env: NodeJS.ProcessEnv = process.env,
  projectRoot = findProjectRoot()
): ClusterSettings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ClusterSettingsError(`invalid cluster settings: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const within = (path: string) => (isAbsolute(path) ? path : resolve(projectRoot, path));
  const basePort = e.JIPPER_CLUSTER_BASE_PORT ?? DEFAULT_BASE_PORT;
  const historyHosts = e.JIPPER_CLUSTER_HISTORY_HOSTS ?? 2;
  const ports = portPlan(basePort, historyHosts);
  const cache = e.JIPPER_CLUSTER_CACHE ?? join(homedir(), '.cache', 'jipper');
  return {
    projectRoot,
    dir: within(e.JIPPER_CLUSTER_DIR ?? join('.jipper', 'cluster')),
    binDir: join(projectRoot, '.jipper', 'temporal-server'),
    sharedCacheDir: cache === 'off' ? undefined : within(cache),
    basePort,
    historyHosts,
    shards: e.JIPPER_CLUSTER_SHARDS ?? 8,
    ui: e.JIPPER_CLUSTER_UI ?? 'auto',
    dynamicConfigFile:
      e.JIPPER_CLUSTER_DYNAMIC_CONFIG === undefined ? undefined : within(e.JIPPER_CLUSTER_DYNAMIC_CONFIG),
    ports,
    address: `127.0.0.1:${ports.frontend.grpc}`,
  };
}
