/** `--mode readiness`: each pre-flight check, pass or fail, and the verdict. Pure: from the run record. */
import type { RunRecord } from '../contracts/record';

export interface ReadinessCheck {
  step: string;
  passed: boolean;
  detail: string;
}

export function readinessChecks(record: RunRecord): { ready: boolean; checks: ReadinessCheck[] } | undefined {
  if (record.plan.mode !== 'readiness') return undefined;
  const checks = record.steps
    .filter((s) => s.kind !== 'barrier')
    .map((s) => ({
      step: s.id,
      passed: s.status === 'succeeded',
      detail: s.status === 'succeeded' ? (s.message ?? '') : (s.error?.message ?? s.status),
    }));
  return { ready: record.status === 'succeeded' && checks.every((c) => c.passed), checks };
}

export function readinessMarkdown(r: { ready: boolean; checks: ReadinessCheck[] }): string[] {
  const failed = r.checks.filter((c) => !c.passed).length;
  return [
    `- Verdict: **${r.ready ? 'READY' : 'NOT READY'}** (${r.checks.length - failed} of ${r.checks.length} checks passed)`,
    ...r.checks.map((c) => `  - ${c.passed ? 'PASS' : '**FAIL**'} \`${c.step}\`: ${c.detail}`),
  ];
}
