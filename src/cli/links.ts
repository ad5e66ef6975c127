/** Links into the Temporal Web UI. */
import { z } from 'zod';

/** The embedded dev server's Web UI. */
export const DEFAULT_WEB_UI_URL = 'http://127.0.0.1:8233';

/**
 * The Web UI's base URL: `JIPPER_WEB_UI_URL` when set (for a cluster or Temporal Cloud), else the embedded dev
 * server's.
 */
export function webUiBase(env: NodeJS.ProcessEnv = process.env): string {
  const value = env.JIPPER_WEB_UI_URL;
  if (!value) return DEFAULT_WEB_UI_URL;
  const parsed = z.url({ message: 'JIPPER_WEB_UI_URL must be a URL such as http://127.0.0.1:8233' }).safeParse(value);
  if (!parsed.success) throw new Error(parsed.error.issues[0]?.message);
  return value.replace(/\/+$/, '');
}

/** The Web UI page of one run. */
export function runLink(base: string, namespace: string, workflowId: string, runId?: string): string {
  const path = `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${path}/${encodeURIComponent(runId)}/history` : path;
}
