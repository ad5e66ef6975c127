/**
 * A Jipper worker inside the test process, with the job libraries under test, on a task queue of its own (so test
 * files running side by side never take each other's tasks), a client to start processes on it, and helpers that run
 * a definition to its report — optionally with a fault injected (see `instrument.ts`) — and record every call of
 * every job.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { Worker, WorkerOptions } from '@temporalio/worker';
import { NativeConnection } from '@temporalio/worker';
import type { JobLibrary } from '../jobs/library';
import type { JobRegistry } from '../runtime/registry';
import { startProcess } from '../client/start';
import { waitForReport } from '../client/report';
import { decide } from '../client/control';
import { withLiveChildren } from '../client/children';
import type { ProcessReport } from '../shared/report';
import { reportQuery } from '../workflows/messages';
import type { SecretProvider } from '../runtime/secrets';
import { loadConfig } from '../config/config';
import { createJipperWorker } from '../worker/worker';
import type { CallRecord, FaultPlan } from './instrument';
import { Instrumentation } from './instrument';
import type { MatrixCase } from './matrix';
import { expectOutcome } from './outcome';
import { installTestRuntime } from './runtime';
import { withSettledWaits } from './waits';
import type { TestServer } from './server';
import type { HookSet } from '../shared/hooks';

export interface TestWorkerOptions {
  /** The server to work against (from {@link startTestServer}): its address and namespace. */
  server?: Pick<TestServer, 'address' | 'namespace'>;
  /**
   * The server's address, when not given `server`. Default: `TEMPORAL_ADDRESS`. The connection uses the TLS and
   * API-key settings of the environment (`TEMPORAL_TLS_*`, `TEMPORAL_API_KEY`, a profile) either way.
   */
  address?: string;
  namespace?: string;
  /** Default: `<name>-<uuid>`, a queue of this worker's own. */
  taskQueue?: string;
  /** Prefix of the generated task queue name. Default `test`. */
  name?: string;
  /** A prebuilt workflow bundle. Default: Jipper's prebuilt bundle when present, else the workflow sources. */
  workflowBundlePath?: string;
  /**
   * How the worker and its client encode payloads. Default: the configuration's (the encrypting data converter when
   * `JIPPER_ENCRYPTION_KEYS` or `JIPPER_ENCRYPTION_KEYS_FILE` is set).
   */
  dataConverter?: DataConverter;
  /** Where the worker reads `$secret`s. Default: `JIPPER_SECRET_<NAME>` of the environment. */
  secrets?: SecretProvider;
  /** Any other Temporal worker option. */
  workerOptions?: Partial<WorkerOptions>;
  /** Default outcome hooks of every process (as the config file's `hooks`). */
  hooks?: HookSet;
  /** The Web UI base URL for the link in the reports hooks send. */
  webUi?: string;
}

export interface RunOptions {
  /** Parameter values for this run. */
  params?: Record<string, unknown>;
  /** Workflow id. Default `<process name>-<uuid>`. */
  id?: string;
  /** In a failure-matrix case: the data sent to each event wait it reaches, by step id (default `{}`). */
  events?: Record<string, unknown>;
}

/** A run that ended: its report, and every call of its jobs as the worker saw them. */
export interface TestRun {
  processId: string;
  report: ProcessReport;
  calls: CallRecord[];
}

export interface TestWorker {
  client: Client;
  taskQueue: string;
  /** The registry of the libraries: pass it to `startProcess` / `runProcess` so the client plans, as the CLI does. */
  registry: JobRegistry;
  worker: Worker;
  /** Starts a definition (checked and planned with the registry) and waits for its report, whatever the outcome. */
  run(definition: unknown, options?: RunOptions): Promise<TestRun>;
  /**
   * Runs a failure-matrix case: injects its fault, cancels when the case says so, decides `retry` where a parked
   * process waits (after lifting the fault, as an operator would after a fix), and checks the report against the
   * case's expectation — throwing `OutcomeMismatchError` with every difference. Returns the run.
   */
  runCase(testCase: MatrixCase, options?: RunOptions): Promise<TestRun>;
  /** Every call of a process's jobs so far. */
  calls(processId: string): CallRecord[];
  /** Stops polling, waits for the worker to finish, closes its connections. */
  shutdown(): Promise<void>;
}

/** How long a case waits for a step to be reached, or for a parked process, before failing. */
const CASE_STEP_TIMEOUT_MS = 60_000;

