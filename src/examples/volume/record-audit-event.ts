/** `record-audit-event`: a line in the append-only audit log; no revert. */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { defineJob } from '../../jobs/job';
import type { Sandbox } from './sandbox';
import { volumeName } from './sandbox';

export function recordAuditEventJob(sandbox: Sandbox) {
  const { root, paths } = sandbox;
  return defineJob({
    name: 'record-audit-event',
    description: 'Appends an event to the audit log. Audit logs are append-only: this job has no revert.',
    input: z.object({ volume: volumeName, message: z.string().min(1).max(500) }),
    output: z.object({ logged: z.boolean() }),
    options: { timeout: '30s' },
    async run(input, ctx) {
      await mkdir(root, { recursive: true });
      const log = await readFile(paths.audit, 'utf8').catch(() => '');
      if (!log.includes(` ${ctx.idempotencyKey} `)) {
        await appendFile(
          paths.audit,
          `${new Date().toISOString()} ${ctx.idempotencyKey} ${input.volume}: ${input.message}\n`
        );
      }
      ctx.setDetail(`audit: ${input.message}`);
      return { logged: true };
    },
  });
}
