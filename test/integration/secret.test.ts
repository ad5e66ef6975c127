/**
 * Secrets never reach history: a real `jipper worker` process reads `{ $secret: ... }` references from its providers
 * (a mounted secrets directory and the environment), its jobs get the real values, and careless jobs put them in
 * details, results, heartbeats, logs and errors — yet no byte of the run's history, no output of the `jipper` command
 * (start, status, report as table, JSON and Markdown, history) and no line of the worker's log holds a value: each
 * shows as `‹secret name›`. A job's result fields marked secret (a minted token) never leave the worker either. Run
 * without payload encryption, so nothing but the redaction keeps the values out. A missing secret fails clearly.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { temporal } from '@temporalio/proto';
import type { ProcessReport } from '../../src/shared/report';
import { CLI_PATH, jipper, requireBuiltCli } from '../support/cli';
import { testConnection } from '../support/server';
import { serverAddress } from '../support/worker';

const PASSWORD = `db-${randomBytes(12).toString('base64url')}`;
const API_TOKEN = `api-${randomBytes(12).toString('base64url')}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let scratch: string;
let sandbox: string;
let workerLog: string;
let worker: ChildProcess;
let env: NodeJS.ProcessEnv;
let conn: Awaited<ReturnType<typeof testConnection>>;
const outputs: string[] = [];

function definitionFile(name: string, steps: unknown[]): string {
  const file = join(scratch, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, steps }, null, 2));
  return file;
}

async function cli(args: string[]) {
  const result = await jipper(args, env);
  outputs.push(`$ jipper ${args.join(' ')}\n${result.stdout}${result.stderr}`);
  return result;
}

beforeAll(async () => {
  requireBuiltCli();
  scratch = mkdtempSync(join(tmpdir(), 'jipper-secret-'));
  sandbox = join(scratch, 'sandbox');
  const mounted = join(scratch, 'run-secrets');
  mkdirSync(mounted, { recursive: true });
  writeFileSync(join(mounted, 'db-password'), `${PASSWORD}\n`, { mode: 0o600 });
  const taskQueue = `secret-${randomUUID()}`;
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: serverAddress(),
    JIPPER_TASK_QUEUE: taskQueue,
    JIPPER_LIBRARIES: resolve('test/support/secret-jobs.cjs'),
    JIPPER_SANDBOX: sandbox,
    NO_COLOR: '1',
  };
  workerLog = join(scratch, 'worker.log');
  const out = openSync(workerLog, 'a');
  try {
    worker = spawn(process.execPath, [CLI_PATH, 'worker'], {
      env: { ...env, JIPPER_SECRETS: `file:${mounted},env`, JIPPER_SECRET_API_TOKEN: API_TOKEN },
      stdio: ['ignore', out, out],
    });
  } finally {
    closeSync(out);
  }
  const deadline = Date.now() + 60_000;
  while (!readFileSync(workerLog, 'utf8').includes(`worker on task queue "${taskQueue}"`)) {
    if (worker.exitCode !== null) throw new Error(`jipper worker exited:\n${readFileSync(workerLog, 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`jipper worker did not start:\n${readFileSync(workerLog, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  conn = await testConnection();
}, 120_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGINT');
    await exited;
  }
  await conn?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('a process whose jobs use secrets, run by `jipper worker`', () => {
  const id = `secret-${randomUUID().slice(0, 8)}`;
  let report: ProcessReport;
  let mintedToken: string;

  beforeAll(async () => {
    const file = definitionFile('use-secrets', [
      {
        id: 'login',
        job: 'connect-database',
        args: { user: 'app', host: 'db-1', password: { $secret: 'db-password' }, token: { $secret: 'api-token' } },
      },
      { id: 'mint', job: 'mint-token', args: { service: 'billing' } },
      { id: 'break', job: 'fail-with-secret', args: { password: { $secret: 'db-password' } } },
    ]);
    expect((await cli(['validate', file])).code).toBe(0);
    const started = await cli(['start', file, '--id', id, '--wait']);
    expect(started.code).toBe(1);
    const fromJson = await cli(['report', id, '--json']);
    report = JSON.parse(fromJson.stdout) as ProcessReport;
    await cli(['report', id]);
    await cli(['report', id, '--markdown']);
    await cli(['status', id]);
    await cli(['status', id, '--json']);
    await cli(['history', id]);
    await cli(['list', '--limit', '50']);
    const tokens = readdirSync(join(sandbox, 'tokens'));
    expect(tokens).toHaveLength(1);
    mintedToken = (JSON.parse(readFileSync(join(sandbox, 'tokens', tokens[0] as string), 'utf8')) as { token: string })
      .token;
  }, 120_000);

  it('gave the jobs the real values, read from the mounted file and the environment', () => {
    expect(JSON.parse(readFileSync(join(sandbox, 'failures', `${id}_break-1.json`), 'utf8'))).toEqual({
      password: sha256(PASSWORD),
    });
    // The login was reverted when `break` failed: its record is gone, and the revert got the secret again.
    expect(readdirSync(join(sandbox, 'logins'))).toEqual([]);
    expect(report).toMatchObject({ status: 'reverted', failedStep: 'break', revertOrder: ['login'] });
  });

  it('shows each secret as ‹secret name› where its value would have been', () => {
    const login = report.jobs.find((j) => j.stepId === 'login');
    expect(login?.detail).toBe('logged in to db-1 as app (password ‹secret db-password›)');
    expect(login?.result).toEqual({ dsn: 'postgres://app:‹secret db-password›@db-1/app', token: '‹secret api-token›' });
    expect(login?.revert?.detail).toBe('logged app out (password ‹secret db-password›)');
    const mint = report.jobs.find((j) => j.stepId === 'mint');
    expect(mint?.result).toEqual({
      service: 'billing',
      token: '‹secret mint.token›',
      header: 'Authorization: Bearer ‹secret mint.token›',
    });
    expect(mint?.detail).toBe('minted ‹secret mint.token› for billing');
    const broken = report.jobs.find((j) => j.stepId === 'break');
    expect(broken?.error).toMatchObject({
      type: 'Error',
      message: 'the database refused password ‹secret db-password›',
    });
    expect(readFileSync(workerLog, 'utf8')).toContain(
      'connecting as app with password ‹secret db-password› and token ‹secret api-token›'
    );
  });

  it('has no secret value in any byte of its history, in any command output, or in the worker log', async () => {
    const history = await conn.client.workflow.getHandle(id).fetchHistory();
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    const haystacks: [string, Buffer][] = [
      ['history (protobuf bytes)', bytes],
      ['jipper command output', Buffer.from(outputs.join('\n'))],
      ['worker log', readFileSync(workerLog)],
    ];
    expect(outputs.join('\n')).toContain('‹secret db-password›');
    for (const value of [PASSWORD, API_TOKEN, mintedToken]) {
      for (const [where, haystack] of haystacks) {
        for (const form of [value, Buffer.from(value).toString('base64')]) {
          expect({ where, found: haystack.includes(form) }).toEqual({ where, found: false });
        }
      }
    }
    // The references themselves are in the history: names, which are not secret.
    expect(bytes.includes('{"$secret":"db-password"}')).toBe(true);
  });
});

describe('a secret the workers do not have', () => {
  it('fails the job for good, naming the secret and where it is used, and the process unwinds', async () => {
    const id = `secret-missing-${randomUUID().slice(0, 8)}`;
    const file = definitionFile('missing-secret', [
      { id: 'mint', job: 'mint-token', args: { service: 'billing' } },
      {
        id: 'login',
        job: 'connect-database',
        args: { user: 'a', host: 'h', password: { $secret: 'db-pasword' }, token: 'x'.repeat(8) },
      },
    ]);
    expect((await cli(['start', file, '--id', id, '--wait'])).code).toBe(1);
    const report = JSON.parse((await cli(['report', id, '--json'])).stdout) as ProcessReport;
    expect(report).toMatchObject({ status: 'reverted', failedStep: 'login' });
    expect(report.jobs.find((j) => j.stepId === 'login')).toMatchObject({
      error: {
        type: 'JipperSecretMissing',
        nonRetryable: true,
        message: `secret "db-pasword" (at args.password of step "login") is not set on this worker: files in ${join(scratch, 'run-secrets')}, then the environment (JIPPER_SECRET_*) has no such secret`,
      },
    });
  });
});
