/** The simulator's read-only checks: a step's precheck, and `--mode readiness`'s pre-flight checks. */
import type { JsonObject } from '../../contracts/plan';
import { ProviderError } from '../errors';
import { approversCheck } from '../readiness';
import type { OperationContext } from '../types';
import { matchingFaults } from './faults';
import { updateSite, workloadRecord } from './records';
import type { SimOperation } from './records';
import type { JsonStore } from './store';

export const preCheck: SimOperation = async (p, ctx, store) => {
  if (p.check) return readinessCheck(p, ctx, store);
  const rec = await workloadRecord(store, ctx, p);
  if (!rec.replica && !rec.instances.production) {
    throw new ProviderError(
      'InvalidState',
      `${rec.workload} has neither a replica nor a running copy at ${ctx.site.name}`,
    );
  }
  return {
    changed: false,
    message: `${rec.workload}: replica at ${ctx.site.name} is ${rec.replica ? 'present' : 'absent'}`,
  };
};

/** `--mode readiness`: one pre-flight check, read-only. A failed check is a ValidationFailed with the reason. */
async function readinessCheck(p: JsonObject, ctx: OperationContext, store: JsonStore) {
  const fail = (message: string) => {
    throw new ProviderError('ValidationFailed', message);
  };
  switch (p.check) {
    case 'site':
      // Reaching this line means the (simulated) site answered; a simulated site has no credentials to test.
      return { changed: false, message: `${ctx.site.name} reachable (simulated site: no credentials to check)` };
    case 'capacity': {
      const workloads = (p.workloads as string[]) ?? [];
      const full = (ctx.simulation?.faults ?? []).find(
        (f) => f.effect === 'storage-full' && (f.site === undefined || f.site === ctx.site.name),
      );
      if (full)
        fail(
          `${ctx.site.name} has no room to recover ${workloads.length} workload(s): ${full.message ?? 'datastore full'}`,
        );
      // The disks every workload recovers onto, against the site's `capacityGb` when the runbook gives one.
      let needGb = 0;
      for (const workload of workloads) needGb += (await workloadRecord(store, ctx, { workload })).disksGb;
      const capacityGb = ctx.site.connection.capacityGb;
      if (typeof capacityGb === 'number' && needGb > capacityGb)
        fail(
          `${ctx.site.name} has ${capacityGb} GB (connection.capacityGb) but recovering ${workloads.length} workload(s) needs ${needGb} GB`,
        );
      return {
        changed: false,
        message: `${ctx.site.name} has room for ${workloads.length} workload(s): ${needGb} GB of disks${typeof capacityGb === 'number' ? ` of ${capacityGb} GB` : ' (no capacityGb given: not limited)'}`,
      };
    }
    case 'test-network': {
      const net = String(p.network);
      const site = await updateSite(store, ctx, (rec) => ({ networks: [...rec.networks] }));
      return {
        changed: false,
        message: site.networks.includes(net)
          ? `test network ${net} is present at ${ctx.site.name}`
          : `test network ${net} is not there yet; ${ctx.site.name} can create it (tests do)`,
      };
    }
    case 'approvers':
      return approversCheck(p);
    case 'replication': {
      const rec = await workloadRecord(store, ctx, p);
      if (!rec.replica) fail(`${rec.workload} has no replica at ${ctx.site.name}`);
      const faultLag =
        matchingFaults(ctx, 'syncReplication', rec.workload).find((f) => f.effect === 'replication-lag')?.lagMs ?? 0;
      const lag = Math.max(Date.now() - rec.replica!.lastSyncAt, faultLag);
      const rpo = Number(p.rpoMs ?? 0);
      const minutes = (ms: number) => `${Math.round(ms / 60_000)}m`;
      if (rpo > 0 && lag > rpo)
        fail(`${rec.workload}: replica ${minutes(lag)} behind, over its RPO of ${minutes(rpo)}`);
      return { changed: false, message: `${rec.workload}: replica ${minutes(lag)} behind (RPO ${minutes(rpo)})` };
    }
    default:
      return fail(`unknown readiness check ${String(p.check)}`);
  }
}
