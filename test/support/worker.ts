/**
 * Runs a Jipper worker inside the test process against the run's server (started by global-setup.ts), on a task
 * queue of its own so test files do not steal each other's tasks: `startTestWorker` of jipper/testing, with the
 * workflow bundle a test run may pin (`JIPPER_TEST_BUNDLE`).
 */
import type { JobLibrary } from '../../src/jobs/library';
import type { TestWorker } from '../../src/testing/worker';
import { startTestWorker as startWorker } from '../../src/testing/worker';

export type { TestWorker };

export function serverAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: the jest global setup did not start a Temporal server');
  return address;
}

export async function startTestWorker(libraries: JobLibrary[], name = 'test'): Promise<TestWorker> {
  return startWorker(libraries, {
    address: serverAddress(),
    name,
    ...(process.env.JIPPER_TEST_BUNDLE ? { workflowBundlePath: process.env.JIPPER_TEST_BUNDLE } : {}),
  });
}
