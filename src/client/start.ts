/**
 * Starting processes: parse and check a definition where it enters, plan it with the workers' job libraries when
 * the client has them, and start it as a `jipperProcess` workflow (with search attributes, memo and a summary for the
 * Web UI). `runProcess` starts one and waits for its report.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { JobRegistry } from '../activities/registry';
import type { ProcessDefinition } from '../schema/definition';
import { processDefinitionSchema } from '../schema/definition';
import type { JobFacts } from '../shared/plan';
import { formatPath, jobNames } from '../shared/plan';
import type { ProcessReport } from '../shared/report';
import { outlineMarkdown } from '../shared/render';
import { PROCESS_NAME_KEY, PROCESS_STATUS_KEY } from '../shared/search-attributes';
import type { jipperProcess } from '../workflows';
import { DefinitionError, PayloadTooLargeError } from './errors';
import { waitForReport } from './report';
import {
  MAX_MEMO_DESCRIPTION_CHARS,
  MAX_START_PAYLOAD_BYTES,
  MAX_SUMMARY_CHARS,
  MAX_STATIC_DETAILS_CHARS,
} from '../shared/limits';
import { clip } from '../shared/text';

/** The workflow type every definition runs as. */
export const PROCESS_WORKFLOW_TYPE = 'jipperProcess';

export interface StartProcessOptions {
  taskQueue: string;
  /** Workflow id; default `<name>-<uuid>`. Starting a second run with the id of a running one fails. */
  id?: string;
  /** Parameter values for this run (override the definition's `params`). */
  params?: Record<string, unknown>;
  /**
   * When given, the definition is also checked against this registry before starting (jobs, args, refs), and what the
   * registry knows about its jobs is sent with the start request, so the workflow plans it without asking the worker
   * (one local activity and one workflow activation fewer per process). Use the same job libraries as the workers: the
   * process's first job refuses a plan made from other versions of them.
   */
  registry?: JobRegistry;
  /** Where the definition came from, for error messages (a file path). */
  source?: string;
}

/** Parses and checks a definition where it enters; throws {@link DefinitionError} listing every problem. */
export function parseDefinition(
  raw: unknown,
  options: { registry?: JobRegistry; params?: Record<string, unknown>; source?: string } = {}
): ProcessDefinition {
  return planDefinition(raw, options).definition;
}

/**
 * Like {@link parseDefinition}, and with a registry also returns what it knows about each job the definition uses, for
 * the workflow to plan from (see `planFromFacts`).
 */
export function planDefinition(
  raw: unknown,
  options: { registry?: JobRegistry; params?: Record<string, unknown>; source?: string } = {}
): { definition: ProcessDefinition; jobs?: Record<string, JobFacts> } {
  const { registry } = options;
  if (registry) {
    const { problems, definition } = registry.validate(raw, options.params);
    if (problems.length || !definition) throw new DefinitionError(problems, options.source);
    return { definition, jobs: registry.facts(jobNames(definition)) };
  }
  const parsed = processDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    throw new DefinitionError(
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
      options.source
    );
  }
  return { definition: parsed.data };
}

export async function startProcess(
  client: Client,
  rawDefinition: unknown,
  options: StartProcessOptions
): Promise<WorkflowHandle<typeof jipperProcess>> {
  const { definition, jobs } = planDefinition(rawDefinition, options);
  const unplanned = { definition, ...(options.params ? { params: options.params } : {}) };
  const memo = {
    process: definition.name,
    ...(definition.description ? { description: clip(definition.description, MAX_MEMO_DESCRIPTION_CHARS) } : {}),
  };
  const memoBytes = Buffer.byteLength(JSON.stringify(memo));
  const unplannedBytes = Buffer.byteLength(JSON.stringify(unplanned)) + memoBytes;
  // The job facts travel only when they fit; a definition near the limit is planned by the worker instead.
  const input =
    jobs && unplannedBytes + Buffer.byteLength(JSON.stringify(jobs)) <= MAX_START_PAYLOAD_BYTES
      ? { ...unplanned, jobs }
      : unplanned;
  if (unplannedBytes > MAX_START_PAYLOAD_BYTES) {
    throw new PayloadTooLargeError(
      `${options.source ?? 'definition'}: the definition and params are ${(unplannedBytes / 1e6).toFixed(2)} MB; Jipper's limit is ${MAX_START_PAYLOAD_BYTES / 1e6} MB (Temporal rejects payloads over 2 MB). Pass large data by reference (a path or URL) instead.`
    );
  }
  return client.workflow.start<typeof jipperProcess>(PROCESS_WORKFLOW_TYPE, {
    taskQueue: options.taskQueue,
    workflowId: options.id ?? `${definition.name}-${randomUUID()}`,
    args: [input],
    memo,
    staticSummary: clip(
      definition.description ? `${definition.name}: ${definition.description.replace(/\s+/g, ' ')}` : definition.name,
      MAX_SUMMARY_CHARS
    ),
    staticDetails: clip(outlineMarkdown(definition, options.params), MAX_STATIC_DETAILS_CHARS),
    typedSearchAttributes: [
      { key: PROCESS_NAME_KEY, value: definition.name },
      { key: PROCESS_STATUS_KEY, value: 'running' },
    ],
  });
}

/** Starts a process and waits for its report. */
export async function runProcess(
  client: Client,
  definition: unknown,
  options: StartProcessOptions
): Promise<ProcessReport> {
  return waitForReport(await startProcess(client, definition, options));
}
