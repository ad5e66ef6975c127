/**
 * Dynamic config every server Jipper starts runs with (the dev server, the test server, the cluster, the compose
 * file's `deploy/temporal/dynamicconfig.yaml`):
 *
 * - Temporal's task-queue priority and fairness (the new matcher), which 1.32 ships switched off. Without it a step's
 *   `priority` and `fairnessKey` are recorded but do not order dispatch.
 * - One partition per task queue. Matching orders a backlog by priority within a partition only, and keeps a queue's
 *   rate limit per partition: with the default four, a backlog is spread over them at random (a high-priority task
 *   waits behind low ones on another partition) and "2 a second" admits up to 8. One partition keeps both as written;
 *   it carries a few hundred task dispatches a second, well above what a Jipper worker fleet asks of one queue.
 */
export const JIPPER_DYNAMIC_CONFIG: Readonly<Record<string, boolean | number>> = {
  // Eager workflow start (docs/eager-start.md): a start that asks for it (`eager`), from a process with a worker on
  // the same connection, gets its first workflow task in the reply. Other starts are unchanged. Eager activity
  // dispatch stays off: it bypasses matching, so task-queue priority would not order those activities.
  'system.enableEagerWorkflowStart': true,
  'matching.useNewMatcher': true,
  'matching.enableFairness': true,
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
};
