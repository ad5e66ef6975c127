/**
 * Registers Jipper's search attributes (`JipperProcess`, `JipperStatus`) on a namespace that lacks them. Workers do it
 * on start and the embedded dev server at launch: a workflow that upserts an unregistered attribute fails its task.
 */
import type { ConnectionLike } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { JIPPER_SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import type { LogLine } from '../shared/text';
import { oneLine } from '../shared/text';

/** A search attribute Jipper needs exists on the server with another type. */
export class SearchAttributeConflictError extends Error {
  override readonly name = 'SearchAttributeConflictError';
}

/**
 * Registers each of Jipper's search attributes (see `src/shared/search-attributes.ts`) that the namespace lacks.
 * Idempotent, and safe when several workers run it at once. Servers that do not offer the operator API (Temporal
 * Cloud manages search attributes elsewhere) are logged and skipped: `checked` is then `false`.
 *
 * @throws SearchAttributeConflictError when an attribute exists with a different type.
 */
export async function ensureSearchAttributes(
  connection: Pick<ConnectionLike, 'operatorService'>,
  namespace: string,
  log: LogLine = () => undefined
): Promise<{ added: string[]; checked: boolean }> {
  let existing: Record<string, number>;
  try {
    const response = await connection.operatorService.listSearchAttributes({ namespace });
    existing = response.customAttributes ?? {};
  } catch (err) {
    if (grpcCode(err) === GRPC_PERMISSION_DENIED || grpcCode(err) === GRPC_UNIMPLEMENTED) {
      log(`search attributes: cannot list them on this server (${oneLine(err)}); register them yourself`);
      return { added: [], checked: false };
    }
    throw err;
  }

  const missing: Record<string, number> = {};
  for (const key of JIPPER_SEARCH_ATTRIBUTES) {
    const wanted = indexedValueType(key.type);
    const found = existing[key.name];
    if (found === undefined) missing[key.name] = wanted;
    else if (found !== wanted) {
      throw new SearchAttributeConflictError(
        `search attribute ${key.name} exists in namespace ${namespace} with another type than ${key.type}; remove or rename it`
      );
    }
  }
  const added = Object.keys(missing);
  if (added.length === 0) return { added, checked: true };
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (err) {
    if (grpcCode(err) !== GRPC_ALREADY_EXISTS) throw err;
  }
  log(`search attributes: registered ${added.join(', ')} in namespace ${namespace}`);
  return { added, checked: true };
}

const GRPC_ALREADY_EXISTS = 6;

const GRPC_PERMISSION_DENIED = 7;

const GRPC_UNIMPLEMENTED = 12;

function grpcCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'number' ? err.code : undefined;
}

function indexedValueType(type: (typeof JIPPER_SEARCH_ATTRIBUTES)[number]['type']): number {
  const encoded = encodeSearchAttributeIndexedValueType(type);
  if (encoded === undefined) throw new Error(`unknown search attribute type ${type}`);
  return encoded;
}
