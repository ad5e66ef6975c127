/**
 * How each Temporal service process is configured: the server's own embedded config template, rendered from
 * environment variables (`temporal-server start` with no config file), so the local cluster and docker-compose.yml
 * configure the same binary the same way. The dynamic config is one object, written to a file for both.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { JIPPER_DYNAMIC_CONFIG } from '../dynamic-config';
import type { ClusterSettings, ServicePorts } from './settings';
import { TEMPORAL_DB_PASSWORD, TEMPORAL_DB_USER } from './postgres';

/** The server's services, each run as its own process; `history` runs once per history host. */
export const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

export interface ServiceProcessSpec {
  /** `frontend`, `history-1`, `history-2`, `matching`, `worker`. */
  name: string;
  service: TemporalService;
  ports: ServicePorts;
}

/**
 * Dynamic config for the cluster (and the compose file's `deploy/temporal/dynamicconfig.yaml`, which a test keeps
 * equal to this). Worker Deployment versioning is on by default in 1.32; it is set here so a deploy that relies on it
 * says so.
 */
export const DYNAMIC_CONFIG: Record<string, { value: unknown; constraints?: Record<string, unknown> }[]> = {
  // Search attributes registered at runtime are usable at once (a development setting).
  'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true, constraints: {} }],
  // Worker Deployment versioning (rolling deploys with pinned workflows).
  'system.enableDeploymentVersions': [{ value: true }],
  'frontend.workerVersioningWorkflowAPIs': [{ value: true }],
  'limit.maxIDLength': [{ value: 255, constraints: {} }],
  // Task-queue priority and fairness (the new matcher): what a step's priority and fairnessKey order dispatch by.
  ...Object.fromEntries(Object.entries(JIPPER_DYNAMIC_CONFIG).map(([key, value]) => [key, [{ value }]])),
};

const dynamicConfigSchema = z.record(
  z.string(),
  z.array(z.object({ value: z.unknown(), constraints: z.record(z.string(), z.unknown()).optional() })).min(1)
);

/**
 * {@link DYNAMIC_CONFIG} with the keys of an operator's file laid over it (`JIPPER_CLUSTER_DYNAMIC_CONFIG`), as the
 * YAML the server reads. The servers re-read the file every 60 s.
 *
 * @throws Error naming the file when it is not a map of keys to `[{ value, constraints? }]` lists
 */
export function renderDynamicConfig(overlayFile: string | undefined): string {
  if (overlayFile === undefined) return stringify(DYNAMIC_CONFIG);
  const parsed = dynamicConfigSchema.safeParse(parse(readFileSync(overlayFile, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${overlayFile}: not dynamic config (${issue?.path.join('.')}: ${issue?.message})`);
  }
  return stringify({ ...DYNAMIC_CONFIG, ...parsed.data });
}

/** The processes of a cluster: the frontend, each history host, matching and the internal worker. */
export function serviceProcesses(settings: Pick<ClusterSettings, 'ports'>): ServiceProcessSpec[] {
  const { ports } = settings;
  return [
    { name: 'frontend', service: 'frontend', ports: ports.frontend },
    ...ports.history.map((p, i) => ({ name: `history-${i + 1}`, service: 'history' as const, ports: p })),
    { name: 'matching', service: 'matching', ports: ports.matching },
    { name: 'worker', service: 'worker', ports: ports.worker },
  ];
}

/**
 * The environment of one service process. Every process knows every service's ports (the frontend's address goes into
 * the cluster metadata); a history host gets its own history ports.
 */
export function serverEnvironment(
  settings: Pick<ClusterSettings, 'ports' | 'shards'>,
  process: ServiceProcessSpec,
  dynamicConfigPath: string
): Record<string, string> {
  const { ports } = settings;
  const history = process.service === 'history' ? process.ports : (ports.history[0] ?? process.ports);
  return {
    DB: 'postgres12',
    DB_PORT: String(ports.postgres),
    POSTGRES_SEEDS: '127.0.0.1',
    POSTGRES_USER: TEMPORAL_DB_USER,
    POSTGRES_PWD: TEMPORAL_DB_PASSWORD,
    DBNAME: 'temporal',
    VISIBILITY_DBNAME: 'temporal_visibility',
    BIND_ON_IP: '127.0.0.1',
    NUM_HISTORY_SHARDS: String(settings.shards),
    DYNAMIC_CONFIG_FILE_PATH: dynamicConfigPath,
    LOG_LEVEL: 'warn',
    FRONTEND_GRPC_PORT: String(ports.frontend.grpc),
    FRONTEND_HTTP_PORT: String(ports.frontend.http),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontend.membership),
    HISTORY_GRPC_PORT: String(history.grpc),
    HISTORY_MEMBERSHIP_PORT: String(history.membership),
    MATCHING_GRPC_PORT: String(ports.matching.grpc),
    MATCHING_MEMBERSHIP_PORT: String(ports.matching.membership),
    WORKER_GRPC_PORT: String(ports.worker.grpc),
    WORKER_MEMBERSHIP_PORT: String(ports.worker.membership),
  };
}

/** `temporal-server` arguments for one service (config from the environment; no authorizer on a loopback cluster). */
export function serverArgs(service: TemporalService): string[] {
  return ['--allow-no-auth', 'start', '--service', service];
}
