/**
 * Outcome hooks are checked before anything runs, one line each at its place: an unknown outcome, a hook whose job no
 * library has, a malformed e-mail address or URL in a standard job's literal args, a `$report` name that does not
 * exist, a `$from` (a hook reads no step results) and a parameter that is not set. A definition with correct hooks
 * passes, `$param`/`$secret`/`$report` references and all. And the report's text and Markdown, which hooks send,
 * carry what the issue asks: status, failed step, error, reverts, the Web UI link and, when parked, the decide command.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { readConfigFile } from '../../src/config/file';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { signBody } from '../../src/jobs/standard';
import { JobRegistry } from '../../src/runtime/registry';
import { summaryLine } from '../../src/cli/report-summary';
import { reportField } from '../../src/shared/hooks';
import type { ProcessReport } from '../../src/shared/report';
import { withStandardJobs } from '../../src/worker/libraries';

const work = defineJob({ name: 'work', input: z.object({}), run: async () => ({}) });
const registry = new JobRegistry(withStandardJobs([defineLibrary('t', [work])]));

const smtp = { host: '127.0.0.1', port: 2525 };
const mail = (to: unknown) => ({
  job: 'send-email',
  args: { smtp, from: 'jipper@example.com', to, subject: { $report: 'subject' }, text: { $report: 'text' } },
});
const hook = (url: unknown) => ({ job: 'http-request', args: { url, body: { $report: 'report' } } });

function problems(on: unknown, params?: Record<string, unknown>): string[] {
  const definition = { name: 'p', params: params ?? {}, steps: [{ id: 'a', job: 'work' }], on };
  return registry.validate(definition).problems.map((p) => `${p.path}: ${p.message}`);
}

describe('hooks are checked before anything runs', () => {
  it('passes correct hooks, references and all', () => {
    expect(
      problems(
        {
          reverted: [mail(['oncall@example.com'])],
          parked: [{ ...hook('https://hooks.example.com/jipper'), retry: { maximumAttempts: 3 }, timeout: '5s' }],
          succeeded: [hook({ $param: 'endpoint' })],
          revert_failed: [
            {
              ...mail('ops@example.com'),
              args: { ...mail('ops@example.com').args, smtp: { ...smtp, pass: { $secret: 'smtp-pass' }, user: 'u' } },
            },
          ],
          defaults: false,
        },
        { endpoint: 'http://127.0.0.1:9/x' }
      )
    ).toEqual([]);
  });

  it('names an unknown outcome, and lists the known ones', () => {
    expect(problems({ reverte: [hook('https://x.example.com')] })).toEqual([
      'on.reverte: unknown outcome "reverte"; hooks run on: succeeded, reverted, revert_failed, failed, cancelled, parked, deadline (and `defaults: false` opts out of the worker\'s)',
    ]);
  });

  it('names a hook job no library has', () => {
    const [line] = problems({ parked: [{ job: 'send-mail', args: {} }] });
    expect(line).toMatch(
      /^on\.parked\[0\]\.job: unknown job "send-mail" \(did you mean "send-email"\?\); known jobs: /
    );
  });

  it('refuses a malformed e-mail address or URL in literal args, at the arg', () => {
    expect(problems({ reverted: [mail(['oncall@example.com', 'not-an-address'])] })).toEqual([
      'on.reverted[0].args.to[1]: expected an e-mail address such as oncall@example.com',
    ]);
    expect(problems({ failed: [hook('ftp://files.example.com/x')] })).toEqual([
      'on.failed[0].args.url: expected an http:// or https:// URL',
    ]);
    expect(problems({ failed: [hook({ $param: 'endpoint' })] }, { endpoint: 'nowhere' })).toEqual([
      'on.failed[0].args.url: expected an http:// or https:// URL',
    ]);
  });

  it('refuses a $report that does not exist, a $from, and a parameter that is not set', () => {
    expect(
      problems({
        succeeded: [
          { job: 'http-request', args: { url: 'https://x.example.com', body: { $report: 'txt' } } },
          { job: 'http-request', args: { url: 'https://x.example.com', body: { $from: 'a.id' } } },
          hook({ $param: 'nope' }),
        ],
      })
    ).toEqual([
      expect.stringMatching(
        /^on\.succeeded\[0\]\.args\.body: unknown \$report "txt" \(did you mean "text"\?\); it may be: status, /
      ),
      'on.succeeded[1].args.body: a hook has no step results to read: use $param, $secret or $report',
      'on.succeeded[2].args.url: parameter "nope" is not set (add it to params or --set it)',
    ]);
  });

  it('refuses a hook that is not a job step', () => {
    expect(problems({ reverted: [{ job: 'work', revert: {} }] })).toEqual([
      'on.reverted[0]: Unrecognized key: "revert"',
    ]);
  });
});

describe("a team's default hooks in the config file", () => {
  it('are checked where the file is read: an unknown outcome is one line naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jipper-hooks-config-'));
    try {
      const file = join(dir, 'jipper.config.json');
      writeFileSync(file, JSON.stringify({ hooks: { parkd: [hook('https://x.example.com')] } }));
      await expect(readConfigFile(file)).rejects.toThrow(
        `jipper.config.json (${file}): hooks.parkd: unknown outcome "parkd"; hooks run on: succeeded, reverted, revert_failed, failed, cancelled, parked, deadline (and \`defaults: false\` opts out of the worker's)`
      );
      writeFileSync(file, JSON.stringify({ hooks: { parked: [hook('https://x.example.com')] } }));
      await expect(readConfigFile(file)).resolves.toEqual({ hooks: { parked: [hook('https://x.example.com')] } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what hooks read', () => {
  const report: ProcessReport = {
    processId: 'prov-1',
    runId: 'r-1',
    name: 'provision',
    status: 'parked',
    startedAt: '2026-01-01T00:00:00.000Z',
    failedStep: 'export',
    error: { type: 'QuotaError', message: 'quota exceeded' },
    needsAttention: ['alloc'],
    revertOrder: ['quota', 'alloc'],
    jobs: [
      {
        stepId: 'alloc',
        job: 'allocate-volume',
        status: 'succeeded',
        revert: { status: 'parked', error: { type: 'Busy', message: 'locked' } },
      },
      {
        stepId: 'export',
        job: 'export-volume',
        status: 'failed',
        error: { type: 'QuotaError', message: 'quota exceeded' },
      },
    ],
  };
  const link = 'http://ui.example.com/namespaces/default/workflows/prov-1/r-1/user-metadata';

  it('the text report has the status, failed step, error, reverts, decide command and link', () => {
    const text = reportField('text', report, 'parked', link) as string;
    expect(text).toContain('Process provision (prov-1): parked');
    expect(text).toContain('Failed step: export');
    expect(text).toContain('Error: QuotaError: quota exceeded');
    expect(text).toContain('Reverted, in order: quota, alloc');
    expect(text).toContain('Decide with: jipper decide prov-1 alloc retry|skip|mark-reverted');
    expect(text).toContain(`Web UI: ${link}`);
    expect(reportField('decide', report, 'parked', link)).toBe('jipper decide prov-1 alloc retry|skip|mark-reverted');
  });

  it('the Markdown report links to the Web UI', () => {
    const markdown = reportField('markdown', report, 'parked', link) as string;
    expect(markdown).toContain(`[Open in the Temporal Web UI](${link})`);
    expect(markdown).toContain('`jipper decide prov-1 alloc retry|skip|mark-reverted`');
    expect(reportField('subject', report, 'parked', link)).toBe(
      '[jipper] provision parked at step "export": QuotaError: quota exceeded'
    );
  });

  it('signs as documented: HMAC-SHA256 over "<timestamp>.<body>", hex', () => {
    // Computed apart, with Python's hmac module: hmac.new(b'key', b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    expect(signBody('key', 1_700_000_000, '{"a":1}')).toBe(
      'sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03'
    );
  });

  it('a failed hook shows in the status line, and a hook that succeeded does not', () => {
    const ended: ProcessReport = {
      ...report,
      status: 'reverted',
      needsAttention: [],
      hooks: [
        { hookId: 'on.reverted.0', outcome: 'reverted', job: 'send-email', status: 'succeeded', attempts: 1 },
        {
          hookId: 'on.reverted.1',
          outcome: 'reverted',
          job: 'http-request',
          status: 'failed',
          attempts: 5,
          error: { type: 'HttpRequestFailed', message: 'POST http://x answered 503' },
        },
      ],
    };
    expect(summaryLine(ended)).toContain(
      'hook failed: on reverted · http-request · failed (5 attempts): HttpRequestFailed: POST http://x answered 503'
    );
    expect(summaryLine(ended)).not.toContain('send-email');
  });
});
