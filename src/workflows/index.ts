/**
 * Every workflow the Jipper worker registers. This file is the workflow bundle's entry point: it (and everything it
 * imports) runs in Temporal's deterministic sandbox.
 */
export { jipperProcess } from './process-workflow';
export { jipperTokenKeeper } from './token-keeper';
