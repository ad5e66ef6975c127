/**
 * Replays exported run histories (`jipper history`) against the current workflow code, so a change that running
 * processes could not survive is caught before it ships. Each history file is named after its run; the name is used
 * as the workflow id of the replay.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { Payload } from '@temporalio/common';
import { visit, walkGetWorkflowExecutionHistoryResponse } from '@temporalio/common/lib/internal-non-workflow';
import type { History } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { encryptsFailures } from '../codec/data-converter';
import { EncryptionCodec, missingKeyProblem } from '../codec/encryption-codec';
import { workflowCode } from './worker';
import { historyFromJson } from './history-json';
import { oneLine } from '../shared/text';

export interface ReplayFileResult {
  file: string;
  /** Why the history did not replay: `determinism violation: ...`, or another replay or file error. */
  error?: string;
  /** The replay error's class name (`DeterminismViolationError`, `ReplayError`), when the replay itself failed. */
  errorType?: string;
}

export interface ReplayOptions {
  /** A workflow bundle to replay against. Default: the prebuilt bundle when built, else the workflow sources. */
  bundlePath?: string;
  /** Decodes the histories' payloads: the encrypting data converter for histories of encrypted runs. */
  dataConverter?: DataConverter;
}

/** The workflow id a history file replays as: its file name without `.json`. */
export function historyWorkflowId(file: string): string {
  return basename(file).replace(/\.json$/i, '');
}

/** Replays every file; never throws for a bad history, each file gets its own result. */
export async function replayHistoryFiles(
  files: readonly string[],
  options: ReplayOptions = {}
): Promise<ReplayFileResult[]> {
  const results = new Map<string, ReplayFileResult>();
  const histories: HistoryAndWorkflowId[] = [];
  const byId = new Map<string, string>();
  for (const file of files) {
    try {
      const history = historyFromJson(JSON.parse(await readFile(file, 'utf8')));
      const workflowId = historyWorkflowId(file);
      if (byId.has(workflowId))
        throw new Error(`the same name as ${byId.get(workflowId)}; history files need distinct names`);
      byId.set(workflowId, file);
      // A key the replay lacks fails the file in one line, before the replayer logs the SDK's errors for it.
      const missing = missingKeyProblem(await payloadsOf(history), keyRingOf(options.dataConverter), 'this replay');
      if (missing !== undefined) {
        results.set(file, { file, error: `cannot decrypt: ${missing}`, errorType: 'MissingKeyError' });
        continue;
      }
      histories.push({ workflowId, history });
      results.set(file, { file });
    } catch (err) {
      results.set(file, { file, error: `not a history: ${oneLine(err)}` });
    }
  }
  if (histories.length) {
    const replayOptions = {
      ...workflowCode(options.bundlePath, encryptsFailures(options.dataConverter)),
      ...(options.dataConverter ? { dataConverter: pinnedNamespace(options.dataConverter) } : {}),
    };
    for await (const replay of Worker.runReplayHistories(replayOptions, histories)) {
      const file = byId.get(replay.workflowId) as string;
      if (!replay.error) continue;
      const kind = replay.error.name === 'DeterminismViolationError' ? 'determinism violation' : 'replay failed';
      results.set(file, { file, error: `${kind}: ${oneLine(replay.error)}`, errorType: replay.error.name });
    }
  }
  return files.map((file) => results.get(file) as ReplayFileResult);
}

/**
 * The data converter with its encryption codec bound to the configured namespace: Temporal's replayer says every
 * history is of namespace `default`, and payloads are bound to their namespace (docs/security.md).
 */
function pinnedNamespace(dataConverter: DataConverter): DataConverter {
  const codecs = dataConverter.payloadCodecs?.map((codec) =>
    codec instanceof EncryptionCodec ? codec.pinnedTo() : codec
  );
  return codecs ? { ...dataConverter, payloadCodecs: codecs } : dataConverter;
}

/** The key ring of an encrypting data converter, if it is one. */
export function keyRingOf(dataConverter: DataConverter | undefined) {
  return dataConverter?.payloadCodecs?.find((codec) => codec instanceof EncryptionCodec)?.keyRing;
}

/** Every payload of a history (search attributes aside: indexed values, never encrypted). */
export async function payloadsOf(history: History): Promise<Payload[]> {
  const found: Payload[] = [];
  await visit({ history: temporal.api.history.v1.History.create(history) }, walkGetWorkflowExecutionHistoryResponse, {
    transformPayload: async (payload) => (found.push(payload), payload),
    transformPayloads: async (payloads) => (found.push(...payloads), payloads),
    skipSearchAttributes: true,
  });
  return found;
}
