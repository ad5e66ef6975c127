/**
 * The process workflow after a change that breaks running histories: it now pauses for a moment before planning. A
 * run started by the real code cannot be replayed by this one (its first command is a timer, where the history has
 * the plan). Bundled only by nondeterminism.test.ts, as a bad deploy would be.
 */
import { sleep } from '@temporalio/workflow';
import type { ProcessInput } from '../../src/workflows/process-workflow';
import { jipperProcess as released } from '../../src/workflows/process-workflow';

export async function jipperProcess(input: ProcessInput) {
  await sleep('10ms');
  return released(input);
}
