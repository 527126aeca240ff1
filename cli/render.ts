/** Plans as people read them: a text tree, Mermaid and Graphviz. */
import { formatDuration } from '../compiler';
import type { Plan, PlanStep } from '../compiler';

export function renderText(plan: Plan, color: boolean): string {
  const bold = (s: string) => (color ? `\u001b[1m${s}\u001b[0m` : s);
  const dim = (s: string) => (color ? `\u001b[2m${s}\u001b[0m` : s);
  const hot = (s: string) => (color ? `\u001b[1;35m${s}\u001b[0m` : s);
  const critical = new Set(plan.criticalPath.stepIds);
  const lines: string[] = [];
  const real = plan.steps.filter((s) => s.kind !== 'barrier');
  lines.push(bold(`${plan.name} · ${plan.mode}`) + `  ${real.length} steps, ${plan.from} → ${plan.to}`);
  lines.push(
    dim(
      `source ${plan.source.file}${plan.source.gitCommit ? ` @ ${plan.source.gitCommit.slice(0, 12)}` : ''}  plan ${plan.planHash.slice(0, 12)}`,
    ),
  );
  lines.push('');

  const stepLine = (s: PlanStep, label: string, branch: string) => {
    const mark = critical.has(s.id) ? hot('*') : ' ';
    const chainPrefix = s.workload ? `${s.workload}/` : s.group ? `${s.group}/` : 'plan/';
    const outside = s.dependsOn.filter((d) => !d.startsWith(chainPrefix));
    const waits = outside.length ? dim(`  waits for ${outside.join(', ')}`) : '';
    return `${branch}${mark} ${label.padEnd(20)} ${s.kind.padEnd(18)} ${s.site.padEnd(10)} ${formatDuration(s.estimateMs).padStart(7)}${waits}`;
  };
  const planSteps = real.filter((s) => !s.workload && !s.group);
  if (planSteps.length) {
    lines.push(bold('plan'));
    planSteps.forEach((s, i) =>
      lines.push(stepLine(s, s.id.replace(/^plan\//, ''), i === planSteps.length - 1 ? '  └─' : '  ├─')),
    );
  }
  const groups = [...new Set(plan.workloads.map((w) => w.group))];
  for (const g of groups) {
    const members = plan.workloads.filter((w) => w.group === g);
    const prio = members[0]?.priority;
    lines.push(bold(`${g}${prio !== undefined ? ` (priority ${prio})` : ''}`));
    const groupSteps = real.filter((s) => s.group === g && !s.workload);
    groupSteps.forEach((s) => lines.push(stepLine(s, s.id.slice(g.length + 1), '  ├─')));
    for (const w of members) {
      lines.push(`  ${w.name}`);
      const chain = real.filter((s) => s.workload === w.name);
      chain.forEach((s, i) =>
        lines.push(stepLine(s, s.id.slice(w.name.length + 1), i === chain.length - 1 ? '    └─' : '    ├─')),
      );
    }
  }
  lines.push('');
  const cp = plan.criticalPath;
  const verdict = cp.exceedsRto
    ? hot(`over the RTO of ${formatDuration(cp.rtoMs)}`)
    : `within the RTO of ${formatDuration(cp.rtoMs)}`;
  lines.push(
    bold(`critical path: ${formatDuration(cp.estimateMs)} estimated, ${verdict}`) + dim('  (* marks its steps)'),
  );
  lines.push('  ' + cp.stepIds.filter((id) => plan.steps.find((s) => s.id === id)?.kind !== 'barrier').join(' → '));
  return lines.join('\n') + '\n';
}

export function renderMermaid(plan: Plan): string {
  const ids = new Map(plan.steps.map((s, i) => [s.id, `s${i}`]));
  const critical = new Set(plan.criticalPath.stepIds);
  const lines = ['flowchart TD'];
  for (const s of plan.steps) {
    const shape = s.kind === 'barrier' ? `((" "))` : `["${s.id}<br/><small>${s.kind} @ ${s.site}</small>"]`;
    lines.push(`  ${ids.get(s.id)}${shape}`);
  }
  for (const s of plan.steps) for (const d of s.dependsOn) lines.push(`  ${ids.get(d)} --> ${ids.get(s.id)}`);
  const cp = plan.steps.filter((s) => critical.has(s.id)).map((s) => ids.get(s.id));
  if (cp.length) lines.push(`  classDef critical stroke:#c0c,stroke-width:3px`, `  class ${cp.join(',')} critical`);
  return lines.join('\n') + '\n';
}

export function renderDot(plan: Plan): string {
  const critical = new Set(plan.criticalPath.stepIds);
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    `digraph ${q(`${plan.name} ${plan.mode}`)} {`,
    '  rankdir=LR;',
    '  node [shape=box, fontname="Helvetica"];',
  ];
  for (const s of plan.steps) {
    const attrs =
      s.kind === 'barrier'
        ? 'shape=point'
        : `label=${q(`${s.id}\n${s.kind} @ ${s.site}\n${formatDuration(s.estimateMs)}`)}${critical.has(s.id) ? ', color=magenta, penwidth=2' : ''}`;
    lines.push(`  ${q(s.id)} [${attrs}];`);
  }
  for (const s of plan.steps) for (const d of s.dependsOn) lines.push(`  ${q(d)} -> ${q(s.id)};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
