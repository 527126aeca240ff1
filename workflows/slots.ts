/**
 * One execution's share of the concurrency budget: the plan's `maxParallel` and each site's. A step the
 * workflow runs itself (a wait, a person's gate, a barrier) takes no slot. Shared by the forward phase and
 * compensation of a step engine (workflows/engine.ts). Pure.
 */
import { IN_WORKFLOW_KINDS } from '../compiler/partition';
import type { Budget, PlanStep } from '../contracts/plan';

export class Slots {
  private readonly perSite = new Map<string, number>();

  constructor(private readonly budget: Budget) {}

  /** Whether `step` may start now. */
  has(step: PlanStep): boolean {
    if (IN_WORKFLOW_KINDS.has(step.kind)) return true;
    const budget = this.budget;
    let active = 0;
    for (const c of this.perSite.values()) active += c;
    return active < budget.plan && (this.perSite.get(step.site) ?? 0) < (budget.sites[step.site] ?? 1);
  }

  take(step: PlanStep): void {
    if (!IN_WORKFLOW_KINDS.has(step.kind)) this.perSite.set(step.site, (this.perSite.get(step.site) ?? 0) + 1);
  }

  give(step: PlanStep): void {
    if (!IN_WORKFLOW_KINDS.has(step.kind)) this.perSite.set(step.site, this.perSite.get(step.site)! - 1);
  }
}
