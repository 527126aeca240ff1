/**
 * JUnit XML, so CI systems show a run (a drill above all) as tests: one test case per step, and for a drill
 * one per objective (plan RTO, plan RPO, each workload's), failing when it was missed.
 */
import { formatDuration } from '../compiler/durations';
import type { RunRecord } from '../contracts/record';
import { scoreDrill } from './score';

const xml = (s: unknown) =>
  String(s)
    // Characters XML 1.0 cannot carry at all.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

interface Case {
  classname: string;
  name: string;
  seconds: number;
  failure?: { type: string; message: string };
  skipped?: string;
}

export function toJunit(record: RunRecord): string {
  const p = record.plan;
  const cases: Case[] = record.steps
    .filter((s) => s.kind !== 'barrier')
    .map((s) => {
      const c: Case = {
        classname: `${p.name}.${s.workload ?? s.group ?? 'plan'}`,
        name: s.id,
        seconds: s.startedAt !== undefined && s.endedAt !== undefined ? (s.endedAt - s.startedAt) / 1000 : 0,
      };
      if (s.status === 'failed') c.failure = { type: s.error?.type ?? 'Failed', message: s.error?.message ?? 'failed' };
      else if (s.status === 'skipped' || s.status === 'not-run' || s.status === 'pending') c.skipped = s.status;
      if (s.compensation?.status === 'failed')
        c.failure = { type: 'CompensationFailed', message: s.compensation.error ?? 'compensation failed' };
      return c;
    });
  const score = scoreDrill(record);
  if (score) {
    const objective = (name: string, achieved: number | undefined, target: number) => {
      const c: Case = { classname: `${p.name}.objectives`, name, seconds: 0 };
      if (achieved === undefined) c.skipped = 'not measured';
      else if (achieved > target)
        c.failure = {
          type: 'ObjectiveMissed',
          message: `${formatDuration(achieved)} exceeds ${formatDuration(target)}`,
        };
      return c;
    };
    cases.push(objective('RTO', score.rto.achievedMs, score.rto.objectiveMs));
    cases.push(objective('RPO', score.rpo.achievedMs, score.rpo.objectiveMs));
    for (const w of score.workloads) {
      cases.push(objective(`${w.name} RTO`, w.rtoMs, w.rtoObjectiveMs));
      cases.push(objective(`${w.name} RPO`, w.rpoMs, w.rpoObjectiveMs));
    }
  }
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped).length;
  const seconds = record.endedAt !== undefined ? (record.endedAt - record.startedAt) / 1000 : 0;
  const suite = `${p.name} ${p.mode}${record.drill ? ` drill ${record.drill.scenario}` : ''}`;
  const props = [
    ['workflowId', record.workflowId],
    ['status', record.status],
    ['planHash', p.planHash],
    ['sourceFile', p.sourceFile],
    ...(p.gitCommit ? [['gitCommit', p.gitCommit]] : []),
    ...(record.drill ? [['seed', String(record.drill.seed)]] : []),
  ];
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="drover" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds.toFixed(3)}">`,
    `  <testsuite name="${xml(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds.toFixed(3)}" timestamp="${new Date(record.startedAt).toISOString().slice(0, 19)}">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${xml(k)}" value="${xml(v)}"/>`),
    '    </properties>',
    ...cases.map((c) => {
      const open = `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}" time="${c.seconds.toFixed(3)}"`;
      if (c.failure)
        return `${open}>\n      <failure type="${xml(c.failure.type)}" message="${xml(c.failure.message)}">${xml(c.failure.message)}</failure>\n    </testcase>`;
      if (c.skipped) return `${open}>\n      <skipped message="${xml(c.skipped)}"/>\n    </testcase>`;
      return `${open}/>`;
    }),
    '  </testsuite>',
    '</testsuites>',
  ];
  return lines.join('\n') + '\n';
}
