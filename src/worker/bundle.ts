/** Build step: writes the prebuilt workflow bundle the production worker loads (`dist/workflow-bundle.js`). */
import { writeFile } from 'node:fs/promises';
import { DEFAULT_BUNDLE_PATH, bundleJipperWorkflows } from './worker';

async function main(): Promise<void> {
  const code = await bundleJipperWorkflows();
  await writeFile(DEFAULT_BUNDLE_PATH, code);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
