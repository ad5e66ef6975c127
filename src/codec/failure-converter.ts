/**
 * The failure converter of an encrypting worker: Temporal's default one, with failure messages and stack traces moved
 * into the failure's encoded attributes, so the payload codec encrypts them too (a job's error message may carry job
 * data). Error types stay in plaintext: they are class names (`QuotaAboveLimitError`), which retry policies match.
 *
 * Loaded by path (`failureConverterPath`), in the worker and inside the workflow sandbox, whose bundle is built with
 * it (`bundleJipperWorkflows({ encrypted: true })`): it imports nothing but `@temporalio/common`.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
