/**
 * A simulated drill's score: did the plan recover every workload within its objectives, and how.
 * Pure: from the (merged) run record.
 */
import { formatDuration } from '../compiler/durations';
import type { StepKind } from '../contracts/plan';
import type { RunRecord } from '../contracts/record';

export interface WorkloadScore {
  name: string;
  rtoMs?: number;
  rtoObjectiveMs: number;
  rpoMs?: number;
  rpoObjectiveMs: number;
  met: boolean;
}

export interface DrillScore {
  scenario: string;
  description: string;
  seed: number;
  passed: boolean;
  /** Why it failed; empty when it passed. */
  reasons: string[];
  rto: { achievedMs?: number; objectiveMs: number };
  rpo: { achievedMs?: number; objectiveMs: number };
  workloads: WorkloadScore[];
  retried: { step: string; attempts: number }[];
  /** Steps a person retried or skipped after a failure (`onFailure: pause`). */
  steered: { step: string; decision: string; by: string }[];
  compensated: string[];
  skipped: string[];
  failedStep?: string;
}

const RECOVERED: StepKind[] = ['validate', 'waitReady', 'powerOn', 'restore'];

export function scoreDrill(record: RunRecord): DrillScore | undefined {
  if (!record.drill) return undefined;
  const reasons: string[] = [];
  const workloads = new Map<string, WorkloadScore>();
  for (const s of record.steps) {
    if (!s.workload || workloads.has(s.workload)) continue;
    const own = record.workloadObjectives?.[s.workload];
    workloads.set(s.workload, {
      name: s.workload,
      rtoObjectiveMs: own?.rtoMs ?? record.objectives.rtoMs,
      rpoObjectiveMs: own?.rpoMs ?? record.objectives.rpoMs,
      met: true,
    });
  }
  for (const w of workloads.values()) {
    const steps = record.steps.filter((s) => s.workload === w.name && s.status === 'succeeded');
    // Recovered when its last recovery step (validation, else readiness, power-on, restore) ended.
    const kind = RECOVERED.find((k) => steps.some((s) => s.kind === k));
    const ends = steps.filter((s) => s.kind === kind && s.endedAt !== undefined).map((s) => s.endedAt!);
    if (ends.length && record.status === 'succeeded') w.rtoMs = Math.max(...ends) - record.startedAt;
    const points = steps.filter((s) => s.recoveryPointAt !== undefined).map((s) => s.recoveryPointAt!);
    if (points.length) w.rpoMs = Math.max(0, record.startedAt - Math.min(...points));
    const missed = workloadReasons(w);
    if (missed.length) {
      w.met = false;
      reasons.push(...missed);
    }
  }
  const { rtoMs, rpoMs } = record.achieved;
  reasons.unshift(...planReasons(record.achieved, record.objectives));
  if (record.status !== 'succeeded') {
    const failed = record.failedStep ? record.steps.find((s) => s.id === record.failedStep) : undefined;
    reasons.unshift(
      `the run ${record.status}${failed ? ` at ${failed.id}: ${failed.error?.type ?? ''} ${failed.error?.message ?? ''}`.trimEnd() : ''}`,
    );
  }
  const real = record.steps.filter((s) => s.kind !== 'barrier');
  const score: DrillScore = {
    scenario: record.drill.scenario,
    description: record.drill.description,
    seed: record.drill.seed,
    passed: reasons.length === 0,
    reasons,
    rto: { ...(rtoMs !== undefined ? { achievedMs: rtoMs } : {}), objectiveMs: record.objectives.rtoMs },
    rpo: { ...(rpoMs !== undefined ? { achievedMs: rpoMs } : {}), objectiveMs: record.objectives.rpoMs },
    workloads: [...workloads.values()],
    retried: real.filter((s) => s.attempts > 1).map((s) => ({ step: s.id, attempts: s.attempts })),
    steered: real.flatMap((s) =>
      (s.decisions ?? [])
        .filter((d) => d.decision === 'retry' || d.decision === 'skip')
        .map((d) => ({ step: s.id, decision: d.decision, by: d.by })),
    ),
    compensated: real.filter((s) => s.compensation?.status === 'succeeded').map((s) => s.id),
    skipped: real.filter((s) => s.status === 'skipped').map((s) => s.id),
  };
  if (record.failedStep) score.failedStep = record.failedStep;
  return score;
}

