/**
 * Waits: steps that wait for a person (an approval) or for another system (a named event) instead of running a job.
 * A wait is a step like any other — an id, `needs`, a deadline — that holds no worker slot while it waits. Its rules,
 * once, for the workflow, the preview and the testing kit:
 *
 * - an approval that is rejected fails its step with a `business` failure: the process unwinds as after any failure;
 * - a wait whose timeout expires follows its `onTimeout`: `revert` fails the step with a `timeout` failure (the
 *   process unwinds), `continue` lets the step succeed with `{ timedOut: true }`, `park` waits for an operator's
 *   decision (retry: wait again; skip: go on without it);
 * - a wait has no effect of its own: nothing reverts it, and its failure never leaves an effect that may stand;
 * - a decision or an event is applied only when it fits the process's state now ({@link refusal}); otherwise it is
 *   refused in one line and changes nothing.
 *
 * An event wait's `match` is a tiny expression language, parsed when the definition is checked and evaluated here
 * without `eval`: `==`, `!=`, `&&`, `||`, `!`, parentheses, literals (strings in single or double quotes, numbers,
 * `true`, `false`, `null`) and dotted paths over `event`, `params` and `results`.
 */

/** The job name a planned approval step carries (never a job's name: job names are lower-case letters and digits). */
export const APPROVAL_JOB = '$approval';
/** The job name a planned event wait carries. */
export const EVENT_JOB = '$event';

/** What an expired wait does. */
export type OnTimeout = 'revert' | 'continue' | 'park';

export interface ApprovalWait {
  kind: 'approve';
  prompt: string;
  /** Who may decide; absent: anyone. A guard against mistakes, not authorization. */
  approvers?: string[];
  timeout: string | number;
  onTimeout?: OnTimeout;
}

export interface EventWait {
  kind: 'event';
  /** The event's name, e.g. `payment.settled`. */
  event: string;
  /** An expression over `event`, `params` and `results` the event's data must satisfy; absent: any event of that name. */
  match?: string;
  timeout: string | number;
  onTimeout?: OnTimeout;
}

export type WaitSpec = ApprovalWait | EventWait;

/** Whether a planned job is a wait (by its reserved job name). */
export function isWaitJob(job: string): boolean {
  return job === APPROVAL_JOB || job === EVENT_JOB;
}

/** What an expired wait does: `unwind` (a timeout failure), `continue` (succeeds with `{ timedOut: true }`), `park`. */
export function expiryAction(wait: Pick<WaitSpec, 'onTimeout'>): 'unwind' | 'continue' | 'park' {
  const onTimeout = wait.onTimeout ?? 'revert';
  return onTimeout === 'revert' ? 'unwind' : onTimeout;
}

/** A decision or an event sent to a process. */
export type WaitMessage =
  | { action: 'approve' | 'reject'; stepId: string; by: string; reason?: string }
  | { action: 'event'; event: string; data: unknown; stepId?: string };

/** An open wait, as the rules see it. */
export interface OpenWait {
  stepId: string;
  wait: WaitSpec;
}

/** What an expression is evaluated over. */
export interface MatchScope {
  event: unknown;
  params: Record<string, unknown>;
  results: Record<string, unknown>;
}

/**
 * Why `message` does not apply to the process now (one line), or the open wait it settles. An approval names its
 * step, which must be an open approval whose `approvers` (if any) include its author; an event settles the first open
 * event wait of its name (its step, with `stepId`) whose `match` holds for its data.
 */
export function refusal(
  processId: string,
  open: readonly OpenWait[],
  message: WaitMessage,
  scope: Omit<MatchScope, 'event'>
): { refused: string } | { settles: OpenWait } {
  if (message.action === 'event') return eventRefusal(processId, open, message, scope);
  const target = open.find((w) => w.stepId === message.stepId);
  if (!target || target.wait.kind !== 'approve') {
    const approvals = open.filter((w) => w.wait.kind === 'approve').map((w) => w.stepId);
    return {
      refused:
        `step "${message.stepId}" of ${processId} is not waiting for an approval` +
        (approvals.length ? ` (waiting: ${approvals.join(', ')})` : ' (no approval is waiting)'),
    };
  }
  const { approvers } = target.wait;
  if (approvers?.length && !approvers.includes(message.by)) {
    return {
      refused: `"${message.by}" may not decide step "${message.stepId}" of ${processId}: its approvers are ${approvers.join(', ')}`,
    };
  }
  if (message.action === 'reject' && !message.reason?.trim()) {
    return { refused: `a rejection of step "${message.stepId}" needs a reason` };
  }
  return { settles: target };
}

function eventRefusal(
  processId: string,
  open: readonly OpenWait[],
  message: Extract<WaitMessage, { action: 'event' }>,
  scope: Omit<MatchScope, 'event'>
): { refused: string } | { settles: OpenWait } {
  const named = open.filter(
    (w) =>
      w.wait.kind === 'event' &&
      w.wait.event === message.event &&
      (message.stepId === undefined || w.stepId === message.stepId)
  );
  if (!named.length) return { refused: `${processId} is not waiting for event "${message.event}"` };
  for (const candidate of named) {
    const { match } = candidate.wait as EventWait;
    if (match === undefined || evaluateMatch(parseMatch(match), { ...scope, event: message.data })) {
      return { settles: candidate };
    }
  }
  return {
    refused: `event "${message.event}" does not match what ${processId} waits for (${named.map((w) => `${w.stepId}: ${(w.wait as EventWait).match ?? ''}`).join('; ')})`,
  };
}

