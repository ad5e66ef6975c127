/** Links into the Temporal Web UI of the server in use (see `ServerInUse.uiUrl`). */

/**
 * The Web UI page of one run; `undefined` when the server's Web UI is not known. With a run id it is the run's
 * metadata page (`.../user-metadata`): its summary, its details (the steps and the parameters this run used) and its
 * current details (the report, job by job), rather than the raw event history. Without one, the UI opens the latest
 * run of the id.
 */
export function runLink(
  base: string | undefined,
  namespace: string,
  workflowId: string,
  runId?: string
): string | undefined {
  if (base === undefined) return undefined;
  const path = `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${path}/${encodeURIComponent(runId)}/user-metadata` : path;
}

/** The line that ends a report: `Web UI: <link>`, or how to get one when the server's Web UI is not known. */
export function webUiLine(link: string | undefined): string {
  return `Web UI: ${link ?? '(unknown: set webUi in the config file, or --web-ui)'}`;
}
