/**
 * The order an engine starts its ready steps in, when slots are short (workflows/engine.ts). Pure.
 */
import { pathsFromStart, pathsToEnd } from '../compiler/graph';
import type { PlanStep, ShardPaths } from '../contracts/plan';

/** The order ready steps start in: `place[i]` is plan step i's place in it, `position[k]` the step at place k. */
export interface StartOrder {
  place: number[];
  position: number[];
}

export function planOrder(steps: readonly PlanStep[]): StartOrder {
  const identity = steps.map((_, i) => i);
  return { place: identity, position: identity };
}

/**
 * Critical path first: the ready step on the longest chain of estimates through the plan (from its start,
 * through the step, to its end) goes first: the one with the least slack. Ties: the longer chain still to
 * run, then plan order. Plan order started every workload's first steps before any workload's later ones,
 * so the chains the priority waves wait on ran last, and a 2,000-workload run's last waves ran one after
 * another on an idle machine; the longest chain still to run alone put a later wave's first steps (slack:
 * they wait for the earlier waves anyway) before an earlier wave's last.
 */
export function criticalPathFirst(steps: readonly PlanStep[], paths?: ShardPaths): StartOrder {
  const weight = (s: PlanStep) => s.estimateMs;
  const toEnd = pathsToEnd(steps, weight, paths?.exportsToEndMs);
  const finish = pathsFromStart(steps, weight, paths?.importsFromStartMs);
  const after = (i: number) => toEnd.get(steps[i]!.id)!;
  const through = (i: number) => finish.get(steps[i]!.id)! - weight(steps[i]!) + after(i);
  const position = steps.map((_, i) => i).sort((a, b) => through(b) - through(a) || after(b) - after(a) || a - b);
  const place: number[] = [];
  position.forEach((i, k) => (place[i] = k));
  return { place, position };
}
