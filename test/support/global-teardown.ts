/** Jest global teardown: stops the dev server that global-setup.ts started (nothing to do for TEMPORAL_ADDRESS). */
import { stopTestServer } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  await stopTestServer();
}
