/**
 * One recovery at a time per workload (SRM's "in use"). Every run that touches workloads holds them in the
 * hold registry of its pair of sites: one small long-lived workflow (`workloadHolds`, id
 * `drover-holds.<orchestration queue>.<site>+<site>`) whose state is which run holds which workload. A run
 * asks for all its workloads in one Update (`acquire`): the handler is synchronous, so two runs asking at
 * once are served one after the other, and the second is refused, naming the run that holds them, whichever
 * way either was started (`drover run`, `temporal workflow start`, a schedule). The run releases them in one
 * Update when it ends; a run that ended without releasing (terminated) is evicted by the next run refused
 * because of it (activities/preflight.ts checks that the holder is closed).
 *
 * One Update per run, not one workflow per workload: a 2,000-workload run used to start and signal 4,000
 * workflows around its steps (README, Scale). The registry continues as new when its history grows and
 * ends when it holds nothing; the next `acquire` starts it again (update-with-start).
 *
 * Deterministic: imports only @temporalio/workflow and pure modules.
 */
import * as wf from '@temporalio/workflow';
import type { Mode, Plan } from '../contracts/plan';

/** Modes that touch no workload, so hold none. */
export const HOLD_FREE_MODES: readonly Mode[] = ['readiness', 'tabletop'];

export const HOLD_REGISTRY_TYPE = 'workloadHolds';

/** Who holds what: one entry per run. */
export interface HoldEntry {
  /** The workflow id of the run that holds the workloads. */
  holder: string;
  plan: string;
  mode: Mode;
  workloads: string[];
  since: number;
}

export type HoldRequest = Omit<HoldEntry, 'since'>;

/** `held`, or the runs that hold some of the workloads asked for (nothing is taken then). */
export type AcquireResult = { held: true } | { held: false; holders: { holder: string; workloads: string[] }[] };

export const acquireUpdate = wf.defineUpdate<AcquireResult, [HoldRequest]>('acquire');
/** Releases everything `holder` holds; returns how many workloads that was. */
export const releaseUpdate = wf.defineUpdate<number, [{ holder: string }]>('release');
export const holdsQuery = wf.defineQuery<HoldEntry[]>('holds');

/** The registry a plan's run holds its workloads in: the same workload is the same pair of sites and name. */
export function registryId(plan: Pick<Plan, 'sites'>, taskQueue: string): string {
  return `drover-holds.${taskQueue}.${Object.keys(plan.sites).sort().join('+')}`;
}

/** The workloads a run of `plan` holds (none in the modes that touch nothing). */
export function heldWorkloads(plan: Pick<Plan, 'mode' | 'workloads'>): string[] {
  return HOLD_FREE_MODES.includes(plan.mode) ? [] : plan.workloads.map((w) => w.name);
}

/** The hold registry. `entries`: what it held when it continued as new. */
export async function workloadHolds(entries: HoldEntry[] = []): Promise<void> {
  const byHolder = new Map(entries.map((e) => [e.holder, e]));
  const holderOf = new Map<string, string>();
  for (const e of entries) for (const w of e.workloads) holderOf.set(w, e.holder);
  // Started by an update-with-start: it ends only once it has held something and holds nothing again.
  let served = entries.length > 0;

  wf.setHandler(acquireUpdate, (req) => {
    const taken = new Map<string, string[]>();
    for (const w of req.workloads) {
      const h = holderOf.get(w);
      if (h !== undefined && h !== req.holder) taken.set(h, [...(taken.get(h) ?? []), w]);
    }
    if (taken.size > 0)
      return { held: false, holders: [...taken].map(([holder, workloads]) => ({ holder, workloads })) };
    // A retry of the same run's acquire finds its own holds and keeps them.
    const entry = byHolder.get(req.holder) ?? { ...req, workloads: [], since: Date.now() };
    const mine = new Set(entry.workloads);
    for (const w of req.workloads) if (!mine.has(w)) entry.workloads.push(w);
    byHolder.set(req.holder, entry);
    for (const w of req.workloads) holderOf.set(w, req.holder);
    served = true;
    return { held: true };
  });
  wf.setHandler(releaseUpdate, ({ holder }) => {
    const entry = byHolder.get(holder);
    if (!entry) return 0;
    byHolder.delete(holder);
    for (const w of entry.workloads) if (holderOf.get(w) === holder) holderOf.delete(w);
    return entry.workloads.length;
  });
  wf.setHandler(holdsQuery, () => [...byHolder.values()]);

  await wf.condition(
    () => ((served && byHolder.size === 0) || wf.workflowInfo().continueAsNewSuggested) && wf.allHandlersFinished(),
  );
  if (byHolder.size > 0) await wf.continueAsNew<typeof workloadHolds>([...byHolder.values()]);
}

/**
 * The hold of one workload, from before the registry: a run started by an older version may still hold
 * workloads this way. Kept so such a hold still replays and ends when its run releases it.
 */
export const releaseSignal = wf.defineSignal<[{ holder: string }]>('release');
export async function holdWorkload(input: { holder: string }): Promise<void> {
  let released = false;
  wf.setHandler(releaseSignal, (r) => {
    if (r?.holder === input.holder) released = true;
  });
  await wf.condition(() => released);
}