/** Starts a worker with `libraries` against the test server; it polls until `shutdown()`. */
export async function startTestWorker(
  libraries: readonly JobLibrary[],
  options: TestWorkerOptions = {}
): Promise<TestWorker> {
  installTestRuntime();
  const config = await loadConfig({ configFile: false });
  const address = options.server?.address ?? options.address ?? config.address;
  if (!address)
    throw new Error('no Temporal server for the test worker: pass `server` or `address`, or set TEMPORAL_ADDRESS');
  const namespace = options.server?.namespace ?? options.namespace ?? config.namespace;
  const dataConverter = options.dataConverter ?? config.dataConverter;
  const nativeConnection = await NativeConnection.connect({ ...config.connectionOptions, address });
  const taskQueue = options.taskQueue ?? `${options.name ?? 'test'}-${randomUUID()}`;
  const instrumentation = new Instrumentation();
  const { worker, registry } = await createJipperWorker({
    connection: nativeConnection,
    namespace,
    taskQueue,
    libraries: instrumentation.wrap(libraries),
    ...(dataConverter ? { dataConverter } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...pickHookOptions(options),
    ...(options.workflowBundlePath !== undefined ? { workflowBundlePath: options.workflowBundlePath } : {}),
    workerOptions: {
      shutdownGraceTime: '1s',
      // A cancellation reaches a running job through its heartbeat: send them promptly, so cancels land fast.
      defaultHeartbeatThrottleInterval: '100ms',
      maxHeartbeatThrottleInterval: '1s',
      ...options.workerOptions,
    },
  });
  const running = worker.run();
  const client = new Client({ connection: nativeConnection, namespace, ...(dataConverter ? { dataConverter } : {}) });

  const start = async (definition: unknown, runOptions: RunOptions, faults?: FaultPlan) => {
    const name = (definition as { name?: unknown } | null)?.name;
    const processId = runOptions.id ?? `${typeof name === 'string' ? name : 'process'}-${randomUUID()}`;
    if (faults) instrumentation.setFaults(processId, faults);
    const handle = await startProcess(client, definition, {
      taskQueue,
      registry,
      id: processId,
      ...(runOptions.params ? { params: runOptions.params } : {}),
    });
    return { processId, handle };
  };
  const finish = async (processId: string, handle: WorkflowHandle): Promise<TestRun> => {
    const report = await waitForReport(handle);
    instrumentation.clearFaults(processId);
    return { processId, report, calls: instrumentation.callsOf(processId) };
  };

  return {
    client,
    taskQueue,
    registry,
    worker,
    async run(definition, runOptions = {}) {
      const { processId, handle } = await start(definition, runOptions);
      return finish(processId, handle);
    },
    async runCase(testCase, runOptions = {}) {
      const { scenario, expected } = testCase;
      const faults = faultsOf(testCase);
      const id = runOptions.id ?? `${testCase.id}-${randomUUID()}`;
      const { processId, handle } = await start(testCase.definition, { ...runOptions, id }, faults);
      const deadline = AbortSignal.timeout(CASE_STEP_TIMEOUT_MS);
      return withSettledWaits(client, processId, scenario, runOptions.events ?? {}, async () => {
        if (scenario.kind === 'cancel') {
          // Cancel once the jobs beside the step are held and the ones before it completed: the outcome is then fixed.
          const held = [scenario.stepId, ...expected.alsoCancelled];
          await instrumentation.waitFor(
            processId,
            (calls) =>
              held.every((id) => calls.some((c) => c.stepId === id && c.side === 'run')) &&
              expected.completeBeforeCancel.every((id) =>
                calls.some((c) => c.stepId === id && c.side === 'run' && c.outcome === 'ok')
              ),
            deadline
          );
          await handle.cancel();
        }
        if (expected.parkedAt !== undefined) {
          await waitUntilParked(handle, expected.parkedAt, deadline);
          instrumentation.clearFaults(processId);
          await decide(client, processId, expected.parkedAt, 'retry');
        }
        const run = await finish(processId, handle);
        // A child's report that its parent's row does not carry (a cancelled child's) is read from the child.
        expectOutcome(await withLiveChildren(client, run.report), expected);
        return run;
      });
    },
    calls: (processId) => instrumentation.callsOf(processId),
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await nativeConnection.close();
    },
  };
}

/** The faults a case injects: the run that fails, the runs held for a cancellation, the revert that fails. */
function faultsOf({ scenario, expected }: MatrixCase): FaultPlan {
  const faults: FaultPlan = { failRun: new Set(), failRevert: new Set() };
  if (scenario.kind === 'fail') faults.failRun.add(scenario.stepId);
  if (scenario.kind === 'cancel') faults.holdRun = new Set([scenario.stepId, ...expected.alsoCancelled]);
  if (scenario.kind === 'revert-fail') {
    faults.failRun.add(scenario.trigger);
    faults.failRevert.add(scenario.stepId);
  }
  return faults;
}

/** The worker's default hooks and Web UI link, when the options set them. */
function pickHookOptions(options: TestWorkerOptions): { hooks?: HookSet; webUi?: string } {
  return {
    ...(options.hooks ? { hooks: options.hooks } : {}),
    ...(options.webUi !== undefined ? { webUi: options.webUi } : {}),
  };
}

/** Waits until the process is parked at `stepId` (polling its report query). */
async function waitUntilParked(handle: WorkflowHandle, stepId: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const report = await handle.query(reportQuery);
    if (report.status === 'parked' && report.needsAttention.includes(stepId)) return;
    if (report.endedAt !== undefined) {
      throw new Error(`${handle.workflowId} ended ${report.status} without parking at "${stepId}"`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
