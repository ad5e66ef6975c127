/**
 * The Web UI's current details, rendered when they are asked for instead of at every step.
 *
 * The Web UI reads a run's current details through Temporal's built-in `__temporal_workflow_metadata` query. Rendering
 * the report as Markdown at every change was about a fifth of Jipper's own workflow CPU per step, for a view nobody may
 * open. This module is a workflow interceptor module (Jipper's bundles list it, see `src/worker/worker.ts`): it
 * renders the details in the activation that carries that query, just before it is answered, so the Web UI always
 * shows the report as it is at that moment. A bundle built without it (a code-first workflow in a project's own bundle) renders at every
 * change, as before: {@link renderDetailsOnQuery} says which.
 */
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { setCurrentDetails, workflowInfo } from '@temporalio/workflow';

const METADATA_QUERY = '__temporal_workflow_metadata';

/**
 * The renderer of each run in this workflow context, by run id (a reused V8 context runs many workflows; the entry
 * goes when the run is disposed). `null`: the run has the interceptor but no renderer yet.
 */
const renderers = new Map<string, (() => string) | null>();

export const interceptors: WorkflowInterceptorsFactory = () => {
  const { runId } = workflowInfo();
  renderers.set(runId, null);
  return {
    // Temporal answers its own queries without the inbound interceptors, so the activation that carries the query is
    // where to render: before its jobs run, the state is what the query would see anyway (workflow code only goes on
    // in the microtasks after them).
    internals: [
      {
        activate(input, next) {
          const render = renderers.get(runId);
          if (render && input.activation.jobs?.some((job) => job.queryWorkflow?.queryType === METADATA_QUERY)) {
            setCurrentDetails(render());
          }
          next(input);
        },
        dispose(input, next) {
          renderers.delete(runId);
          next(input);
        },
      },
    ],
  };
};

/**
 * Renders this run's current details when the Web UI asks for them. Returns false when this bundle was built without
 * the interceptor: the caller must then set the details itself at every change.
 */
export function renderDetailsOnQuery(render: () => string): boolean {
  const { runId } = workflowInfo();
  if (!renderers.has(runId)) return false;
  renderers.set(runId, render);
  return true;
}
