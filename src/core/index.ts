/**
 * The saga core: the process state and every rule of a saga, as pure functions — sandbox-safe (no Temporal, no zod,
 * no Node built-ins), so the workflow, the preview (`jipper plan`) and the testing kit's predicted outcome all run the
 * same rules, and tests check them without a server.
 *
 * - `state` — the process state, carried across continue-as-new, and the revert stack's one push;
 * - `graph` — readiness: which steps may start (lists, groups and their success policies, `needs`);
 * - `failure` — what a failure, a timeout, a cancellation or a deadline does (failure classes, probes, the pivot and
 *   `afterPivot`, `revertOn` / `otherwise`, park), and how a stopped process ends;
 * - `unwinding` — the revert waves and how an unwinding ends;
 * - `carry` — what continue-as-new carries;
 * - `simulate` — the core on a simulated clock (the preview's and the predicted outcome's driver);
 * - `tokens` — the token keeper's ledger: grants, waits, and the waits that would deadlock;
 * - `local` — what a local job (a local activity) may be.
 * - `waits` — approval and event steps: what a rejection and an expiry do, which decisions apply, `match`.
 */
export * from './state';
export * from './graph';
export * from './failure';
export * from './unwinding';
export * from './carry';
export * from './simulate';
export * from './tokens';
export * from './local';
export * from './waits';
export * from './children';
