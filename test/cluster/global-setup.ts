/**
 * Jest global setup for `npm run test:cluster`: brings up the local Temporal cluster (src/dev/cluster — building the
 * server on first use) and hands its frontend to the test files through `TEMPORAL_ADDRESS`, as the main suite's setup
 * does with its dev server. The Web UI is built and started too unless `JIPPER_CLUSTER_UI` says otherwise. A cluster that is already up (same settings) is used as it is and left running; one
 * started here is stopped by global-teardown.ts unless `JIPPER_CLUSTER_KEEP=1`.
 */
import { clusterDown, clusterStatus, clusterUp } from '../../src/dev/cluster/cluster';
import { clusterSettings } from '../../src/dev/cluster/settings';

export const STARTED_CLUSTER = Symbol.for('jipper.test.clusterStarted');
type GlobalWithCluster = typeof globalThis & { [STARTED_CLUSTER]?: boolean };

const log = (line: string): void => void process.stderr.write(`[cluster setup] ${line}\n`);

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  // The suite proves the Web UI too: build it unless told otherwise.
  process.env.JIPPER_CLUSTER_UI ??= 'build';
  const settings = clusterSettings();
  const before = await clusterStatus(settings);
  let status: Awaited<ReturnType<typeof clusterUp>>;
  try {
    status = await clusterUp(settings, log);
    if (!status.healthy) throw new Error(`the cluster is not healthy: ${JSON.stringify(status)}`);
  } catch (err) {
    // Jest runs no teardown after a failed setup: stop what this setup started.
    if (!before.healthy) await clusterDown(settings, log);
    throw err;
  }
  (globalThis as GlobalWithCluster)[STARTED_CLUSTER] = !before.healthy;
  process.env.TEMPORAL_ADDRESS = status.address;
  delete process.env.TEMPORAL_NAMESPACE;
  log(
    `cluster ${before.healthy ? 'reused' : 'up'} at ${status.address} in ${Math.round((Date.now() - started) / 1000)} s`
  );
}
