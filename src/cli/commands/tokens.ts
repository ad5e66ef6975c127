/**
 * `jipper tokens [name]`: the resource tokens of the task queue's token keeper — each token in use or waited for, how
 * much of its capacity is used, which process (and step) holds it since when, and which wait for it, in the order
 * they will get it. A table fitted to the terminal, or `--json`.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { listTokens } from '../../client';
import type { TokensView } from '../../workflows/messages';
import { formatDuration } from '../../shared/text';
import { plural } from '../../shared/wording';
import { parseWith } from '../args';
import { action, withClient } from '../context';
import { io, out, printJson } from '../io';
import { colorsFor, style } from '../style';
import { outputWidth, renderTable } from '../table';

type Token = TokensView['tokens'][number];

/** A token's name as a step resolves it (`volume/vol-1`): one line, no control characters. */
export const tokenNameSchema = z
  .string()
  .min(1, 'expected a token name')
  .max(1000, 'a token name has at most 1000 characters')
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'a token name has no control characters');

/** The step of a request id (`<processId>/<stepId>`; `(process)` for the process's own tokens). */
function stepOf(requestId: string, processId: string): string {
  return requestId.startsWith(`${processId}/`) ? requestId.slice(processId.length + 1) : requestId;
}

const ago = (since: string, now: number) => formatDuration(Math.max(0, now - Date.parse(since)));

/** One row per holder, then per waiter in the order they will be served; the token's name and use on its first row. */
export function tokenRows(tokens: readonly Token[], now = Date.now()): { cells: string[]; holds: boolean }[] {
  return tokens.flatMap((token) => {
    const rows = [
      ...token.holders.map((h) => ({
        cells: [h.processId, stepOf(h.requestId, h.processId), String(h.count), `holds it · ${ago(h.since, now)}`],
        holds: true,
      })),
      ...token.waiters.map((w, i) => ({
        cells: [
          w.processId,
          stepOf(w.requestId, w.processId),
          String(w.count),
          `waits #${i + 1}${w.priority !== 3 ? ` (priority ${w.priority})` : ''} · ${ago(w.since, now)}`,
        ],
        holds: false,
      })),
    ];
    return rows.map((row, i) => ({
      cells: [i === 0 ? token.name : '', i === 0 ? `${token.used}/${token.capacity}` : '', ...row.cells],
      holds: row.holds,
    }));
  });
}

export function registerTokens(program: Command): void {
  program
    .command('tokens')
    .description(
      "The resource tokens of the task queue's token keeper: each token in use or waited for, how much of its capacity is used, which process and step hold it (since when) and which wait for it, in the order they will get it."
    )
    .argument('[name]', 'only this token (volume/vol-1)', parseWith(tokenNameSchema))
    .option('--json', 'print { taskQueue, tokens: [{ name, capacity, used, holders, waiters }] } as JSON')
    .action(
      action(async (name: string | undefined, options: { json?: boolean }) =>
        withClient(async (client, config) => {
          const { taskQueue } = config;
          const view = await listTokens(client, taskQueue);
          const tokens = name === undefined ? view.tokens : view.tokens.filter((t) => t.name === name);
          if (options.json) return printJson({ taskQueue, tokens });
          if (!tokens.length) {
            return out(
              name === undefined
                ? `no token is held or waited for on task queue ${taskQueue}`
                : `${name}: free — nobody holds it or waits for it on task queue ${taskQueue}`
            );
          }
          const waiting = tokens.reduce((sum, t) => sum + t.waiters.length, 0);
          out(
            `task queue ${taskQueue}: ${plural(tokens.length, 'token')} in use${waiting ? `, ${plural(waiting, 'request')} waiting` : ''}`
          );
          const { stdout } = io();
          const color = colorsFor(stdout);
          const width = outputWidth(stdout);
          const rows = tokenRows(tokens);
          out(
            renderTable({
              head: ['token', 'used', 'process', 'step', 'count', 'state'],
              rows: rows.map((row) => row.cells),
              ...(width !== undefined ? { width } : {}),
              paint: (row, column, text) => {
                if (row < 0) return style('bold', text, color);
                if (column !== 5) return text;
                return style(rows[row]?.holds ? 'green' : 'yellow', text, color);
              },
            })
          );
        })
      )
    );
}
