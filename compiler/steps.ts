/**
 * Building blocks of plan steps, shared by the expansion: step policies (timeout, retry, onFailure)
 * resolved through the levels of defaults, plan sites and workloads, the simulation block, tabletop
 * steps, and the pruning of barriers that join nothing.
 */
import { parseDuration } from './durations';
import { DEFAULT_RETRY, DEFAULT_TIMEOUT_MS } from './modes';
import type {
  Compensation,
  JsonObject,
  OnFailure,
  PlanSite,
  PlanStep,
  PlanWorkload,
  RetryPolicy,
  Simulation,
  StepKind,
} from '../contracts/plan';
import type { ActionName, Defaults, Group, RetrySpec, Runbook, Site, StepPolicy, Workload } from './runbook';

const ms = (d: string | undefined): number | undefined => (d === undefined ? undefined : parseDuration(d));

export function findLastIndex<T>(a: T[], f: (t: T) => boolean): number {
  for (let i = a.length - 1; i >= 0; i--) if (f(a[i]!)) return i;
  return -1;
}

export function compensationOf(step: PlanStep, kind: StepKind): Compensation {
  return { kind, params: step.params, timeoutMs: step.timeoutMs, retry: step.retry };
}

export function resolvePolicy(levels: (StepPolicy | Defaults | undefined)[]): {
  timeoutMs: number;
  retry: RetryPolicy;
  onFailure: OnFailure;
} {
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  let onFailure: OnFailure = 'abort';
  const retry: RetryPolicy = { ...DEFAULT_RETRY, nonRetryableErrorTypes: [] };
  for (const l of levels) {
    if (!l) continue;
    timeoutMs = ms(l.timeout) ?? timeoutMs;
    onFailure = l.onFailure ?? onFailure;
    mergeRetry(retry, l.retry);
  }
  return { timeoutMs, retry, onFailure };
}

export function mergeRetry(into: RetryPolicy, r: RetrySpec | undefined): void {
  if (!r) return;
  if (r.maxAttempts !== undefined) into.maximumAttempts = r.maxAttempts;
  into.initialIntervalMs = ms(r.initialInterval) ?? into.initialIntervalMs;
  if (r.backoffCoefficient !== undefined) into.backoffCoefficient = r.backoffCoefficient;
  into.maximumIntervalMs = ms(r.maxInterval) ?? into.maximumIntervalMs;
  if (r.nonRetryableErrors) into.nonRetryableErrorTypes = [...r.nonRetryableErrors];
}

export function planSite(site: Site, role: 'protected' | 'recovery', planMax: number): PlanSite {
  return {
    name: site.name,
    role,
    provider: site.provider,
    taskQueue: site.taskQueue ?? `drover-${site.name}`,
    testNetwork: site.testNetwork ?? 'drover-test',
    maxParallel: site.maxParallel ?? planMax,
    connection: (site.connection ?? {}) as JsonObject,
  };
}

export function planWorkload(w: Workload, g: Group): PlanWorkload {
  const pw: PlanWorkload = { name: w.name, group: g.name, type: w.type ?? 'vm' };
  if (g.priority !== undefined) pw.priority = g.priority;
  if (w.objectives) pw.objectives = { rpoMs: ms(w.objectives.rpo) ?? 0, rtoMs: ms(w.objectives.rto) ?? 0 };
  return pw;
}

export const ACTION_KIND: Record<ActionName, StepKind> = {
  preCheck: 'preCheck',
  sync: 'syncReplication',
  finalSync: 'syncReplication',
  fence: 'fence',
  promote: 'promote',
  shutdown: 'shutdown',
  snapshot: 'snapshot',
  restore: 'restore',
  network: 'customizeNetwork',
  powerOn: 'powerOn',
  waitReady: 'waitReady',
  validate: 'validate',
  powerOff: 'powerOff',
  deleteCopy: 'deleteCopy',
  removeSnapshot: 'removeSnapshot',
  reverseReplication: 'reverseReplication',
  testNetwork: 'createTestNetwork',
};

export function simulation(rb: Runbook): Simulation {
  const s = rb.simulation!;
  const latencyMs: Simulation['latencyMs'] = { default: ms(s.latency?.default) ?? 1000 };
  for (const [k, v] of Object.entries(s.latency ?? {})) {
    if (k !== 'default' && v) latencyMs[ACTION_KIND[k as ActionName]] = ms(v) ?? 0;
  }
  return {
    seed: s.seed ?? 1,
    latencyMs,
    recoveryPointAgeMs: ms(s.recoveryPointAge) ?? 60_000,
    faults: (s.faults ?? []).map((f) => {
      const out: Simulation['faults'][number] = {
        operation: f.operation && f.operation !== 'any' ? ACTION_KIND[f.operation] : 'any',
        effect: f.effect,
      };
      if (f.name) out.name = f.name;
      if (f.workload) out.workload = f.workload;
      if (f.site) out.site = rb.sites[f.site].name;
      if (f.times !== undefined) out.times = f.times;
      if (f.lag) out.lagMs = ms(f.lag) ?? 0;
      if (f.message) out.message = f.message;
      return out;
    }),
  };
}

/** Tabletop: every step is confirmed by a person; nothing is touched, so nothing is undone or retried. */
export function toTabletop(step: PlanStep): PlanStep {
  if (step.kind === 'barrier') return step;
  const rest = { ...step };
  delete rest.compensation;
  return {
    ...rest,
    kind: 'confirm',
    params: { action: step.kind, ...step.params },
    timeoutMs: 0,
    retry: { ...step.retry, maximumAttempts: 1 },
    onFailure: 'continue',
  };
}

/**
 * Barriers that join nothing are removed: one with no dependencies or no dependents, or with a single
 * dependency (its dependents then wait for that step directly). Repeats until nothing changes.
 */
export function pruneBarriers(steps: PlanStep[]): PlanStep[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const dependents = new Map<string, Set<string>>(steps.map((s) => [s.id, new Set()]));
  for (const s of steps) for (const d of s.dependsOn) dependents.get(d)!.add(s.id);
  const queue = steps.filter((s) => s.kind === 'barrier').map((s) => s.id);
  const removed = new Set<string>();
  while (queue.length) {
    const id = queue.pop()!;
    const b = byId.get(id)!;
    if (removed.has(id)) continue;
    const outs = dependents.get(id)!;
    if (b.dependsOn.length > 1 && outs.size > 0) continue;
    removed.add(id);
    for (const o of outs) {
      const s = byId.get(o)!;
      s.dependsOn = s.dependsOn.filter((d) => d !== id);
      for (const d of b.dependsOn) {
        if (!s.dependsOn.includes(d)) s.dependsOn.push(d);
        dependents.get(d)!.add(o);
      }
      if (s.kind === 'barrier') queue.push(o);
    }
    for (const d of b.dependsOn) {
      dependents.get(d)!.delete(id);
      if (byId.get(d)!.kind === 'barrier') queue.push(d);
    }
  }
  return steps.filter((s) => !removed.has(s.id));
}

/** Readiness: each check is one reading (no retry, nothing to undo), and every check runs whatever the others say. */
export function toReadiness(step: PlanStep): PlanStep {
  if (step.kind === 'barrier') return step;
  const rest = { ...step };
  delete rest.compensation;
  return { ...rest, retry: { ...step.retry, maximumAttempts: 1 }, onFailure: 'continue' };
}
