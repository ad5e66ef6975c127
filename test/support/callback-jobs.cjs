/**
 * A job library for the callback tests, loaded by a real worker process (JIPPER_LIBRARIES): plain CommonJS on the
 * built package. `charge` is completed from outside: its run hands its completion token to a file under
 * JIPPER_SANDBOX (as a job would send it to a payment provider) and ends. Every run and revert appends a line to
 * `<JIPPER_SANDBOX>/ledger.jsonl`, the effects the tests check.
 */
const { appendFile, mkdir, writeFile } = require('node:fs/promises');
const { join } = require('node:path');
const { z } = require('zod');
const { defineJob, defineLibrary } = require('../../dist/index.js');

const sandbox = () => process.env.JIPPER_SANDBOX;

async function ledger(entry) {
  await mkdir(sandbox(), { recursive: true });
  await appendFile(join(sandbox(), 'ledger.jsonl'), `${JSON.stringify({ ...entry, pid: process.pid })}\n`);
}

const reserve = defineJob({
  name: 'reserve-stock',
  input: z.object({ orderId: z.string() }),
  async run(input, ctx) {
    await ledger({ kind: 'run', job: 'reserve-stock', processId: ctx.processId, attempt: ctx.attempt });
    return { reservation: `res-${input.orderId}` };
  },
  async revert(_input, result, ctx) {
    await ledger({ kind: 'revert', job: 'reserve-stock', processId: ctx.processId, result });
  },
});

const charge = defineJob({
  name: 'charge-card',
  input: z.object({ orderId: z.string(), amount: z.number() }),
  options: { retry: { maximumAttempts: 1 } },
  async run(input, ctx) {
    await ledger({ kind: 'run', job: 'charge-card', processId: ctx.processId, attempt: ctx.attempt });
    return ctx.completeLater(async (token) => {
      await mkdir(join(sandbox(), 'tokens'), { recursive: true });
      await writeFile(join(sandbox(), 'tokens', `${ctx.processId}.${ctx.attempt}`), token);
    });
  },
  async revert(_input, result, ctx) {
    await ledger({ kind: 'revert', job: 'charge-card', processId: ctx.processId, result: result ?? null });
  },
});

const ship = defineJob({
  name: 'ship-order',
  input: z.object({ orderId: z.string(), chargeId: z.string() }),
  async run(input, ctx) {
    await ledger({ kind: 'run', job: 'ship-order', processId: ctx.processId, chargeId: input.chargeId });
    return { shipped: input.orderId };
  },
});

/** Fails its run (after the charge), so the process unwinds. */
const refuse = defineJob({
  name: 'refuse-order',
  input: z.object({ reason: z.string() }),
  options: { retry: { maximumAttempts: 1 } },
  async run(input) {
    throw new Error(input.reason);
  },
});

/** Calls completeLater in its revert, which only a run may. */
const badRevert = defineJob({
  name: 'complete-later-in-revert',
  input: z.object({}),
  async run() {
    return {};
  },
  async revert(_input, _result, ctx) {
    await ctx.completeLater(() => undefined);
  },
});

exports.library = defineLibrary('callback-tests', [reserve, charge, ship, refuse, badRevert]);
