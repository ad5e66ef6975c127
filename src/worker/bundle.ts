/**
 * Build step: writes the prebuilt workflow bundles the production worker loads: `dist/workflow-bundle.js`, and
 * `dist/workflow-bundle.encrypted.js` for workers with a key ring (its failure converter encodes failure messages, so
 * the codec encrypts them).
 */
import { writeFile } from 'node:fs/promises';
import { DEFAULT_BUNDLE_PATH, ENCRYPTED_BUNDLE_PATH, bundleJipperWorkflows } from './worker';

async function main(): Promise<void> {
  await writeFile(DEFAULT_BUNDLE_PATH, await bundleJipperWorkflows());
  await writeFile(ENCRYPTED_BUNDLE_PATH, await bundleJipperWorkflows({ encrypted: true }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
