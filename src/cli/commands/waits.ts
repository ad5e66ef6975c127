/**
 * Settling wait steps from the command line: `jipper approve <id> <step>`, `jipper reject <id> <step> --reason`, and
 * `jipper send-event <name> --data JSON [--to <id>]`. Each is refused in one line, changing nothing, when it does not
 * apply to the process now (no such wait open, a decider not among the step's approvers, an event that does not match).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { approve, reject, sendEvent } from '../../client';
import { eventNameSchema } from '../../client/waits';
import { parseWith, processId, reason, stepId } from '../args';
import { EXIT_FAILED } from '../errors';
import { out, printJson } from '../io';
import { action, withClient } from '../context';

const identity = parseWith(z.string().trim().min(1, 'expected a name').max(200, 'a name has at most 200 characters'));
const eventName = parseWith(eventNameSchema);
const jsonData = parseWith(
  z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `--data is not JSON: ${(err as Error).message}` });
      return z.NEVER;
    }
  })
);

interface DecisionFlags {
  reason?: string;
  as?: string;
  json?: boolean;
}

export function registerWaits(program: Command): void {
  program
    .command('approve')
    .description(
      'Approve a waiting approval step: it succeeds and the process goes on. Refused when the step is not waiting, or when you are not among its approvers (--as, else JIPPER_IDENTITY, else the OS user: a guard against mistakes, not authorization).'
    )
    .argument('<id>', 'workflow id of the process', processId)
    .argument('<step>', 'step id of the approval', stepId)
    .option('--reason <text>', 'why, for the report', reason)
    .option(
      '--as <name>',
      "who decides (default: JIPPER_IDENTITY, else the config file's identity, else the OS user)",
      identity
    )
    .option('--json', 'print { id, stepId, outcome } as JSON')
    .action(
      action(async (id: string, step: string, options: DecisionFlags) =>
        withClient(async (client, config) => {
          const response = await approve(client, id, step, { ...options, as: options.as ?? config.identity });
          if (options.json) return printJson({ id, ...response });
          out(`${id}: step ${step} approved`);
        })
      )
    );
  program
    .command('reject')
    .description('Reject a waiting approval step: it fails (a business failure) and the process unwinds.')
    .argument('<id>', 'workflow id of the process', processId)
    .argument('<step>', 'step id of the approval', stepId)
    .requiredOption('--reason <text>', 'why, for the report (required)', reason)
    .option(
      '--as <name>',
      "who decides (default: JIPPER_IDENTITY, else the config file's identity, else the OS user)",
      identity
    )
    .option('--json', 'print { id, stepId, outcome } as JSON')
    .action(
      action(async (id: string, step: string, options: DecisionFlags & { reason: string }) =>
        withClient(async (client, config) => {
          const response = await reject(client, id, step, { ...options, as: options.as ?? config.identity });
          if (options.json) return printJson({ id, ...response });
          out(`${id}: step ${step} rejected; the process unwinds (jipper watch ${id})`);
        })
      )
    );
  registerSendEvent(program);
}

function registerSendEvent(program: Command): void {
  program
    .command('send-event')
    .description(
      'Send an event: it settles the waits for that name whose match holds, in the process --to names, or in every running process waiting for it (found by the JipperWaitingFor search attribute). Exit code 1 when no process took it.'
    )
    .argument('<name>', 'the event name, e.g. payment.settled', eventName)
    .requiredOption('--data <json>', "the event's data (JSON), readable by later steps with $from", jsonData)
    .option('--to <id>', 'send to this process only', processId)
    .option('--json', 'print { delivered, refused } as JSON')
    .action(
      action(async (name: string, options: { data: unknown; to?: string; json?: boolean }) =>
        withClient(async (client) => {
          const sent = await sendEvent(client, name, options.data, options.to !== undefined ? { to: options.to } : {});
          if (options.json) printJson(sent);
          else {
            for (const d of sent.delivered) out(`${d.processId}: step ${d.stepId} received ${name}`);
            for (const r of sent.refused) out(`${r.processId}: not taken: ${r.reason}`);
            if (!sent.delivered.length) out(`no process took event ${name}`);
          }
          return sent.delivered.length ? undefined : EXIT_FAILED;
        })
      )
    );
}