/** Why a workload missed its own objectives; empty when it met them (or was not measured). */
export function workloadReasons(w: {
  name: string;
  rtoMs?: number;
  rtoObjectiveMs: number;
  rpoMs?: number;
  rpoObjectiveMs: number;
}): string[] {
  const out: string[] = [];
  if (w.rtoMs !== undefined && w.rtoMs > w.rtoObjectiveMs)
    out.push(`RTO of ${w.name} ${formatDuration(w.rtoMs)} exceeds its objective ${formatDuration(w.rtoObjectiveMs)}`);
  if (w.rpoMs !== undefined && w.rpoMs > w.rpoObjectiveMs)
    out.push(`RPO of ${w.name} ${formatDuration(w.rpoMs)} exceeds its objective ${formatDuration(w.rpoObjectiveMs)}`);
  return out;
}

/** Why a run missed the plan's objectives (RPO first, then RTO); empty when it met them. */
export function planReasons(
  achieved: { rtoMs?: number | undefined; rpoMs?: number | undefined },
  objectives: { rtoMs: number; rpoMs: number },
): string[] {
  const out: string[] = [];
  if (achieved.rpoMs !== undefined && achieved.rpoMs > objectives.rpoMs)
    out.push(`RPO ${formatDuration(achieved.rpoMs)} exceeds the plan's objective ${formatDuration(objectives.rpoMs)}`);
  if (achieved.rtoMs !== undefined && achieved.rtoMs > objectives.rtoMs)
    out.push(`RTO ${formatDuration(achieved.rtoMs)} exceeds the plan's objective ${formatDuration(objectives.rtoMs)}`);
  return out;
}

/** The score as Markdown lines: a section of the report, and what `drover drill` prints. */
export function scoreMarkdown(s: DrillScore): string[] {
  const d = (ms: number | undefined) => (ms === undefined ? 'not measured' : formatDuration(ms));
  const out = [
    `- Scenario **${s.scenario}** (seed ${s.seed}): ${s.description}`,
    `- Result: **${s.passed ? 'PASS' : 'FAIL'}**${s.reasons.length ? `: ${s.reasons.join('; ')}` : ''}`,
    `- RTO ${d(s.rto.achievedMs)} (objective ${formatDuration(s.rto.objectiveMs)}); RPO ${d(s.rpo.achievedMs)} (objective ${formatDuration(s.rpo.objectiveMs)})`,
    `- Retried: ${s.retried.length ? s.retried.map((r) => `\`${r.step}\` (${r.attempts} attempts)`).join(', ') : 'none'}`,
  ];
  if (s.steered.length)
    out.push(`- Steered by people: ${s.steered.map((x) => `\`${x.step}\` ${x.decision} by ${x.by}`).join(', ')}`);
  if (s.compensated.length) out.push(`- Compensated: ${s.compensated.length} step(s)`);
  if (s.skipped.length) out.push(`- Skipped: ${s.skipped.map((x) => `\`${x}\``).join(', ')}`);
  out.push('', '| workload | RTO | objective | RPO | objective | met |', '|---|---|---|---|---|---|');
  for (const w of s.workloads)
    out.push(
      `| ${w.name} | ${d(w.rtoMs)} | ${formatDuration(w.rtoObjectiveMs)} | ${d(w.rpoMs)} | ${formatDuration(w.rpoObjectiveMs)} | ${w.met ? 'yes' : 'NO'} |`,
    );
  return out;
}
