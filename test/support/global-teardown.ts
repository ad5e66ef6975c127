/** Jest global teardown: stops the dev server that global-setup.ts started (nothing to do for TEMPORAL_ADDRESS). */
import { stopTestDevServer } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  await stopTestDevServer();
}
