/** Links into the Temporal Web UI of the server in use (see `ServerInUse.uiUrl`). */

/** The Web UI page of one run; `undefined` when the server's Web UI is not known. */
export function runLink(
  base: string | undefined,
  namespace: string,
  workflowId: string,
  runId?: string
): string | undefined {
  if (base === undefined) return undefined;
  const path = `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${path}/${encodeURIComponent(runId)}/history` : path;
}
