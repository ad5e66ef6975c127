/**
 * Following a run to its end, from any terminal: `jipper watch`, and `--wait` on `start`, `cancel` and `decide`. The
 * live view on a terminal (a line per status change elsewhere), or with `--json` one JSON report per line each time it
 * changes; then the final report. Ctrl-C detaches: the process goes on, and the command says so and how to re-attach.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { flatTree, withLiveChildren } from '../client/children';
import { watchProcess } from '../client/watch';
import type { ProcessReport } from '../shared/report';
import { err, io, out, printJsonLine } from './io';
import { runLink, webUiLine } from './links';
import { liveView } from './live-view';
import { reportForStdout } from './report-table';

/** Exit code of a command that was detached with Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_DETACHED = 130;

export interface FollowOptions {
  /** One JSON report per line at each change (the last one final), instead of the live view and the table. */
  json?: boolean;
  /** Print nothing while following, and not the final report (the caller prints what it wants). */
  quiet?: boolean;
  /** The task queue, for the hint when no worker answers. */
  taskQueue?: string;
  /** The Web UI in use: the final report ends with the link to the run there (`Web UI: ...`). */
  webUi?: { base: string | undefined; namespace: string };
}

export type FollowResult = { detached: false; report: ProcessReport } | { detached: true };

/**
 * Follows the run until it ends or the operator presses Ctrl-C (SIGINT). On Ctrl-C it prints, on stderr, that it
 * detached, how the run stood, and the command that re-attaches.
 */
export async function follow(
  client: Client,
  handle: WorkflowHandle,
  options: FollowOptions = {}
): Promise<FollowResult> {
  const id = handle.workflowId;
  const view = options.json || options.quiet ? undefined : liveView(io().stdout);
  let last: ProcessReport | undefined;
  let lastJson = '';
  const controller = new AbortController();
  const detach = () => controller.abort(new Error('detached'));
  process.once('SIGINT', detach);
  try {
    const report = await watchProcess(client, handle, {
      signal: controller.signal,
      // A running child process's report is read live: the view says which child and which step the parent is at.
      expand: (r) => withLiveChildren(client, r),
      onReport: (r) => {
        last = r;
        if (options.quiet) return;
        // A child process's rows follow its step's, by path (db/grant).
        if (!options.json) return view?.update(flatTree(r));
        const json = JSON.stringify(r);
        if (json !== lastJson) printJsonLine(r);
        lastJson = json;
      },
      onNoWorker: () =>
        err(
          `jipper: no worker has answered for ${id} yet; is one running on task queue "${options.taskQueue ?? '?'}"? (jipper worker)`
        ),
    });
    if (!options.json && !options.quiet) {
      out('', reportForStdout(flatTree(report)));
      const link = options.webUi && runLink(options.webUi.base, options.webUi.namespace, id, report.runId);
      if (link) out(webUiLine(link));
    }
    return { detached: false, report };
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    const where = last ? ` (${last.status})` : '';
    err(`jipper: detached from ${id}${where}; the process goes on. Re-attach: jipper watch ${id}`);
    return { detached: true };
  } finally {
    process.removeListener('SIGINT', detach);
  }
}
