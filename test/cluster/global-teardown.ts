/** Stops the cluster global-setup.ts started (not one that was already up), unless `JIPPER_CLUSTER_KEEP=1`. */
import { clusterDown } from '../../src/dev/cluster/cluster';
import { clusterSettings } from '../../src/dev/cluster/settings';
import { STARTED_CLUSTER } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as typeof globalThis & { [STARTED_CLUSTER]?: boolean })[STARTED_CLUSTER];
  if (!started || process.env.JIPPER_CLUSTER_KEEP === '1') return;
  await clusterDown(clusterSettings(), (line) => void process.stderr.write(`[cluster teardown] ${line}\n`));
}
