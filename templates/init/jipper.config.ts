// Jipper's settings for this project. The worker (`npm run worker`) and the command line (`npm start`, `npx jipper
// ...`) both read this file, so they load the same job libraries. Flags (--address, --namespace, --task-queue,
// --libraries, --tls...) and environment variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, JIPPER_TASK_QUEUE...)
// override it; `npx jipper config` shows the settings in effect and where each came from.
import { defineConfig } from 'jipper';

export default defineConfig({
  // Job library modules, relative to this file (TypeScript loads directly), or package names.
  libraries: ['./src/jobs.ts'],
  taskQueue: 'workspaces',
  // The Temporal server. On loopback with nothing listening, Jipper starts its embedded dev server there (Web UI on
  // port + 1000, state in .jipper/). For a cluster or Temporal Cloud, set the address here and the API key in
  // TEMPORAL_API_KEY.
  address: '127.0.0.1:7233',
  namespace: 'default',
});
