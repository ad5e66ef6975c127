/**
 * `jipper/testing`: test your job libraries and processes against a real Temporal server, the way Jipper tests
 * itself — a dev server for the test run (on `@temporalio/testing`), a worker with your libraries on a task queue of
 * its own, and a client that plans with the same libraries.
 *
 * @example
 * ```ts
 * import { startTestServer, startTestWorker } from 'jipper/testing';
 * import { runProcess } from 'jipper/client';
 * import { library } from '../src/jobs';
 *
 * let server: TestServer;
 * beforeAll(async () => (server = await startTestServer()));
 * afterAll(() => server.teardown());
 *
 * test('provisioning unwinds when the export fails', async () => {
 *   const worker = await startTestWorker([library], { address: server.address });
 *   try {
 *     const report = await runProcess(worker.client, definition, { taskQueue: worker.taskQueue, registry: worker.registry });
 *     expect(report.status).toBe('reverted');
 *   } finally {
 *     await worker.shutdown();
 *   }
 * });
 * ```
 */
export { startTestServer } from './server';
export type { TestServer, TestServerOptions } from './server';
export { startTestWorker } from './worker';
export type { TestWorker, TestWorkerOptions } from './worker';
