/**
 * Fault injection and time: the runbook's `simulation.faults` (site-down, hang, fail N times, fail always;
 * the operations read replication-lag and storage-full themselves) and `simulation.latency`.
 */
import type { SimulatedFault, Simulation, StepKind } from '../../contracts/plan';
import { ProviderError } from '../errors';
import type { InfraKind, Operation, OperationContext } from '../types';
import { storeFor, updateSite, updateWorkload } from './records';
import type { SimOperation } from './records';
import type { JsonStore } from './store';

/**
 * `fn` as the simulated site runs it: on its site's store, after the faults that match it (a site-down
 * fails it at once; a hang never ends) and its latency.
 */
export function simulated(cwd: string, kind: InfraKind, fn: SimOperation): Operation {
  return async (params, ctx) => {
    const store = storeFor(ctx.site, cwd);
    const workload = typeof params.workload === 'string' ? params.workload : undefined;
    const faults = matchingFaults(ctx, kind, workload);
    if (faults.some((f) => f.effect === 'site-down')) {
      throw new ProviderError('SiteUnreachable', `site ${ctx.site.name} is unreachable (simulated site-down)`);
    }
    await pause(latencyOf(ctx, kind, workload), ctx);
    if (faults.some((f) => f.effect === 'hang')) {
      await pause(Number.POSITIVE_INFINITY, ctx);
    }
    await fireCountedFaults(store, ctx, kind, workload, faults);
    return fn(params, ctx, store);
  };
}

export function matchingFaults(ctx: OperationContext, kind: InfraKind, workload: string | undefined): SimulatedFault[] {
  return (ctx.simulation?.faults ?? []).filter(
    (f) =>
      (f.operation === 'any' || f.operation === kind) &&
      (f.workload === undefined || f.workload === workload) &&
      (f.site === undefined || f.site === ctx.site.name),
  );
}

/** `fail` (N times per run, workload and operation) and `fail-always`, counted in the persisted record. */
async function fireCountedFaults(
  store: JsonStore,
  ctx: OperationContext,
  kind: InfraKind,
  workload: string | undefined,
  faults: SimulatedFault[],
): Promise<void> {
  const all = ctx.simulation?.faults ?? [];
  for (const f of faults) {
    if (f.effect === 'fail-always')
      throw new ProviderError(
        'SimulatedFault',
        f.message ?? `${kind} failed (simulated fault${f.name ? ` ${f.name}` : ''})`,
      );
    if (f.effect !== 'fail') continue;
    const key = `${ctx.runId}|${all.indexOf(f)}|${kind}`;
    const bump = (rec: { faultHits: Record<string, number> }) => {
      const hits = rec.faultHits[key] ?? 0;
      if (hits >= (f.times ?? 1)) return false;
      rec.faultHits[key] = hits + 1;
      return true;
    };
    const fire = workload
      ? await updateWorkload(store, ctx.site, ctx, { workload }, bump)
      : await updateSite(store, ctx, bump);
    if (fire)
      throw new ProviderError(
        'SimulatedFault',
        f.message ??
          `${kind} of ${workload ?? ctx.site.name} failed (simulated fault${f.name ? ` ${f.name}` : ''}, attempt ${ctx.attempt})`,
      );
  }
}

function latencyOf(ctx: OperationContext, kind: InfraKind, workload: string | undefined): number {
  return ctx.simulation ? simulatedLatencyMs(ctx.simulation, kind, workload, ctx.attempt) : 0;
}

/** How long a simulated operation takes: its latency ±10%, a pure function of the seed, workload, operation and attempt. */
export function simulatedLatencyMs(
  sim: Simulation,
  kind: StepKind,
  workload: string | undefined,
  attempt: number,
): number {
  const base = sim.latencyMs[kind] ?? sim.latencyMs.default;
  return Math.round(base * (0.9 + 0.2 * unitRandom(`${sim.seed}|${workload ?? ''}|${kind}|${attempt}`)));
}

function unitRandom(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/**
 * Waits `ms` (a simulated operation's time), ended early by a cancel. No heartbeat of its own: the activity's
 * heartbeat every 2 s covers long waits, and a step shorter than that costs the server no heartbeat at all.
 */
export async function pause(ms: number, ctx: Pick<OperationContext, 'signal'>): Promise<void> {
  const end = Date.now() + ms;
  // One abort listener for the whole wait (not one per tick), removed at the end.
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    // The time left is read once per turn: read again for the timer, it could be negative (Node warns).
    for (let left = end - Date.now(); left > 0; left = end - Date.now()) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
      await new Promise<void>((resolveSleep) => {
        const t = setTimeout(resolveSleep, Math.min(60_000, left));
        wake = () => (clearTimeout(t), resolveSleep());
      });
    }
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
