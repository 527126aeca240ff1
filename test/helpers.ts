import { compile } from '../compiler';
import type { CompileResult, Mode, Plan } from '../compiler';

/** A small valid runbook; tests replace parts of it. Line numbers below refer to this text. */
export const BASE = `apiVersion: drover.dev/v1
kind: RecoveryPlan
metadata:
  name: t
objectives:
  rpo: 15m
  rto: 1h
sites:
  protected: { name: east, provider: simulator }
  recovery: { name: west, provider: simulator }
groups:
  - name: db
    priority: 1
    workloads:
      - name: db-1
  - name: app
    priority: 2
    workloads:
      - name: app-1
        dependsOn: [db-1]
`;

export function compileText(text: string, mode?: Mode): CompileResult {
  return compile(text, mode ? { file: 'test.yaml', mode } : { file: 'test.yaml' });
}

export function mustPlan(text: string, mode: Mode): Plan {
  const r = compileText(text, mode);
  if (!r.plan) throw new Error(`no plan: ${JSON.stringify(r.diagnostics, null, 2)}`);
  return r.plan;
}

/** Whether step `from` (transitively) waits for step `to`. */
export function waitsFor(plan: Plan, from: string, to: string): boolean {
  const deps = new Map(plan.steps.map((s) => [s.id, s.dependsOn]));
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    for (const d of deps.get(id) ?? []) {
      if (d === to) return true;
      if (!seen.has(d)) {
        seen.add(d);
        stack.push(d);
      }
    }
  }
  return false;
}
