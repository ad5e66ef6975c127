/** Follows a running process: polls its live report until it ends, then returns the final report. */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessReport } from '../shared/report';
import { reportQuery } from '../workflows/messages';
import { isWaiting, waitForReport, waitingReport } from './report';

export interface WatchOptions {
  /** Called with each polled report and, last, with the final one. */
  onReport: (report: ProcessReport) => void;
  /** How often to poll. Default 300 ms. */
  intervalMs?: number;
  /** How long one query may take (it needs a worker to answer). Default 5 s. */
  queryTimeoutMs?: number;
  /** Called once when no worker has answered for this long. Default 10 s. */
  onNoWorker?: () => void;
  noWorkerAfterMs?: number;
  /**
   * Stops following when aborted: the returned promise rejects with the signal's reason (an `AbortError` unless the
   * caller gave another). The process itself goes on; only the watching stops.
   */
  signal?: AbortSignal;
  /** Adds to each report before it is passed on (the live reports of its running child processes, `withLiveChildren`). */
  expand?: (report: ProcessReport) => Promise<ProcessReport>;
}

/**
 * Polls the report query while the process runs (a query needs a worker: while none answers, polling goes on
 * quietly) and resolves with the final report once the process ends, whatever its outcome. A delayed start that has
 * not begun is reported once as `waiting`; polling starts when it begins (or it ends first, cancelled).
 */
export async function watchProcess(
  client: Client,
  handle: WorkflowHandle,
  options: WatchOptions
): Promise<ProcessReport> {
  const intervalMs = options.intervalMs ?? 300;
  const queryTimeoutMs = options.queryTimeoutMs ?? 5_000;
  const { signal } = options;
  signal?.throwIfAborted();
  let ended = false;
  // The long poll for the end is aborted with the signal too, so a caller that stops watching is not held until the end.
  const final = (signal ? client.withAbortSignal(signal, () => waitForReport(handle)) : waitForReport(handle)).finally(
    () => (ended = true)
  );
  final.catch(() => undefined);
  const aborted = new Promise<never>((_, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
  aborted.catch(() => undefined);
  const description = await handle.describe();
  if (isWaiting(description)) {
    options.onReport(await waitingReport(client, description));
    const begun = new AbortController();
    const until = (description.executionTime?.getTime() ?? 0) - Date.now();
    await Promise.race([
      final.catch(() => undefined),
      aborted.catch(() => undefined),
      sleep(until, undefined, { signal: begun.signal }).catch(() => undefined),
    ]);
    begun.abort();
  }
  signal?.throwIfAborted();
  const started = Date.now();
  let answered = false;
  let warned = false;
  while (!ended) {
    try {
      const report = await Promise.race([
        client
          .withDeadline(Date.now() + queryTimeoutMs, () => handle.query(reportQuery))
          .then((r) => (options.expand ? options.expand(r) : r)),
        aborted,
      ]);
      answered = true;
      if (!ended) options.onReport(report);
    } catch {
      // No worker has picked the process up yet, or it ended between two polls: the next round tells.
    }
    signal?.throwIfAborted();
    if (!answered && !warned && Date.now() - started > (options.noWorkerAfterMs ?? 10_000)) {
      warned = true;
      options.onNoWorker?.();
    }
    await Promise.race([final.catch(() => undefined), sleep(intervalMs), aborted.catch(() => undefined)]);
    signal?.throwIfAborted();
  }
  const ending = await Promise.race([final, aborted]);
  const report = options.expand ? await options.expand(ending).catch(() => ending) : ending;
  options.onReport(report);
  return report;
}
