/**
 * Every size limit Jipper enforces, with its reason. Temporal refuses any payload over 2 MB (and gRPC any request
 * over 4 MB), and a refused command is retried forever: a run would be stuck, not failed. Jipper checks sizes before
 * that can happen, so a run is refused or fails with a clear error instead.
 */

/**
 * Most bytes (JSON) of a start request's input and memo: the definition, the params and the job facts. Below
 * Temporal's 2 MB payload limit with room for the rest of the request; over it the client refuses the start
 * (`PayloadTooLargeError`) and nothing starts.
 */
export const MAX_START_PAYLOAD_BYTES = 1_500_000;

/** Most characters of a definition's description kept in the memo (shown in the Web UI's list); the input has all. */
export const MAX_MEMO_DESCRIPTION_CHARS = 2_000;

/** Most characters of a run's one-line summary in the Web UI. */
export const MAX_SUMMARY_CHARS = 200;

/** Most characters of a run's static details (the definition's outline) in the Web UI. */
export const MAX_STATIC_DETAILS_CHARS = 4_000;

/**
 * Most jobs a process may have: 2,000. A long process carries its whole state (plan, report, revert stack) from run
 * to run when it continues as new, in one payload; measured, a 2,000-job process carries about 1.3 MB (small args
 * and results).
 */
export const MAX_JOBS = 2_000;

/**
 * Most bytes (JSON) of one job's result with its detail: 256 KiB. Results live in the process's history, in the
 * report and in the calls of the jobs that use them; return a reference (a path or URL) to large data instead.
 */
export const MAX_JOB_RESULT_BYTES = 256 * 1024;

/**
 * Most bytes (JSON) the results of one process's jobs may weigh together: 512 KiB. The report carries every result
 * and is the workflow's result, its failure's details, and the state carried across continue-as-new.
 */
export const MAX_PROCESS_RESULTS_BYTES = 512 * 1024;

/** Most characters of a job's detail: it goes into the report and the Web UI, not into storage; longer is cut. */
export const MAX_DETAIL_CHARS = 8_000;

/**
 * Most characters of JSON a continue-as-new may carry (the definition and the whole state): below the 2 MB payload
 * limit. Over it the run goes on in the same history instead (and logs it), since Temporal would refuse the
 * continue-as-new on every retry.
 */
export const MAX_CARRIED_CHARS = 1_800_000;

/**
 * Default history length at which a long process continues as new (Temporal warns at 10,240 events). Jipper does not
 * continue at Temporal's earlier suggestion (4,096 events): every continue-as-new writes the carried state into the
 * history twice, so continuing early makes a long process's history grow with the square of its steps.
 */
export const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 8_000;

/** History bytes at which a run continues as new whatever its event count (Temporal warns at 10 MB, fails at 50 MB). */
export const CONTINUE_AS_NEW_AFTER_BYTES = 8 * 1024 * 1024;

/** Most job rows the Web UI's current details show (the newest); the report itself keeps all. */
export const MAX_RENDERED_ROWS = 60;

/** Most characters of one cell of the Web UI's report table. */
export const MAX_RENDERED_CELL_CHARS = 240;
