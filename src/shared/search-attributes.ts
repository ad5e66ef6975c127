/**
 * The search attributes Jipper upserts on every process run, so runs can be listed and filtered by process name and
 * status (`jipper list`, the Web UI's search box). A server must have them registered before a worker runs processes:
 * `jipper dev` registers them on the embedded server; the worker checks (and creates) them on any other server.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The process definition's `name` (Keyword). */
export const PROCESS_NAME_KEY = defineSearchAttributeKey('JipperProcess', SearchAttributeType.KEYWORD);

/** The process status: running, unwinding, parked, succeeded, reverted, revert_failed, cancelled, failed (Keyword). */
export const PROCESS_STATUS_KEY = defineSearchAttributeKey('JipperStatus', SearchAttributeType.KEYWORD);

/**
 * The event names a process waits for now (KeywordList), so `jipper send-event` finds the processes an event is for
 * without reading any history; empty when it waits for none.
 */
export const WAITING_FOR_KEY = defineSearchAttributeKey('JipperWaitingFor', SearchAttributeType.KEYWORD_LIST);

export const JIPPER_SEARCH_ATTRIBUTES = [PROCESS_NAME_KEY, PROCESS_STATUS_KEY, WAITING_FOR_KEY] as const;