// ── The match expression ─────────────────────────────────────────────────────────────────────────────────────────

export type MatchExpr =
  | { op: 'lit'; value: string | number | boolean | null }
  | { op: 'path'; root: 'event' | 'params' | 'results'; keys: string[] }
  | { op: '!'; of: MatchExpr }
  | { op: '==' | '!=' | '&&' | '||'; left: MatchExpr; right: MatchExpr };

/** A match expression that does not parse; the message says where. */
export class MatchSyntaxError extends Error {
  override readonly name = 'MatchSyntaxError';
}

type Token = { kind: 'op'; text: string; at: number } | { kind: 'value'; expr: MatchExpr; at: number };

const ROOTS = new Set(['event', 'params', 'results']);
const OPERATORS = ['==', '!=', '&&', '||', '!', '(', ')'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, at: i });
      i += op.length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) throw new MatchSyntaxError(`unterminated string at column ${i + 1}`);
      tokens.push({ kind: 'value', expr: { op: 'lit', value: text.slice(i + 1, end) }, at: i });
      i = end + 1;
      continue;
    }
    const word = /^[-A-Za-z0-9_.$]+/.exec(text.slice(i))?.[0];
    if (!word) throw new MatchSyntaxError(`unexpected "${ch}" at column ${i + 1}`);
    tokens.push({ kind: 'value', expr: wordExpr(word, i), at: i });
    i += word.length;
  }
  return tokens;
}

function wordExpr(word: string, at: number): MatchExpr {
  if (word === 'true' || word === 'false') return { op: 'lit', value: word === 'true' };
  if (word === 'null') return { op: 'lit', value: null };
  if (/^-?\d+(\.\d+)?$/.test(word)) return { op: 'lit', value: Number(word) };
  const [root = '', ...keys] = word.split('.');
  if (!ROOTS.has(root) || keys.some((k) => k === '')) {
    throw new MatchSyntaxError(
      `"${word}" at column ${at + 1} is not a literal or a path under event, params or results`
    );
  }
  return { op: 'path', root: root as 'event' | 'params' | 'results', keys };
}

/** Parses a match expression; throws {@link MatchSyntaxError} saying what is wrong and where. */
export function parseMatch(text: string): MatchExpr {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (text: string) => {
    const t = peek();
    return t?.kind === 'op' && t.text === text;
  };
  const binary = (ops: readonly ('==' | '!=' | '&&' | '||')[], next: () => MatchExpr) => (): MatchExpr => {
    let left = next();
    for (let op = ops.find(isOp); op; op = ops.find(isOp)) {
      pos += 1;
      left = { op, left, right: next() };
    }
    return left;
  };
  const unary = (): MatchExpr => {
    const t = peek();
    if (!t) throw new MatchSyntaxError('the expression ends too early');
    pos += 1;
    if (t.kind === 'value') return t.expr;
    if (t.text === '!') return { op: '!', of: unary() };
    if (t.text === '(') {
      const inner = or();
      if (!isOp(')')) throw new MatchSyntaxError(`missing ")" for the "(" at column ${t.at + 1}`);
      pos += 1;
      return inner;
    }
    throw new MatchSyntaxError(`unexpected "${t.text}" at column ${t.at + 1}`);
  };
  const equality = binary(['==', '!='], unary);
  const and = binary(['&&'], equality);
  const or: () => MatchExpr = binary(['||'], and);
  if (!tokens.length) throw new MatchSyntaxError('the expression is empty');
  const expr = or();
  const rest = peek();
  if (rest) throw new MatchSyntaxError(`unexpected text at column ${rest.at + 1}`);
  return expr;
}

function valueOf(expr: MatchExpr, scope: MatchScope): unknown {
  switch (expr.op) {
    case 'lit':
      return expr.value;
    case 'path': {
      let value: unknown = scope[expr.root];
      for (const key of expr.keys) {
        if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
        value = (value as Record<string, unknown>)[key];
      }
      return value;
    }
    case '!':
      return !truthy(valueOf(expr.of, scope));
    case '==':
      return same(valueOf(expr.left, scope), valueOf(expr.right, scope));
    case '!=':
      return !same(valueOf(expr.left, scope), valueOf(expr.right, scope));
    case '&&':
      return truthy(valueOf(expr.left, scope)) && truthy(valueOf(expr.right, scope));
    case '||':
      return truthy(valueOf(expr.left, scope)) || truthy(valueOf(expr.right, scope));
  }
}

/** Strict equality for scalars; a missing path equals only `null`. */
function same(a: unknown, b: unknown): boolean {
  return (a ?? null) === (b ?? null);
}

function truthy(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && value !== 0 && value !== '';
}

/** Whether a parsed expression holds over `scope`. */
export function evaluateMatch(expr: MatchExpr, scope: MatchScope): boolean {
  return truthy(valueOf(expr, scope));
}
