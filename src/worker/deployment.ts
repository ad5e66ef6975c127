/**
 * Worker Deployment versioning for rolling deploys, from the environment (validated here, where it enters):
 *
 * - `JIPPER_DEPLOYMENT_NAME` and `JIPPER_BUILD_ID`, both or neither. Set, the worker polls as version
 *   `<deployment>.<build id>` and every process it starts is pinned to that version: a process started on build v1
 *   runs all its workflow tasks and jobs on v1 workers, even after v2 becomes the deployment's current version.
 * - Unset: an unversioned worker (any worker on the task queue takes any task), as before.
 *
 * The deploy procedure (start v2 beside v1, make v2 current, stop v1 once drained) is in docs/design.md.
 */
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import { z } from 'zod';

const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .regex(/^[^\s.]+$/, 'must not contain spaces or dots');

const envSchema = z
  .object({ JIPPER_DEPLOYMENT_NAME: name.optional(), JIPPER_BUILD_ID: name.optional() })
  .refine((env) => (env.JIPPER_DEPLOYMENT_NAME === undefined) === (env.JIPPER_BUILD_ID === undefined), {
    message: 'JIPPER_DEPLOYMENT_NAME and JIPPER_BUILD_ID are set together or not at all',
  });

/** The deployment settings are invalid; the message lists each problem on one line. */
export class DeploymentConfigError extends Error {
  override readonly name = 'DeploymentConfigError';
}

/** The worker's deployment options, or undefined for an unversioned worker. @throws DeploymentConfigError */
export function deploymentFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerDeploymentOptions | undefined {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
    throw new DeploymentConfigError(`invalid deployment settings: ${problems.join('; ')}`);
  }
  const { JIPPER_DEPLOYMENT_NAME: deploymentName, JIPPER_BUILD_ID: buildId } = parsed.data;
  if (deploymentName === undefined || buildId === undefined) return undefined;
  return {
    version: { deploymentName, buildId },
    useWorkerVersioning: true,
    defaultVersioningBehavior: 'PINNED',
  };
}
