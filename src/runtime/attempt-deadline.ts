/**
 * An attempt's own deadline, kept by the worker that runs it.
 *
 * Temporal times an attempt out on the server, and schedules its retry right away, but the worker running it hears of
 * it only later: when a heartbeat comes back refused, or when the SDK's own timer fires, which waits the timeout plus
 * a 5 s buffer (`local_timeout_buffer_for_activities` in sdk-core). Until then the attempt's cancellation signal
 * stays quiet, and a job that waits without heartbeating — for a lock, say — goes on for seconds after its retry has
 * started, and may write after the retry succeeded and the process unwound. {@link AttemptDeadline} aborts its signal
 * when the attempt passes its start-to-close timeout, counted from when this worker started it (so never before the
 * server's, which starts earlier), or its heartbeat timeout, counted from the job's last heartbeat call.
 */
import { performance } from 'node:perf_hooks';
import { ApplicationFailure } from '@temporalio/activity';
import { ATTEMPT_EXPIRED_TYPE } from '../shared/errors';

export interface AttemptTimeouts {
  /** The attempt's start-to-close timeout, in ms (0 or undefined: none). */
  startToCloseTimeoutMs?: number;
  /** The attempt's heartbeat timeout, in ms (0 or undefined: none). */
  heartbeatTimeoutMs?: number;
  /** When this worker started the attempt, in `performance.now()` time (default: now). */
  startedAt?: number;
}

const ms = (n: number) => (n % 1000 ? `${n} ms` : `${n / 1000} s`);

export class AttemptDeadline {
  private readonly controller = new AbortController();
  private readonly startedAt: number;
  private lastBeat: number;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly timeouts: AttemptTimeouts) {
    this.startedAt = timeouts.startedAt ?? performance.now();
    this.lastBeat = this.startedAt;
    this.arm();
  }

  /** Aborted, with an ApplicationFailure of type {@link ATTEMPT_EXPIRED_TYPE}, once the attempt is past its deadline. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  /** The job heartbeated: its heartbeat timeout counts from now. */
  beat(): void {
    this.lastBeat = performance.now();
  }

  /** Stops the timer (the attempt is over). */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
  }

  /** The earliest deadline still ahead, and why, in `performance.now()` time. */
  private next(): { at: number; why: string } | undefined {
    const { startToCloseTimeoutMs: total, heartbeatTimeoutMs: beat } = this.timeouts;
    const candidates: { at: number; why: string }[] = [];
    if (total) candidates.push({ at: this.startedAt + total, why: `its start-to-close timeout (${ms(total)})` });
    if (beat)
      candidates.push({ at: this.lastBeat + beat, why: `its heartbeat timeout (${ms(beat)}) without a heartbeat` });
    return candidates.sort((a, b) => a.at - b.at)[0];
  }

  private arm(): void {
    const next = this.next();
    if (!next || this.disposed) return;
    this.timer = setTimeout(
      () => {
        const due = this.next();
        if (!due || this.disposed) return;
        if (due.at > performance.now()) {
          this.arm();
          return;
        }
        this.controller.abort(
          ApplicationFailure.create({
            type: ATTEMPT_EXPIRED_TYPE,
            message: `the attempt passed ${due.why}; Temporal has given up on it, and retries or fails the job`,
          })
        );
      },
      Math.max(0, Math.ceil(next.at - performance.now()))
    );
  }
}
