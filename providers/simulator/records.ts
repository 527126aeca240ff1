/**
 * The simulated site's state: where it is kept (a JsonStore per state folder), the records of workloads
 * and sites as the runbook describes them before any run, and the small helpers the operations share.
 */
import { resolve } from 'node:path';
import type { JsonObject, PlanSite } from '../../contracts/plan';
import { ProviderError } from '../errors';
import type { OperationContext, OperationResult } from '../types';
import type { SiteRecord, WorkloadRecord } from './model';
import { JsonStore } from './store';

/** One operation of the simulator, given the store of its site's state folder. */
export type SimOperation = (p: JsonObject, ctx: OperationContext, store: JsonStore) => Promise<OperationResult>;

const stores = new Map<string, JsonStore>();

/** The store of a site's state folder (`connection.stateDir`, default `.drover/sim`). */
export function storeFor(site: PlanSite, cwd = process.cwd()): JsonStore {
  const root = resolve(cwd, typeof site.connection.stateDir === 'string' ? site.connection.stateDir : '.drover/sim');
  let store = stores.get(root);
  if (!store) stores.set(root, (store = new JsonStore(root)));
  return store;
}

export function workloadRecord(store: JsonStore, ctx: OperationContext, p: JsonObject): Promise<WorkloadRecord> {
  return updateWorkload(store, ctx.site, ctx, p, (rec) => rec);
}

export function updateWorkload<R>(
  store: JsonStore,
  site: PlanSite,
  ctx: OperationContext,
  p: JsonObject,
  fn: (rec: WorkloadRecord) => R,
): Promise<R> {
  return store.update(`${site.name}/${String(p.workload)}`, () => newRecord(site, ctx, p), fn);
}

export function updateSite<R>(store: JsonStore, ctx: OperationContext, fn: (rec: SiteRecord) => R): Promise<R> {
  return store.update(
    `${ctx.site.name}/_site`,
    (): SiteRecord => ({ site: ctx.site.name, networks: [], effects: {}, faultHits: {} }),
    fn,
  );
}

function newRecord(site: PlanSite, ctx: OperationContext, p: JsonObject): WorkloadRecord {
  const workload = String(p.workload);
  const settings = (p.settings ?? {}) as { vm?: string; disksGb?: number };
  const rec: WorkloadRecord = {
    workload,
    site: site.name,
    vm: settings.vm ?? workload,
    disksGb: settings.disksGb ?? 40,
    instances: {},
    snapshots: {},
    effects: {},
    faultHits: {},
  };
  // As the runbook describes the estate before any run: it runs at the protected site, replicated to the other.
  if (site.role === 'protected') rec.instances.production = { power: 'on', ready: true, recoveryPointAt: null };
  else {
    const lastSyncAt = Date.now() - (ctx.simulation?.recoveryPointAgeMs ?? 60_000);
    rec.replica = {
      from: ctx.site.role === 'protected' ? ctx.site.name : ctx.peer.name,
      lastSyncAt,
      checkpoints: Array.from({ length: MAX_CHECKPOINTS }, (_, i) => lastSyncAt - (i + 1) * CHECKPOINT_EVERY_MS),
    };
  }
  return rec;
}

/** The replication engine keeps a checkpoint every 15 minutes for the last 2 hours (Zerto keeps days). */
const CHECKPOINT_EVERY_MS = 15 * 60_000;
export const MAX_CHECKPOINTS = 8;

export function instanceOf(rec: WorkloadRecord, p: JsonObject, ctx: OperationContext) {
  const inst = rec.instances[networkOf(p)];
  if (!inst)
    throw new ProviderError('InvalidState', `${rec.workload} has no copy on ${networkOf(p)} at ${ctx.site.name}`);
  return inst;
}

export const networkOf = (p: JsonObject) => (typeof p.network === 'string' ? p.network : 'production');
export const snapshotName = (p: JsonObject) => `drover-${networkOf(p)}`;
export const count = (rec: { effects: Record<string, number> }, kind: string) =>
  (rec.effects[kind] = (rec.effects[kind] ?? 0) + 1);

export const iso = (ms: number) => new Date(ms).toISOString();
export const minutes = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)}s` : `${Math.round(ms / 60_000)}m`);
