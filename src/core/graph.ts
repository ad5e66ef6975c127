/**
 * Readiness: which steps of a process's graph may start. A node (a job step, or a parallel group) starts once every
 * name it `needs` is satisfied — a job that succeeded (or was skipped by an operator), or a group whose success policy
 * was met. A plain list is the chain where each node needs the one before it.
 */
import type { PlanNode } from '../shared/plan';

/** A group's success policy as written: every member, any one, or at least `n`. */
export type SucceedWhen = 'all' | 'any' | number;

/** How many of `members` members must succeed for a group with policy `succeedWhen` to succeed. */
export function membersNeeded(succeedWhen: SucceedWhen | undefined, members: number): number {
  if (succeedWhen === undefined || succeedWhen === 'all') return members;
  return succeedWhen === 'any' ? 1 : succeedWhen;
}

/** How many members a node needs to have succeeded (a job step: its one job). */
export function groupNeeds(node: Pick<PlanNode, 'group' | 'succeedWhen' | 'members'>): number {
  return node.group ? membersNeeded(node.succeedWhen, node.members.length) : node.members.length;
}

/** Whether a group's success policy lets it succeed before every member has: it has one, and it asks for fewer. */
export function hasEarlyPolicy(succeedWhen: SucceedWhen | undefined, members: number): boolean {
  return membersNeeded(succeedWhen, members) < members;
}

/**
 * Whether a group can still meet its policy once `failed` of its `members` have failed for good. When it cannot, the
 * group has failed: forward progress stops at once (its running members settle; no further step starts).
 */
export function policyStillPossible(succeedWhen: SucceedWhen | undefined, members: number, failed: number): boolean {
  return members - failed >= membersNeeded(succeedWhen, members);
}

/** Whether `succeeded` members are enough for the node. */
export function policyMet(node: Pick<PlanNode, 'group' | 'succeedWhen' | 'members'>, succeeded: number): boolean {
  return succeeded >= groupNeeds(node);
}

/** Whether a node may start: not started yet, and every name it needs is satisfied. */
export function isReady(
  node: Pick<PlanNode, 'id' | 'needs'>,
  started: ReadonlySet<string>,
  satisfied: ReadonlySet<string>
): boolean {
  return !started.has(node.id) && node.needs.every((name) => satisfied.has(name));
}

/** A job's status that satisfies the steps that need it: it succeeded, or an operator moved on without it. */
export function satisfiesNeeds(status: string): boolean {
  return status === 'succeeded' || status === 'skipped';
}

/** Node index by node id and by member step id. */
export function nodeIndex(nodes: readonly PlanNode[]): Map<string, number> {
  const nodeOf = new Map<string, number>();
  nodes.forEach((node, i) => {
    nodeOf.set(node.id, i);
    for (const member of node.members) nodeOf.set(member, i);
  });
  return nodeOf;
}

/**
 * `depends(a, b)`: step `a` waits (transitively) for step `b`. Undefined when the graph is a plain chain in list
 * order (each node needs exactly the one before it), where completion order already says it all.
 */
export function dependencyTest(nodes: readonly PlanNode[]): ((a: string, b: string) => boolean) | undefined {
  if (isPlainChain(nodes)) return undefined;
  const nodeOf = nodeIndex(nodes);
  const ancestors = new Map<number, Set<number>>();
  const of = (i: number, seen = new Set<number>()): Set<number> => {
    const known = ancestors.get(i);
    if (known) return known;
    if (seen.has(i)) return new Set();
    seen.add(i);
    const result = new Set<number>();
    for (const name of (nodes[i] as PlanNode).needs) {
      const j = nodeOf.get(name);
      if (j === undefined || j === i) continue;
      result.add(j);
      for (const k of of(j, seen)) result.add(k);
    }
    ancestors.set(i, result);
    return result;
  };
  return (a, b) => {
    const i = nodeOf.get(a);
    const j = nodeOf.get(b);
    return i !== undefined && j !== undefined && i !== j && of(i).has(j);
  };
}

/**
 * Whether the graph reads as a plain list: the first node needs nothing, and every other one needs the node before it
 * and otherwise only earlier nodes. One pass over the names: the unwinding asks this before every wave, and a list of
 * 2,000 steps rebuilt the earlier names for each node (a second per wave, 40 minutes for its unwinding).
 */
export function isPlainChain(nodes: readonly PlanNode[]): boolean {
  const earlier = new Set<string>();
  let previous: PlanNode | undefined;
  for (const node of nodes) {
    const fits = previous
      ? node.needs.includes(previous.id) && node.needs.every((name) => earlier.has(name))
      : node.needs.length === 0;
    if (!fits) return false;
    earlier.add(node.id);
    for (const member of node.members) earlier.add(member);
    previous = node;
  }
  return true;
}
