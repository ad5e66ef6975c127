/**
 * This project's job library: the jobs that set up a team workspace. A job is a value with a stable name, a zod input
 * schema, a `run` and — when it can be undone — a `revert`. When a later job fails, Jipper reverts the jobs that
 * finished, newest first.
 *
 * These jobs work on files under a root directory (WORKSPACES_ROOT, default ./data) so you can see what they do.
 * Replace the bodies with calls to your own systems and keep the shape: a run made idempotent with
 * `ctx.idempotencyKey` (a retried attempt must not apply its effect twice), and a revert that undoes only its own run.
 */
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defineJob, defineLibrary, z } from 'jipper';

/** A workspace of that name belongs to another process: a domain error, never retried. */
export class WorkspaceTakenError extends Error {
  override readonly name = 'WorkspaceTakenError';
}

/** Asked to announce on a channel that does not exist: a domain error, never retried. */
export class UnknownChannelError extends Error {
  override readonly name = 'UnknownChannelError';
}

/** The channels `announce` can post to. Any other fails the job: that is how a run is made to fail on request. */
export const CHANNELS = ['general', 'ops', 'dev'];

const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and "-"');

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The workspace jobs, working under `root`. */
export function workspaceJobs(root: string) {
  const workspaceDir = (workspace: string) => join(root, 'workspaces', workspace);
  // Grants live apart from the workspace, as in an access-control service of their own.
  const grantFile = (workspace: string, user: string) => join(root, 'grants', `${workspace}--${user}.json`);

  const createWorkspace = defineJob({
    name: 'create-workspace',
    description: 'Create the workspace directory, owned by this process step.',
    input: z.object({ workspace: name }),
    options: { timeout: '30s', retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['WorkspaceTakenError'] } },
    async run({ workspace }, ctx) {
      const dir = workspaceDir(workspace);
      const owner = await readText(join(dir, 'owner'));
      if (owner !== undefined && owner !== ctx.idempotencyKey) {
        throw new WorkspaceTakenError(`workspace "${workspace}" already exists (made by ${owner})`);
      }
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'owner'), ctx.idempotencyKey);
      ctx.setDetail(`created ${dir}`);
      return { workspace, dir };
    },
    async revert({ workspace }, _result, ctx) {
      const dir = workspaceDir(workspace);
      // Only this step's own workspace: never another process's.
      if ((await readText(join(dir, 'owner'))) !== `${ctx.processId}/${ctx.stepId}`) return;
      await rm(dir, { recursive: true, force: true });
      ctx.setDetail(`removed ${dir}`);
    },
  });

  const grantAccess = defineJob({
    name: 'grant-access',
    description: 'Give a user a role on the workspace.',
    input: z.object({ workspace: name, user: name, role: z.enum(['read', 'write', 'admin']) }),
    options: { timeout: '30s' },
    async run({ workspace, user, role }, ctx) {
      await mkdir(join(root, 'grants'), { recursive: true });
      await writeFile(grantFile(workspace, user), JSON.stringify({ role, key: ctx.idempotencyKey }));
      ctx.setDetail(`${user} is ${role} on ${workspace}`);
      return { user, role };
    },
    async revert({ workspace, user }, _result, ctx) {
      const grant = grantFile(workspace, user);
      const text = await readText(grant);
      if (text === undefined || (JSON.parse(text) as { key: string }).key !== `${ctx.processId}/${ctx.stepId}`) return;
      await rm(grant, { force: true });
      ctx.setDetail(`revoked ${user} on ${workspace}`);
    },
  });

  // No revert: a message once posted stays posted, so unwinding skips it.
  const announce = defineJob({
    name: 'announce',
    description: 'Post that the workspace is ready.',
    input: z.object({ workspace: name, channel: z.string().min(1) }),
    options: { timeout: '30s', retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['UnknownChannelError'] } },
    async run({ workspace, channel }, ctx) {
      if (!CHANNELS.includes(channel)) {
        throw new UnknownChannelError(`no channel "${channel}" (channels: ${CHANNELS.join(', ')})`);
      }
      const log = join(root, 'announcements.log');
      if (!((await readText(log)) ?? '').includes(` ${ctx.idempotencyKey}\n`)) {
        await mkdir(root, { recursive: true });
        await appendFile(log, `#${channel}: workspace ${workspace} is ready ${ctx.idempotencyKey}\n`);
      }
      ctx.setDetail(`posted on #${channel}`);
      return { channel };
    },
  });

  return { createWorkspace, grantAccess, announce };
}

/** The library for a root directory (tests give each run a fresh one). */
export function workspaceLibrary(root: string) {
  return defineLibrary('workspaces', Object.values(workspaceJobs(root)));
}

/** The library the worker registers (jipper.config.ts names this module). */
export const library = workspaceLibrary(resolve(process.env.WORKSPACES_ROOT ?? 'data'));

/**
 * Whether each job's effect stands, by job name: what the tests check after every run (jipper/testing's
 * `expectEffects`), so a revert that did not undo its job — or undid another's — fails a test.
 */
export function workspaceEffects(root: string) {
  return {
    'create-workspace': async (input: { workspace: string }, call: { processId: string; stepId: string }) =>
      (await readText(join(root, 'workspaces', input.workspace, 'owner'))) === `${call.processId}/${call.stepId}`,
    'grant-access': async (input: { workspace: string; user: string }, call: { processId: string; stepId: string }) => {
      const text = await readText(join(root, 'grants', `${input.workspace}--${input.user}.json`));
      return text !== undefined && (JSON.parse(text) as { key: string }).key === `${call.processId}/${call.stepId}`;
    },
    announce: async (_input: unknown, call: { processId: string; stepId: string }) =>
      ((await readText(join(root, 'announcements.log'))) ?? '').includes(` ${call.processId}/${call.stepId}\n`),
  };
}
