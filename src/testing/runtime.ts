/** The Temporal runtime of a test process: installed once, before the first server or worker, logging errors only. */
import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/**
 * Installs a runtime whose logger keeps ERROR and above: a test run's workers log every expected activity failure
 * (the failure cases) at WARN, and their state changes at INFO. A runtime the test's own code installed first is kept.
 */
export function installTestRuntime(): void {
  if (installed) return;
  installed = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // A runtime was installed already (by the test's own code): keep it.
  }
}
