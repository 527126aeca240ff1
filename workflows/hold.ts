/**
 * One recovery at a time per workload (SRM's "in use"). A run holds each workload it touches by running a
 * tiny `holdWorkload` workflow whose id names the workload: Temporal refuses a second running workflow of
 * the same id, so two runs cannot hold one workload at once, whichever way they were started (`drover run`,
 * `temporal workflow start`, a schedule). The run releases its holds when it ends; a hold whose run has
 * ended without releasing it (terminated) is taken over by the next run that asks (activities/preflight.ts).
 *
 * Deterministic: imports only @temporalio/workflow and pure modules.
 */
import * as wf from '@temporalio/workflow';
import type { Mode, Plan } from '../compiler/plan';

/** Modes that touch no workload, so hold none. */
export const HOLD_FREE_MODES: readonly Mode[] = ['readiness', 'tabletop'];

export interface HoldInput {
  /** The workflow id of the run that holds the workload. */
  holder: string;
  plan: string;
  mode: Mode;
}

export const releaseSignal = wf.defineSignal<[{ holder: string }]>('release');
export const HOLD_WORKFLOW_TYPE = 'holdWorkload';

/**
 * The hold of one workload: the same workload is the same pair of sites and the same name, whichever
 * plan names it and in whichever direction (failback swaps the sites).
 */
export function holdIds(plan: Pick<Plan, 'mode' | 'sites' | 'workloads'>): string[] {
  if (HOLD_FREE_MODES.includes(plan.mode)) return [];
  const sites = Object.keys(plan.sites).sort().join('+');
  return plan.workloads.map((w) => `drover-hold.${sites}.${w.name}`);
}

/** The workload a hold id stands for (its last part). */
export function heldWorkload(holdId: string): string {
  return holdId.slice(holdId.lastIndexOf('.') + 1);
}

/** Runs until its holder releases it. */
export async function holdWorkload(input: HoldInput): Promise<void> {
  let released = false;
  wf.setHandler(releaseSignal, (r) => {
    if (r?.holder === input.holder) released = true;
  });
  await wf.condition(() => released);
}
