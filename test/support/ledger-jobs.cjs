/**
 * A job library for the local-job crash tests, loaded by a real worker process (JIPPER_LIBRARIES) so a test can
 * SIGKILL it. `ledger-row` writes one row file per idempotency key under JIPPER_SANDBOX/rows (its effect: applied at
 * most once, whatever re-runs it) and appends every attempt of its run and revert to JIPPER_SANDBOX/attempts.log. A
 * file JIPPER_SANDBOX/hold/<stepId> (or <stepId>.revert) keeps that run (or revert) waiting until the test removes it;
 * `failAttempts: n` fails the first n attempts of a run (retryably).
 */
const { appendFile, mkdir, rm, writeFile, access } = require('node:fs/promises');
const { join } = require('node:path');
const { ApplicationFailure } = require('@temporalio/activity');
const { z } = require('zod');
const { defineJob, defineLibrary } = require('../../dist/index.js');

const sandbox = () => process.env.JIPPER_SANDBOX;
const rowFile = (key) => join(sandbox(), 'rows', key.replace(/\/revert$/, '').replace(/\//g, '_'));
const exists = (path) =>
  access(path).then(
    () => true,
    () => false
  );

async function holdWhile(name, ctx) {
  while (await exists(join(sandbox(), 'hold', name))) await ctx.sleep(20);
}

async function log(line) {
  await appendFile(join(sandbox(), 'attempts.log'), `${line}\n`);
}

const ledgerRow = defineJob({
  name: 'ledger-row',
  input: z.object({
    row: z.string(),
    refuse: z.boolean().default(false),
    // Attempts up to this one fail (retryably) before writing anything.
    failAttempts: z.number().int().min(0).default(0),
  }),
  options: { local: true, timeout: '20s', retry: { maximumAttempts: 2, initialInterval: '50ms' } },
  async run(input, ctx) {
    await log(`run ${ctx.idempotencyKey} ${ctx.attempt}`);
    await holdWhile(ctx.stepId, ctx);
    if (input.refuse) throw ApplicationFailure.nonRetryable(`row ${input.row} refused`, 'RowRefused');
    if (ctx.attempt <= input.failAttempts) throw ApplicationFailure.retryable(`row ${input.row} busy`, 'RowBusy');
    await mkdir(join(sandbox(), 'rows'), { recursive: true });
    // The idempotency key makes a re-run a no-op: `wx` refuses a row that is already there.
    await writeFile(rowFile(ctx.idempotencyKey), input.row, { flag: 'wx' }).catch((err) => {
      if (err.code !== 'EEXIST') throw err;
    });
    return { row: input.row };
  },
  async revert(_input, _result, ctx) {
    await log(`revert ${ctx.idempotencyKey} ${ctx.attempt}`);
    await holdWhile(`${ctx.stepId}.revert`, ctx);
    await rm(rowFile(ctx.idempotencyKey), { force: true });
  },
});

exports.library = defineLibrary('ledger', [ledgerRow]);
