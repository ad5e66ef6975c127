/**
 * Secrets that jobs transform, on the run's real Temporal server, without payload encryption (so only redaction keeps
 * them out): a job that builds a URL, a JSON body and a Basic auth header from a secret, and puts them in its result,
 * detail and error, leaves none of those forms in the raw history — searched as bytes and inside every base64 string
 * it holds. The workers' secret routes refuse a definition that sends a secret to another job, before any job runs; a
 * secret too short to redact safely is refused before the job gets it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { defineJob, defineLibrary } from '../../src';
import { getReport, runProcess, waitForReport } from '../../src/client';
import { buildStartRequest } from '../../src/client/start';
import { encodingsOf } from '../../src/runtime/redact';
import { JobRegistry } from '../../src/runtime/registry';
import { envSecrets, withSecretRoutes } from '../../src/runtime/secrets';
import type { TestWorker } from '../../src/testing/worker';
import { startTestWorker } from '../../src/testing/worker';

// '/', '@', '+', ' ' and '"' change under URL encoding, JSON escaping and base64 alike.
const SECRET = `p/${randomBytes(9).toString('base64')}@ "x+${randomUUID().slice(0, 6)}`;
const received: { job: string; password: string }[] = [];

const input = z.object({ user: z.string(), password: z.string() });
const forms = (i: z.infer<typeof input>) => ({
  url: `postgres://${i.user}:${encodeURIComponent(i.password)}@db/app`,
  body: JSON.stringify({ user: i.user, password: i.password }),
  auth: `Basic ${Buffer.from(`${i.user}:${i.password}`).toString('base64')}`,
  token: Buffer.from(i.password).toString('base64url'),
});
const library = defineLibrary('secret-encodings', [
  defineJob({
    name: 'connect',
    input,
    async run(i, ctx) {
      received.push({ job: 'connect', password: i.password });
      const f = forms(i);
      ctx.setDetail(`connected to ${f.url} with ${f.auth}`);
      return f;
    },
  }),
  defineJob({
    name: 'connect-fails',
    input,
    options: { retry: { maximumAttempts: 1 } },
    async run(i) {
      received.push({ job: 'connect-fails', password: i.password });
      const f = forms(i);
      throw new Error(`refused ${f.url}; sent ${f.body}; header ${f.auth}`);
    },
  }),
  defineJob({
    name: 'audit',
    input: z.object({ line: z.string() }),
    async run(i) {
      received.push({ job: 'audit', password: i.line });
      return { logged: i.line };
    },
  }),
]);

let tw: TestWorker;
let registry: JobRegistry;
const routes = { db: ['connect', 'connect-fails'], short: ['connect'] };

beforeAll(async () => {
  registry = new JobRegistry([library]);
  const secrets = withSecretRoutes(envSecrets({ JIPPER_SECRET_DB: SECRET, JIPPER_SECRET_SHORT: 'tiny12' }), routes);
  tw = await startTestWorker([library], { name: 'secret-encodings', secrets });
});

afterAll(async () => {
  await tw?.shutdown();
});

const run = (steps: unknown[], client = registry) =>
  runProcess(tw.client, { name: 'secret-encodings', steps }, { taskQueue: tw.taskQueue, registry: client });

/** The raw history's bytes, with every base64 string in it decoded and added. */
async function historyText(id: string): Promise<string> {
  const history = await tw.client.workflow.getHandle(id).fetchHistory();
  const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('utf8');
  const decoded = [...bytes.matchAll(/[A-Za-z0-9+/_-]{12,}={0,2}/g)].map((m) =>
    Buffer.from(m[0], m[0].includes('-') || m[0].includes('_') ? 'base64url' : 'base64').toString('utf8')
  );
  return [bytes, ...decoded].join('\n');
}

function expectNoSecret(text: string): void {
  expect(text).not.toContain(SECRET);
  for (const form of encodingsOf(SECRET)) expect(text).not.toContain(form);
}

describe('transformed secrets on a real server', () => {
  it('keeps the URL-encoded, JSON-escaped and base64 forms out of the result, detail and history', async () => {
    const report = await run([{ id: 'c', job: 'connect', args: { user: 'app', password: { $secret: 'db' } } }]);
    expect(report.status).toBe('succeeded');
    // The job got the real value, and built every form from it.
    expect(received).toContainEqual({ job: 'connect', password: SECRET });
    const text = await historyText(report.processId);
    expect(text).toContain('‹secret db›');
    expectNoSecret(text);
    expectNoSecret(JSON.stringify(await getReport(tw.client, report.processId)));
  });

  it('keeps them out of a failure message too', async () => {
    const report = await run([{ id: 'f', job: 'connect-fails', args: { user: 'app', password: { $secret: 'db' } } }]);
    expect(report.status).toBe('reverted');
    expect(report.error?.message).toContain('refused postgres://app:‹secret db›@db/app');
    expectNoSecret(await historyText(report.processId));
  });

  const misrouted = [
    { id: 'c', job: 'connect', args: { user: 'app', password: { $secret: 'db' } } },
    { id: 'log', job: 'audit', args: { line: { $secret: 'db' } } },
  ];
  const refusal = `secret "db" may go only to jobs "connect", "connect-fails" (the workers' secret routes), not to "audit"`;

  it('refuses, at planning on the worker, a definition that sends a secret to a job not routed for it', async () => {
    received.length = 0;
    // A start without job facts (as a schedule's runs, or a raw Temporal client): the workflow plans on the worker,
    // which knows its routes.
    const id = `secret-routes-${randomUUID().slice(0, 8)}`;
    const request = buildStartRequest({ name: 'secret-encodings', steps: misrouted }, { registry, jobFacts: false });
    await tw.client.workflow.start(request.workflowType, {
      args: request.args,
      taskQueue: tw.taskQueue,
      workflowId: id,
    });
    const report = await waitForReport(tw.client.workflow.getHandle(id));
    expect(report.status).toBe('failed');
    expect(report.error?.message).toContain(`steps[1].args.line: ${refusal}`);
    expect(received).toEqual([]);
  });

  it('refuses it at the client that knows the routes (JIPPER_SECRETS_JOBS), before starting', async () => {
    const client = new JobRegistry([library]);
    client.secretRoutes = routes;
    await expect(run(misrouted, client)).rejects.toThrow(`steps[1].args.line: ${refusal}`);
  });

  it('and the job refuses it when neither checked: the job never gets the value', async () => {
    received.length = 0;
    const report = await run(misrouted);
    expect(report.status).toBe('reverted');
    expect(report.error).toMatchObject({ type: 'JipperSecretRefused', message: `${refusal} (at args.line)` });
    expect(received.map((r) => r.job)).toEqual(['connect']);
  });

  it('refuses a secret too short to redact safely, before the job gets it', async () => {
    received.length = 0;
    const report = await run([{ id: 'c', job: 'connect', args: { user: 'app', password: { $secret: 'short' } } }]);
    expect(report.status).toBe('reverted');
    expect(report.error?.message).toMatch(/secret "short" \(at args\.password of step "c"\) is 6 characters long/);
    expect(received).toEqual([]);
  });
});
