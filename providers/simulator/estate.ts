/** The simulated estate as a whole: its "before" (seeded from a plan), what exists, and the side effects performed. */
import type { JsonObject, Plan, PlanSite } from '../../contracts/plan';
import type { Inventory, SiteRecord, WorkloadRecord } from './model';
import { storeFor, updateWorkload } from './records';

/** What exists at each site, without timestamps and counters; cleanup after a test restores it exactly. */
export async function inventory(sites: PlanSite[], cwd = process.cwd()): Promise<Inventory> {
  const out: Inventory = { sites: {} };
  for (const site of sites) {
    const store = storeFor(site, cwd);
    const siteRec = await store.read<SiteRecord>(`${site.name}/_site`);
    const workloads: Inventory['sites'][string]['workloads'] = {};
    for (const key of await store.keys(site.name)) {
      if (key.endsWith('/_site')) continue;
      const rec = (await store.read<WorkloadRecord>(key))!;
      const { effects: _e, faultHits: _f, replica, instances, ...rest } = rec;
      workloads[rec.workload] = {
        ...rest,
        // Without `stoppedAt`, a time: a copy powered on and off again is the same copy.
        instances: Object.fromEntries(
          Object.entries(instances).map(([net, { stoppedAt: _s, ...instance }]) => [net, instance]),
        ),
        ...(replica ? { replicaFrom: replica.from } : {}),
        ...(replica?.promotedAt !== undefined ? { replicaPromoted: true } : {}),
      };
    }
    out.sites[site.name] = { networks: siteRec?.networks ?? [], workloads };
  }
  return out;
}

/** Side effects performed at a site, by workload and operation (e.g. power-ons of each VM). */
export async function effects(site: PlanSite, cwd = process.cwd()): Promise<Record<string, Record<string, number>>> {
  const store = storeFor(site, cwd);
  const out: Record<string, Record<string, number>> = {};
  for (const key of await store.keys(site.name)) {
    const rec = await store.read<{ workload?: string; effects: Record<string, number> }>(key);
    if (rec) out[rec.workload ?? '_site'] = rec.effects;
  }
  return out;
}

/**
 * Writes the estate as the plan describes it before any run (workloads at the protected site, replicas
 * at the other) for every workload that has no record yet. Runs do this lazily; tests and drills call it
 * to have a "before" to compare with.
 */
export async function seedSite(
  plan: Plan,
  cwd = process.cwd(),
  heartbeat: () => void = () => undefined,
): Promise<void> {
  const sites = Object.values(plan.sites);
  for (const w of plan.workloads) {
    // A workload another provider serves (a PostgreSQL pair in a mixed plan) has nothing on a simulated site.
    const provider = plan.steps.find((s) => s.workload === w.name && s.params.provider)?.params.provider;
    if (provider !== undefined && provider !== 'simulator') continue;
    for (const site of sites) {
      const peer = sites.find((s) => s.name !== site.name) ?? site;
      const settings = plan.steps.find((s) => s.workload === w.name && s.site === site.name && s.params.settings)
        ?.params.settings;
      const params: JsonObject = { workload: w.name, ...(settings ? { settings } : {}) };
      const ctx = {
        runId: 'seed',
        site,
        peer,
        attempt: 1,
        heartbeat,
        signal: new AbortController().signal,
        ...(plan.simulation ? { simulation: plan.simulation } : {}),
      };
      await updateWorkload(storeFor(site, cwd), site, ctx, params, () => undefined);
    }
    heartbeat();
  }
}
