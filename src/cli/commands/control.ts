/** `jipper cancel <id>` and `jipper decide <id> <step> <decision>`: an operator acting on a running process. */
import type { Command } from 'commander';
import { Argument } from 'commander';
import type { Decision } from '../../shared/report';
import { cancelProcess, decide, getReport, isWaiting } from '../../client';
import { UsageError } from '../errors';
import { action, withClient } from '../context';

const DECISIONS: readonly Decision[] = ['retry', 'skip', 'mark-reverted'];

export function registerControl(program: Command): void {
  program
    .command('cancel')
    .description(
      'Cancel a process: forward progress stops and it unwinds as after a failure (reverts still run). A process waiting for a delayed start ends cancelled with nothing to unwind.'
    )
    .argument('<id>', 'workflow id of the process')
    .action(
      action(async (id: string) =>
        withClient(async (client) => {
          const description = await client.workflow.getHandle(id).describe();
          const { status } = description;
          if (status.name !== 'RUNNING') {
            const report = await getReport(client, id).catch(() => undefined);
            throw new UsageError(
              `${id} has already ended (${report?.status ?? status.name.toLowerCase()}); nothing to cancel`
            );
          }
          await cancelProcess(client, id);
          if (isWaiting(description)) {
            console.log(`cancellation requested: ${id} had not started; it ends cancelled, nothing to unwind`);
          } else console.log(`cancellation requested: ${id} stops and unwinds (jipper status ${id})`);
        })
      )
    );

  program
    .command('decide')
    .description(
      'Settle a parked job: retry it (or its revert), skip it, or record that a person reverted it by hand (mark-reverted).'
    )
    .argument('<id>', 'workflow id of the process')
    .argument('<step>', 'step id of the parked job')
    .addArgument(new Argument('<decision>', 'what to do').choices(DECISIONS))
    .action(
      action(async (id: string, step: string, decision: Decision) =>
        withClient(async (client) => {
          await decide(client, id, step, decision);
          console.log(`${id}: ${decision} accepted for step ${step}`);
        })
      )
    );
}
