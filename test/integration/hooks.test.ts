/**
 * Outcome hooks against real receivers on loopback (issue 28): a real SMTP server (TLS, auth) gets the e-mail of a
 * process that unwound — its recipients, subject, and a body with the report and the Web UI link; a real webhook
 * receiver checks the HMAC signature and the body; a receiver that is down at first gets the message once, after
 * retries; a parked process notifies within seconds of parking; a hook that fails is reported and changes nothing; a
 * cancelled process still tells. Effects are checked where they land (the receivers, the job ledger), and the
 * process's outcome in its report.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { decide, getReport, waitForReport } from '../../src/client';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { standardLibrary } from '../../src/jobs/standard';
import type { ProcessReport } from '../../src/shared/report';
import type { TestWorker } from '../../src/testing/worker';
import { startTestWorker } from '../../src/testing/worker';
import { makeCertificates } from '../support/certificates';
import { waitUntil } from '../support/observe';
import type { MailServer, WebhookReceiver } from '../support/receivers';
import { freePort, startMailServer, startReceiver, verifySignature } from '../support/receivers';
import { serverAddress } from '../support/worker';

const HOOK_KEY = `hook-key-${randomUUID()}`;
const SMTP_PASS = `smtp-${randomUUID()}`;
const WEB_UI = 'http://ui.example.test:8233';

/** Reverts that ran, by process: the effect of an unwinding, seen outside Jipper's report. */
const reverted: string[] = [];
const work = defineJob({
  name: 'work',
  input: z.object({}),
  run: async (_input, ctx) => ({ by: ctx.processId }),
  revert: async (_input, _result, ctx) => {
    reverted.push(`${ctx.processId}/${ctx.stepId}`);
  },
});
const refuse = defineJob({
  name: 'refuse',
  input: z.object({}),
  options: { retry: { maximumAttempts: 1 } },
  run: async () => {
    throw ApplicationFailure.nonRetryable('over quota', 'QuotaError');
  },
});
const stuckRevert = defineJob({
  name: 'stuck-revert',
  input: z.object({}),
  options: { revert: { retry: { maximumAttempts: 1 } } },
  run: async () => ({}),
  revert: async () => {
    throw ApplicationFailure.nonRetryable('the lock is held', 'LockBusy');
  },
});
const hold = defineJob({
  name: 'hold',
  input: z.object({}),
  options: { heartbeatTimeout: '5s' },
  run: async (_input, ctx) => {
    for (;;) {
      ctx.heartbeat();
      await ctx.sleep(200);
    }
  },
});
const library = defineLibrary('hooks-test', [work, refuse, stuckRevert, hold]);

let scratch: string;
let worker: TestWorker;
let receiver: WebhookReceiver;
let mail: MailServer;
let ca: string;

const fastRetry = { initialInterval: '300ms', backoffCoefficient: 1, maximumAttempts: 20 };
const webhook = (url: string, extra: Record<string, unknown> = {}) => ({
  job: 'http-request',
  args: { url, signingKey: { $secret: 'hook-key' }, body: { $report: 'report' }, ...extra },
  retry: fastRetry,
});

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'jipper-hooks-'));
  const certs = await makeCertificates(join(scratch, 'certs'));
  ca = readFileSync(certs.ca, 'utf8');
  mail = await startMailServer(
    { key: readFileSync(certs.server.key, 'utf8'), cert: readFileSync(certs.server.cert, 'utf8') },
    'jipper',
    SMTP_PASS
  );
  receiver = await startReceiver(HOOK_KEY);
  const secrets: Record<string, string> = { 'hook-key': HOOK_KEY, 'smtp-pass': SMTP_PASS };
  worker = await startTestWorker([library, standardLibrary()], {
    address: serverAddress(),
    name: 'hooks',
    webUi: WEB_UI,
    secrets: { description: 'the test', get: async (name) => secrets[name] },
  });
}, 120_000);

