/**
 * What a tabletop exercise found: the gaps in a plan that people could not walk as written.
 * Pure: from the run record only.
 */
import { formatDuration } from '../compiler/durations';
import type { RunRecord, StepRecord } from '../contracts/record';

export interface Gap {
  kind: 'blocked' | 'approval' | 'slow' | 'unanswered';
  step: string;
  text: string;
}

export interface TabletopFindings {
  gaps: Gap[];
  answered: number;
  done: number;
  blocked: number;
  skipped: number;
  /** The runbook's estimate of the recovery (its critical path), against the objective. */
  estimatedRtoMs?: number;
  rtoObjectiveMs: number;
  /** How long the exercise took to walk. */
  walkedMs?: number;
}

const answerOf = (s: StepRecord) =>
  s.decisions?.find((d) => ['done', 'blocked', 'skipped', 'dismissed'].includes(d.decision));

export function tabletopFindings(record: RunRecord): TabletopFindings {
  const walked = record.steps.filter((s) => s.kind === 'confirm');
  const gaps: Gap[] = [];
  for (const s of walked) {
    const answer = answerOf(s);
    if (s.action === 'approval') {
      const approvers = s.approvers ?? [];
      if (s.error?.type === 'Blocked' || s.error?.type === 'Unanswered') {
        gaps.push({
          kind: 'approval',
          step: s.id,
          text: `no listed approver (${approvers.join(', ')}) could give it: ${s.error.message}`,
        });
        continue;
      }
      if (answer && answer.decision !== 'skipped' && !approvers.includes(answer.by)) {
        gaps.push({
          kind: 'approval',
          step: s.id,
          text: `given by ${answer.by}, who is not a listed approver (${approvers.join(', ')})`,
        });
      }
    }
    if (s.error?.type === 'Blocked')
      gaps.push({ kind: 'blocked', step: s.id, text: `blocked (${answer?.by ?? 'unknown'}): ${s.error.message}` });
    if (s.error?.type === 'Unanswered') gaps.push({ kind: 'unanswered', step: s.id, text: s.error.message });
    if (
      s.status === 'succeeded' &&
      s.estimateMs &&
      s.startedAt !== undefined &&
      s.endedAt !== undefined &&
      s.endedAt - s.startedAt > s.estimateMs
    ) {
      gaps.push({
        kind: 'slow',
        step: s.id,
        text: `walking it took ${formatDuration(s.endedAt - s.startedAt)}; the runbook expects ${formatDuration(s.estimateMs)}`,
      });
    }
  }
  const count = (d: string) => walked.filter((s) => answerOf(s)?.decision === d).length;
  const out: TabletopFindings = {
    gaps,
    answered: walked.filter((s) => answerOf(s)).length,
    done: count('done') + count('dismissed'),
    blocked: count('blocked'),
    skipped: count('skipped'),
    rtoObjectiveMs: record.objectives.rtoMs,
  };
  if (record.plan.estimatedRtoMs !== undefined) out.estimatedRtoMs = record.plan.estimatedRtoMs;
  if (record.endedAt !== undefined) out.walkedMs = record.endedAt - record.startedAt;
  return out;
}

/** The findings as Markdown lines (a section of the report, and what `drover tabletop` prints). */
export function findingsMarkdown(f: TabletopFindings): string[] {
  const out: string[] = [];
  out.push(
    `- Walked: ${f.answered} step(s) answered: ${f.done} done, ${f.blocked} blocked, ${f.skipped} skipped${f.walkedMs !== undefined ? `, in ${formatDuration(f.walkedMs)}` : ''}`,
  );
  if (f.estimatedRtoMs !== undefined) {
    const within = f.estimatedRtoMs <= f.rtoObjectiveMs;
    out.push(
      `- Estimated RTO ${formatDuration(f.estimatedRtoMs)} (the runbook's critical path) against the objective ${formatDuration(f.rtoObjectiveMs)}: ${within ? 'within' : 'OVER'}${f.blocked ? `; not to be relied on while ${f.blocked} step(s) are blocked` : ''}`,
    );
  }
  if (f.gaps.length === 0) out.push('- Gaps found: none');
  else {
    out.push(`- Gaps found: ${f.gaps.length}`);
    for (const g of f.gaps) out.push(`  - **${g.kind}** \`${g.step}\`: ${g.text}`);
  }
  return out;
}
