/**
 * Dynamic config every server Jipper starts runs with (the dev server, the test server, the cluster): Temporal's
 * task-queue priority and fairness (the new matcher), which 1.32 ships switched off. Without it a step's `priority`
 * and `fairnessKey` are recorded but do not order dispatch.
 */
export const JIPPER_DYNAMIC_CONFIG: Readonly<Record<string, boolean>> = {
  'matching.useNewMatcher': true,
  'matching.enableFairness': true,
};
