/**
 * The message that settles a wait step: an approval, a rejection, or an event (a Temporal Update, so the sender learns
 * at once whether it applied; one that does not apply is refused in one line and changes nothing). Clients import it
 * too; it carries a name and types only.
 */
import { defineUpdate } from '@temporalio/workflow';
import type { WaitMessage } from '../core/waits';

export type { WaitMessage };

export interface WaitResponse {
  /** The wait step it settled. */
  stepId: string;
  outcome: 'approved' | 'rejected' | 'received';
}

/** Settles an open wait step; refused (with the reason) when no open wait fits it. */
export const waitUpdate = defineUpdate<WaitResponse, [WaitMessage]>('jipper.wait');
