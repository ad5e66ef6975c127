/**
 * A job library for the secret tests, loaded by a real `jipper worker` process (JIPPER_LIBRARIES): plain CommonJS on
 * the built package, as a team's compiled library would be. Its jobs do what careless jobs do with secrets — put them
 * in details, results, logs, heartbeats and errors — so the tests can show none of it gets out. Each job records
 * proof that it got the real value (a SHA-256 of it, never the value) under JIPPER_SANDBOX.
 */
const { createHash, randomBytes } = require('node:crypto');
const { mkdir, rm, writeFile } = require('node:fs/promises');
const { join } = require('node:path');
const { z } = require('zod');
const { defineJob, defineLibrary } = require('../../dist/index.js');

const sandbox = () => process.env.JIPPER_SANDBOX;
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

async function record(dir, key, value) {
  await mkdir(join(sandbox(), dir), { recursive: true });
  await writeFile(join(sandbox(), dir, `${key.replace(/\//g, '_')}.json`), JSON.stringify(value));
}

const connectDatabase = defineJob({
  name: 'connect-database',
  input: z.object({ user: z.string(), host: z.string(), password: z.string().min(8), token: z.string().min(8) }),
  async run(input, ctx) {
    ctx.heartbeat({ connecting: `${input.user}:${input.password}` });
    ctx.log.info(`connecting as ${input.user} with password ${input.password} and token ${input.token}`);
    await record('logins', ctx.idempotencyKey, { password: sha256(input.password), token: sha256(input.token) });
    ctx.setDetail(`logged in to ${input.host} as ${input.user} (password ${input.password})`);
    return { dsn: `postgres://${input.user}:${input.password}@${input.host}/app`, token: input.token };
  },
  async revert(input, _result, ctx) {
    await rm(join(sandbox(), 'logins', `${ctx.idempotencyKey.replace(/\/revert$/, '').replace(/\//g, '_')}.json`));
    ctx.setDetail(`logged ${input.user} out (password ${input.password})`);
  },
});

const mintToken = defineJob({
  name: 'mint-token',
  input: z.object({ service: z.string() }),
  secretResult: ['token'],
  async run(input, ctx) {
    const token = `tok-${randomBytes(12).toString('hex')}`;
    // Where the minted token goes for real (a vault); the test reads it from here to search for it everywhere else.
    await record('tokens', ctx.idempotencyKey, { token });
    ctx.setDetail(`minted ${token} for ${input.service}`);
    return { service: input.service, token, header: `Authorization: Bearer ${token}` };
  },
});

const failWithSecret = defineJob({
  name: 'fail-with-secret',
  input: z.object({ password: z.string() }),
  options: { retry: { maximumAttempts: 2, initialInterval: '100ms' } },
  async run(input, ctx) {
    ctx.log.warn(`about to fail with ${input.password}`);
    await record('failures', `${ctx.idempotencyKey}-${ctx.attempt}`, { password: sha256(input.password) });
    throw new Error(`the database refused password ${input.password}`);
  },
});

exports.library = defineLibrary('secret-tests', [connectDatabase, mintToken, failWithSecret]);