afterAll(async () => {
  await worker?.shutdown();
  await receiver?.close();
  await mail?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const uiLink = (report: ProcessReport) =>
  `${WEB_UI}/namespaces/default/workflows/${report.processId}/${report.runId}/user-metadata`;

describe('outcome hooks', () => {
  it('e-mails the report of a process that unwound through a real SMTP server, with TLS and auth', async () => {
    const smtp = {
      host: '127.0.0.1',
      port: mail.port,
      secure: true,
      ca,
      user: 'jipper',
      pass: { $secret: 'smtp-pass' },
    };
    const { report } = await worker.run({
      name: 'mailed',
      steps: [
        { id: 'alloc', job: 'work' },
        { id: 'export', job: 'refuse' },
      ],
      on: {
        reverted: [
          {
            job: 'send-email',
            args: {
              smtp,
              from: 'jipper@example.com',
              to: ['oncall@example.com', 'lead@example.com'],
              subject: { $report: 'subject' },
              text: { $report: 'text' },
              html: { $report: 'html' },
            },
          },
        ],
      },
    });
    expect(report.status).toBe('reverted');
    expect(reverted).toContain(`${report.processId}/alloc`);
    expect(report.hooks).toEqual([
      expect.objectContaining({ outcome: 'reverted', job: 'send-email', status: 'succeeded', attempts: 1 }),
    ]);
    const sent = mail.mails.filter((m) => m.text.includes(report.processId));
    expect(sent).toHaveLength(1);
    const [message] = sent;
    expect(message?.to).toEqual(['oncall@example.com', 'lead@example.com']);
    expect(message?.user).toBe('jipper');
    expect(message?.secure).toBe(true);
    expect(message?.headers.subject).toBe('[jipper] mailed reverted at step "export": QuotaError: over quota');
    expect(message?.text).toContain(`Process mailed (${report.processId}): reverted`);
    expect(message?.text).toContain('Failed step: export');
    expect(message?.text).toContain('Reverted, in order: alloc');
    expect(message?.text).toContain(`Web UI: ${uiLink(report)}`);
    expect(message?.html).toContain(`<a href="${uiLink(report)}">`);
    expect(message?.headers['x-jipper-idempotency-key']).toBe(`${report.processId}/on.reverted.0`);
  });

  it('calls a webhook the receiver verifies: HMAC signature over timestamp and body, the report as JSON', async () => {
    const { report } = await worker.run({
      name: 'signed',
      steps: [{ id: 'a', job: 'work' }],
      on: { succeeded: [webhook(receiver.url)], reverted: [webhook(receiver.url)] },
    });
    expect(report.status).toBe('succeeded');
    const key = `${report.processId}/on.succeeded.0`;
    const requests = receiver.requests.filter((r) => r.key === key);
    expect(requests).toEqual([expect.objectContaining({ verified: true })]);
    const delivered = receiver.deliveries.find((d) => d.key === key);
    expect(delivered?.body).toMatchObject({ processId: report.processId, name: 'signed', status: 'succeeded' });
    // No hook of another outcome ran.
    expect(receiver.requests.some((r) => r.key.startsWith(`${report.processId}/on.reverted`))).toBe(false);
    // The receiver's check is a real one: another body, another key or a stale timestamp fail it.
    const now = Math.floor(Date.now() / 1000);
    const body = '{"status":"succeeded"}';
    const good = `sha256=${createHmac('sha256', HOOK_KEY).update(`${now}.${body}`).digest('hex')}`;
    const headers = { 'x-jipper-timestamp': String(now), 'x-jipper-signature': good };
    expect(verifySignature(HOOK_KEY, headers, body)).toBe(true);
    expect(verifySignature(HOOK_KEY, headers, '{"status":"reverted"}')).toBe(false);
    expect(verifySignature('other-key', headers, body)).toBe(false);
    expect(verifySignature(HOOK_KEY, headers, body, now + 3600)).toBe(false);
  });

  it('a receiver down at first and up later gets the message once, after retries', async () => {
    const port = await freePort();
    const started = worker.run({
      name: 'late-receiver',
      steps: [{ id: 'a', job: 'work' }],
      on: { succeeded: [webhook(`http://127.0.0.1:${port}/late`)] },
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const late = await startReceiver(HOOK_KEY, port);
    try {
      const { report } = await started;
      expect(report.status).toBe('succeeded');
      const [hook] = report.hooks ?? [];
      expect(hook).toMatchObject({ status: 'succeeded' });
      expect(hook?.attempts).toBeGreaterThan(1);
      expect(late.deliveries).toHaveLength(1);
      expect(late.requests).toHaveLength(1);
      expect(late.deliveries[0]?.key).toBe(`${report.processId}/on.succeeded.0`);
    } finally {
      await late.close();
    }
  });

  it('a parked process notifies within seconds of parking, with the decide command', async () => {
    const handle = await worker.client.workflow.start('jipperProcess', {
      taskQueue: worker.taskQueue,
      workflowId: `parks-${randomUUID()}`,
      args: [
        {
          definition: {
            name: 'parks',
            options: { onRevertFailure: 'park' },
            steps: [
              { id: 'lock', job: 'stuck-revert' },
              { id: 'fail', job: 'refuse' },
            ],
            on: {
              parked: [webhook(receiver.url, { body: { text: { $report: 'text' }, decide: { $report: 'decide' } } })],
            },
          },
        },
      ],
    });
    const processId = handle.workflowId;
    const key = `${processId}/on.parked.0.lock.1`;
    const delivery = await waitUntil(
      async () => receiver.deliveries.find((d) => d.key === key),
      'the parked notification',
      30_000
    );
    const parkedReport = await getReport(worker.client, processId);
    expect(parkedReport.status).toBe('parked');
    const revertFailedAt = Date.parse(parkedReport.jobs.find((j) => j.stepId === 'lock')?.revert?.endedAt ?? '');
    const latencyMs = delivery.at - revertFailedAt;
    expect(latencyMs).toBeLessThan(5_000);
    const body = delivery.body as { text: string; decide: string };
    expect(body.decide).toBe(`jipper decide ${processId} lock retry|skip|mark-reverted`);
    expect(body.text).toContain(`Decide with: jipper decide ${processId} lock retry|skip|mark-reverted`);
    await decide(worker.client, processId, 'lock', 'skip');
    const final = await waitForReport(worker.client.workflow.getHandle(processId));
    expect(final.hooks).toEqual([
      expect.objectContaining({ outcome: 'parked', status: 'succeeded', hookId: 'on.parked.0.lock.1' }),
    ]);
    console.log(`parked → notified in ${latencyMs} ms`);
  });

  it('a hook that fails is reported, in the report and the Web UI details, and changes nothing', async () => {
    const rejecting = await startReceiver(HOOK_KEY);
    rejecting.answer(400);
    try {
      const { report, processId } = await worker.run({
        name: 'ignored',
        steps: [{ id: 'a', job: 'work' }],
        on: { succeeded: [webhook(rejecting.url)] },
      });
      expect(report.status).toBe('succeeded');
      expect(reverted.some((r) => r.startsWith(`${processId}/`))).toBe(false);
      expect(report.hooks).toHaveLength(1);
      expect(report.hooks?.[0]).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { type: 'HttpRequestRejected' },
      });
      expect(report.hooks?.[0]?.error?.message).toContain('answered 400');
      const meta = await worker.client.workflow
        .getHandle(processId)
        .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      expect(meta.currentDetails).toContain('Hook on succeeded · http-request · failed');
    } finally {
      await rejecting.close();
    }
  });

  it('a cancelled process still tells, and its final report keeps the hook', async () => {
    const handle = await worker.client.workflow.start('jipperProcess', {
      taskQueue: worker.taskQueue,
      workflowId: `cancelled-${randomUUID()}`,
      args: [
        {
          definition: {
            name: 'cancelled',
            steps: [
              { id: 'a', job: 'work' },
              { id: 'b', job: 'hold' },
            ],
            on: { cancelled: [webhook(receiver.url)] },
          },
        },
      ],
    });
    await waitUntil(
      async () => (await getReport(worker.client, handle.workflowId)).jobs[1]?.status === 'running',
      'b running',
      30_000
    );
    await handle.cancel();
    const final = await waitForReport(handle);
    expect(final.status).toBe('cancelled');
    expect(reverted).toContain(`${handle.workflowId}/a`);
    expect(final.hooks).toEqual([expect.objectContaining({ outcome: 'cancelled', status: 'succeeded' })]);
    expect(receiver.deliveries.filter((d) => d.key === `${handle.workflowId}/on.cancelled.0`)).toHaveLength(1);
  });

  it('a process stopped at its deadline runs its deadline hooks and its status hooks', async () => {
    const { report, processId } = await worker.run({
      name: 'late',
      options: { deadline: '1s' },
      steps: [
        { id: 'a', job: 'work' },
        { id: 'b', job: 'hold' },
      ],
      on: { deadline: [webhook(receiver.url)], reverted: [webhook(receiver.url)], succeeded: [webhook(receiver.url)] },
    });
    expect(report.status).toBe('reverted');
    expect(report.error?.type).toBe('deadline');
    expect(reverted).toContain(`${processId}/a`);
    expect(report.hooks?.map((h) => [h.hookId, h.status])).toEqual([
      ['on.reverted.0', 'succeeded'],
      ['on.deadline.0', 'succeeded'],
    ]);
    const keys = receiver.deliveries.filter((d) => d.key.startsWith(`${processId}/`)).map((d) => d.key);
    expect(keys.sort()).toEqual([`${processId}/on.deadline.0`, `${processId}/on.reverted.0`]);
  });
});

describe("a team's default hooks (the worker's configuration)", () => {
  let team: TestWorker;
  let teamReceiver: WebhookReceiver;

  beforeAll(async () => {
    teamReceiver = await startReceiver(HOOK_KEY);
    team = await startTestWorker([library, standardLibrary()], {
      address: serverAddress(),
      name: 'hooks-defaults',
      hooks: { succeeded: [webhook(teamReceiver.url)] },
      secrets: { description: 'the test', get: async (name) => (name === 'hook-key' ? HOOK_KEY : undefined) },
    });
  }, 120_000);

  afterAll(async () => {
    await team?.shutdown();
    await teamReceiver?.close();
  });

  const keysOf = (processId: string) =>
    teamReceiver.deliveries.filter((d) => d.key.startsWith(`${processId}/`)).map((d) => d.key);

  it('run for every process; a definition adds its own, or opts out', async () => {
    const plain = await team.run({ name: 'plain', steps: [{ id: 'a', job: 'work' }] });
    expect(plain.report.status).toBe('succeeded');
    expect(keysOf(plain.processId)).toEqual([`${plain.processId}/on.succeeded.default.0`]);

    const more = await team.run({
      name: 'more',
      steps: [{ id: 'a', job: 'work' }],
      on: { succeeded: [webhook(teamReceiver.url)] },
    });
    expect(keysOf(more.processId).sort()).toEqual([
      `${more.processId}/on.succeeded.0`,
      `${more.processId}/on.succeeded.default.0`,
    ]);

    const quiet = await team.run({ name: 'quiet', steps: [{ id: 'a', job: 'work' }], on: { defaults: false } });
    expect(quiet.report.status).toBe('succeeded');
    expect(quiet.report.hooks ?? []).toEqual([]);
    expect(keysOf(quiet.processId)).toEqual([]);
  });

  it('a run of local jobs brings the defaults back with its results: the hook runs, no local activity asks', async () => {
    const local = await team.run({
      name: 'local',
      options: { defaults: { local: true } },
      steps: [
        { id: 'a', job: 'work' },
        { id: 'b', job: 'work' },
      ],
    });
    expect(local.report.status).toBe('succeeded');
    expect(keysOf(local.processId)).toEqual([`${local.processId}/on.succeeded.default.0`]);
    const history = await team.client.workflow.getHandle(local.processId).fetchHistory();
    const localActivities = (history.events ?? []).filter(
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity'
    );
    // The run of a and b; the process asked no local activity of its own for the worker's default hooks.
    expect(localActivities).toHaveLength(1);
  });

  it('a tree of processes tells once: the defaults run for the parent, not for its child process', async () => {
    const child = { name: 'kid', steps: [{ id: 'k', job: 'work' }] };
    const tree = await team.run({
      name: 'tree',
      steps: [{ id: 'sub', process: child } as unknown as { id: string; job: string }, { id: 'a', job: 'work' }],
    });
    expect(tree.report.status).toBe('succeeded');
    // The child's own hooks would be keyed under its id, `<parent>/sub/...`, which this prefix also matches.
    expect(keysOf(tree.processId)).toEqual([`${tree.processId}/on.succeeded.default.0`]);
  });

  it('a default hook whose job the worker does not have: the worker refuses to start, on one line', async () => {
    await expect(
      startTestWorker([library], {
        address: serverAddress(),
        hooks: { parked: [{ job: 'send-email', args: {} }] },
      })
    ).rejects.toThrow(
      'default hooks name jobs this worker does not have: hooks.parked[0]: "send-email"; its jobs: hold, refuse, stuck-revert, work'
    );
  });
});
