/** Small, iterative graph algorithms: plans reach tens of thousands of steps, so no recursion. */

/**
 * Cycles in a directed graph given as `node → nodes it depends on`. Each cycle is returned once, as a
 * path that starts and ends at the same node, in dependency order (`a` depends on `b` → `[a, b, ..., a]`).
 */
export function findCycles(
  nodes: readonly string[],
  deps: (node: string) => readonly string[],
  limit = 10,
): string[][] {
  const WHITE = 0;
  const GRAY = 1;
  const BLACK = 2;
  const color = new Map<string, number>();
  const cycles: string[][] = [];
  const seenSets = new Set<string>();
  for (const root of nodes) {
    if ((color.get(root) ?? WHITE) !== WHITE) continue;
    // Each node's dependencies are asked for once, when it is entered: `deps` may build its list, and a node
    // with n dependencies is returned to n times (asking each time made a group of n workloads O(n²)).
    const stack: { node: string; next: number; out: readonly string[] }[] = [{ node: root, next: 0, out: deps(root) }];
    const onPath: string[] = [root];
    color.set(root, GRAY);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const out = frame.out;
      if (frame.next < out.length) {
        const dep = out[frame.next++]!;
        const c = color.get(dep) ?? WHITE;
        if (c === WHITE) {
          color.set(dep, GRAY);
          stack.push({ node: dep, next: 0, out: deps(dep) });
          onPath.push(dep);
        } else if (c === GRAY && cycles.length < limit) {
          const cycle = [...onPath.slice(onPath.indexOf(dep)), dep];
          const key = [...new Set(cycle)].sort().join('\u0000');
          if (!seenSets.has(key)) {
            seenSets.add(key);
            cycles.push(cycle);
          }
        }
      } else {
        color.set(frame.node, BLACK);
        stack.pop();
        onPath.pop();
      }
    }
  }
  return cycles;
}

/**
 * Kahn's algorithm, stable: among steps that are ready at the same time, the one listed first comes
 * first, so the same input always gives the same order. Returns undefined when there is a cycle.
 */
export function topologicalOrder<T extends { id: string; dependsOn: readonly string[] }>(
  items: readonly T[],
): T[] | undefined {
  const index = new Map(items.map((item, i) => [item.id, i]));
  const indegree = items.map((item) => item.dependsOn.length);
  const dependents: number[][] = items.map(() => []);
  items.forEach((item, i) => {
    for (const dep of item.dependsOn) dependents[index.get(dep)!]!.push(i);
  });
  // A binary heap on the original index keeps the order stable in O(n log n).
  const heap = new MinHeap();
  indegree.forEach((d, i) => d === 0 && heap.push(i));
  const out: T[] = [];
  while (heap.size > 0) {
    const i = heap.pop();
    out.push(items[i]!);
    for (const j of dependents[i]!) if (--indegree[j]! === 0) heap.push(j);
  }
  return out.length === items.length ? out : undefined;
}

/**
 * For each item of a topologically ordered DAG, the longest path by weight from its start to the end of the
 * graph, its own weight included: the rank a list scheduler starts ready work by (the critical path first).
 * `beyond` gives, for items with dependents outside `ordered`, the longest such path known elsewhere.
 */
export function pathsToEnd<T extends { id: string; dependsOn: readonly string[] }>(
  ordered: readonly T[],
  weight: (item: T) => number,
  beyond: Readonly<Record<string, number>> = {},
): Map<string, number> {
  const paths = new Map<string, number>();
  /** The longest path from the start of any dependent seen so far, by the id it depends on. */
  const after = new Map<string, number>();
  for (let i = ordered.length - 1; i >= 0; i--) {
    const item = ordered[i]!;
    const path = Math.max(weight(item) + (after.get(item.id) ?? 0), beyond[item.id] ?? 0);
    paths.set(item.id, path);
    for (const dep of item.dependsOn) if (path > (after.get(dep) ?? 0)) after.set(dep, path);
  }
  return paths;
}

/**
 * For each item of a topologically ordered DAG, the longest path by weight from the start of the graph to
 * its end, its own weight included (its earliest finish). `before` gives, for dependencies outside
 * `ordered`, their earliest finish known elsewhere.
 */
export function pathsFromStart<T extends { id: string; dependsOn: readonly string[] }>(
  ordered: readonly T[],
  weight: (item: T) => number,
  before: Readonly<Record<string, number>> = {},
): Map<string, number> {
  const finish = new Map<string, number>();
  for (const item of ordered) {
    let start = 0;
    for (const dep of item.dependsOn) start = Math.max(start, finish.get(dep) ?? before[dep] ?? 0);
    finish.set(item.id, start + weight(item));
  }
  return finish;
}

/** The longest path by weight through a topologically ordered DAG. */
export function longestPath<T extends { id: string; dependsOn: readonly string[] }>(
  ordered: readonly T[],
  weight: (item: T) => number,
): { path: string[]; total: number } {
  const finish = new Map<string, number>();
  const via = new Map<string, string | undefined>();
  let endId: string | undefined;
  let best = -1;
  for (const item of ordered) {
    let start = 0;
    let from: string | undefined;
    for (const dep of item.dependsOn) {
      const f = finish.get(dep) ?? 0;
      if (from === undefined || f > start) {
        start = f;
        from = dep;
      }
    }
    const end = start + weight(item);
    finish.set(item.id, end);
    via.set(item.id, from);
    if (end > best) {
      best = end;
      endId = item.id;
    }
  }
  const path: string[] = [];
  for (let id = endId; id !== undefined; id = via.get(id)) path.push(id);
  return { path: path.reverse(), total: Math.max(0, best) };
}

/** A min-heap of numbers (step indexes), for stable "first listed first" scheduling. */
export class MinHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const a = this.a;
    a.push(v);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
