/**
 * The simulated site: a stand-in for a datacenter that drills and tests run against. It is NOT real
 * infrastructure: VMs, disks, snapshots, replication and networks are records in `.drover/sim/`.
 * What is real is everything around it: Temporal, the workflow, retries, timeouts, compensation.
 *
 * Operations take the time the runbook's `simulation.latency` says, are idempotent (a retried power-on
 * of a running VM changes nothing and counts nothing), and fail as `simulation.faults` say,
 * deterministically: "fail 2 times" fails the first two attempts of each matching operation in a run.
 */
import { resolve } from 'node:path';
import type { JsonObject, Plan, PlanSite, SimulatedFault, Simulation, StepKind } from '../../compiler/plan';
import { ProviderError } from '../errors';
import { approversCheck } from '../readiness';
import type { InfraKind, Operation, OperationContext, OperationResult, Provider } from '../types';
import type { Inventory, Replica, SiteRecord, WorkloadRecord } from './model';
import { JsonStore } from './store';

export type { Inventory, WorkloadRecord } from './model';

const stores = new Map<string, JsonStore>();

/** The store of a site's state folder (`connection.stateDir`, default `.drover/sim`). */
export function storeFor(site: PlanSite, cwd = process.cwd()): JsonStore {
  const root = resolve(cwd, typeof site.connection.stateDir === 'string' ? site.connection.stateDir : '.drover/sim');
  let store = stores.get(root);
  if (!store) stores.set(root, (store = new JsonStore(root)));
  return store;
}

export function createSimulator(cwd = process.cwd()): Provider {
  const op =
    (
      kind: InfraKind,
      fn: (p: JsonObject, ctx: OperationContext, store: JsonStore) => Promise<OperationResult>,
    ): Operation =>
    async (params, ctx) => {
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

  const operations: Record<InfraKind, Operation> = {
    preCheck: op('preCheck', async (p, ctx, store) => {
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
    }),

    syncReplication: op('syncReplication', async (p, ctx, store) => {
      const lagMs =
        matchingFaults(ctx, 'syncReplication', p.workload as string).find((f) => f.effect === 'replication-lag')
          ?.lagMs ?? 0;
      const source = await workloadRecord(store, ctx, p);
      const inst = source.instances.production;
      if (!inst)
        throw new ProviderError(
          'InvalidState',
          `${source.workload} does not run at ${ctx.site.name}, nothing to replicate`,
        );
      // The source's last position: now while it takes writes, else when it stopped.
      const now = Date.now();
      const sourceAt = inst.power === 'on' && !inst.fenced ? now : (inst.stoppedAt ?? now);
      if (p.proveCaughtUp === true && sourceAt === now)
        throw new ProviderError(
          'InvalidState',
          `${source.workload} still takes writes at ${ctx.site.name}: a switchover's final sync needs it stopped first`,
        );
      // A replication-lag fault holds the replica `lagMs` behind (the scenario's "40 minutes behind").
      const reached = Math.min(sourceAt, now - lagMs);
      let changed = true;
      const replica = await updateWorkload(store, ctx.peer, ctx, p, (target) => {
        if (target.replica?.promotedAt !== undefined) return { ...target.replica };
        // Already there (a stopped source synced before, e.g. a retried final sync): nothing to ship.
        if (target.replica?.from === ctx.site.name && target.replica.lastSyncAt === reached) {
          changed = false;
          return { ...target.replica };
        }
        const checkpoints = [target.replica?.lastSyncAt, ...(target.replica?.checkpoints ?? [])]
          .filter((x): x is number => x !== undefined && x < reached)
          .slice(0, MAX_CHECKPOINTS);
        target.replica = {
          from: ctx.site.name,
          lastSyncAt: reached,
          checkpoints,
        };
        count(target, 'syncReplication');
        return { ...target.replica };
      });
      if (replica.promotedAt !== undefined)
        return {
          changed: false,
          message: `${source.workload}'s replica at ${ctx.peer.name} was already promoted: replication from ${ctx.site.name} has ended`,
          recoveryPointAt: replica.pointAt ?? replica.lastSyncAt,
        };
      const positions = { sourcePosition: iso(sourceAt), replicaPosition: iso(replica.lastSyncAt) };
      if (p.proveCaughtUp === true && replica.lastSyncAt < sourceAt)
        throw new ProviderError(
          'ReplicaBehind',
          `${source.workload}'s replica at ${ctx.peer.name} reached ${positions.replicaPosition}, but the source at ${ctx.site.name} stopped at ${positions.sourcePosition} (${Math.round((sourceAt - replica.lastSyncAt) / 1000)}s behind): nothing promoted`,
          true,
        );
      return {
        changed,
        message:
          p.proveCaughtUp === true
            ? `${source.workload} caught up at ${ctx.peer.name}: replica at ${positions.replicaPosition} = source's last position ${positions.sourcePosition}`
            : changed
              ? `${source.workload} replicated to ${ctx.peer.name}${lagMs ? `, ${Math.round(lagMs / 1000)}s behind` : ''}`
              : `${source.workload}'s replica at ${ctx.peer.name} already holds ${positions.replicaPosition}: nothing to replicate`,
        recoveryPointAt: replica.lastSyncAt,
        data: positions,
      };
    }),

    fence: op('fence', (p, ctx, store) =>
      updateWorkload(store, ctx.site, ctx, p, (rec) => {
        const inst = rec.instances.production;
        if (!inst)
          return { changed: false, message: `${rec.workload} has no production copy at ${ctx.site.name} to fence` };
        if (inst.fenced) return { changed: false, message: `${rec.workload} at ${ctx.site.name} is already fenced` };
        const wasOn = inst.power === 'on';
        inst.power = 'off';
        inst.ready = false;
        inst.fenced = true;
        inst.stoppedAt ??= Date.now();
        count(rec, 'fence');
        return {
          changed: true,
          message: `${rec.workload} at ${ctx.site.name} fenced${wasOn ? ' (it was still running: powered off)' : ''}: it takes no writes`,
        };
      }),
    ),

    unfence: op('unfence', (p, ctx, store) =>
      updateWorkload(store, ctx.site, ctx, p, (rec) => {
        const inst = rec.instances.production;
        if (!inst?.fenced) return { changed: false, message: `${rec.workload} at ${ctx.site.name} is not fenced` };
        delete inst.fenced;
        count(rec, 'unfence');
        return { changed: true, message: `${rec.workload} at ${ctx.site.name} unfenced` };
      }),
    ),

    promote: op('promote', (p, ctx, store) =>
      updateWorkload(store, ctx.site, ctx, p, (rec) => {
        const replica = rec.replica;
        if (replica?.promotedAt !== undefined)
          return {
            changed: false,
            message: `${rec.workload} at ${ctx.site.name} is already the primary`,
            recoveryPointAt: replica.pointAt ?? replica.lastSyncAt,
          };
        if (!replica)
          throw new ProviderError('InvalidState', `${rec.workload} has no replica at ${ctx.site.name} to promote`);
        const point = pickRecoveryPoint(replica, p.recoveryPoint, rec.workload);
        const lossMs = Math.max(0, Number(p.failoverAt ?? Date.now()) - point);
        const rpoMs = Number(p.rpoMs ?? 0);
        if (rpoMs > 0 && lossMs > rpoMs && p.acceptDataLoss !== true)
          throw new ProviderError(
            'DataLossNotAccepted',
            `${rec.workload}'s best recovery point at ${ctx.site.name} is ${iso(point)}: ${minutes(lossMs)} of data would be lost, over its RPO of ${minutes(rpoMs)}`,
          );
        replica.promotedAt = Date.now();
        replica.pointAt = point;
        count(rec, 'promote');
        return {
          changed: true,
          message: `${rec.workload} promoted at ${ctx.site.name} from the recovery point of ${iso(point)}${lossMs > 0 ? ` (${minutes(lossMs)} of data lost)` : ''}`,
          recoveryPointAt: point,
          data: { recoveryPoint: iso(point), dataLossMs: lossMs },
        };
      }),
    ),

    demote: op('demote', (p, ctx, store) =>
      updateWorkload(store, ctx.site, ctx, p, (rec) => {
        if (rec.replica?.promotedAt === undefined)
          return { changed: false, message: `${rec.workload} at ${ctx.site.name} is not a promoted primary` };
        delete rec.replica.promotedAt;
        delete rec.replica.pointAt;
        count(rec, 'demote');
        return {
          changed: true,
          message: `${rec.workload} at ${ctx.site.name} is a replica of ${rec.replica.from} again (writes since the promote are discarded)`,
        };
      }),
    ),

    shutdown: op('shutdown', (p, ctx, store) => setPower(store, ctx, p, 'off', 'shutdown')),
    powerOff: op('powerOff', (p, ctx, store) => setPower(store, ctx, p, 'off', 'powerOff')),
    powerOn: op('powerOn', (p, ctx, store) => setPower(store, ctx, p, 'on', 'powerOn')),

    snapshot: op('snapshot', (p, ctx, store) =>
      updateWorkload(store, ctx.site, ctx, p, (rec) => {
        const name = snapshotName(p);
        if (rec.snapshots[name])
          return {
            changed: false,
            message: `snapshot ${name} of ${rec.workload} already exists`,
            recoveryPointAt: rec.snapshots[name]!.recoveryPointAt,
          };
        if (!rec.replica)
          throw new ProviderError('InvalidState', `${rec.workload} has no replica at ${ctx.site.name} to snapshot`);
        rec.snapshots[name] = { recoveryPointAt: rec.replica.lastSyncAt, quiesced: p.quiesce === true };
        count(rec, 'snapshot');
        return {
          changed: true,
          message: `snapshot ${name} of ${rec.workload}'s replica`,
          recoveryPointAt: rec.replica.lastSyncAt,
        };
      }),
    ),

    restore: op('restore', async (p, ctx, store) => {
      const storageFull = matchingFaults(ctx, 'restore', p.workload as string).find((f) => f.effect === 'storage-full');
      return updateWorkload(store, ctx.site, ctx, p, (rec) => {
        const net = networkOf(p);
        const existing = rec.instances[net];
        if (existing)
          return {
            changed: false,
            message: `${rec.workload} already restored on ${net}`,
            recoveryPointAt: existing.recoveryPointAt ?? Date.now(),
          };
        if (storageFull)
          throw new ProviderError(
            'StorageFull',
            storageFull.message ??
              `datastore at ${ctx.site.name} is full: no room for ${rec.disksGb} GB of ${rec.workload}`,
          );
        const point =
          p.recoveryPoint === 'snapshot'
            ? rec.snapshots[snapshotName(p)]?.recoveryPointAt
            : (rec.replica?.pointAt ?? rec.replica?.lastSyncAt);
        if (point === undefined)
          throw new ProviderError(
            'InvalidState',
            `${rec.workload} has no ${p.recoveryPoint === 'snapshot' ? 'snapshot' : 'replica'} at ${ctx.site.name} to restore from`,
          );
        rec.instances[net] = { power: 'off', ready: false, recoveryPointAt: point };
        count(rec, 'restore');
        return {
          changed: true,
          message: `${rec.workload} restored on ${net} from the recovery point of ${new Date(point).toISOString()}`,
          recoveryPointAt: point,
        };
      });
    }),

    customizeNetwork: op('customizeNetwork', (p, ctx, store) =>
      updateWorkload(store, ctx.site, ctx, p, (rec) => {
        const inst = instanceOf(rec, p, ctx);
        const mapping = (p.networkMapping ?? {}) as { ip?: { address?: string } };
        const ip = mapping.ip?.address;
        if (inst.ip === ip) return { changed: false, message: `${rec.workload} network already customized` };
        if (ip) inst.ip = ip;
        count(rec, 'customizeNetwork');
        return { changed: true, message: `${rec.workload} network customized${ip ? `, IP ${ip}` : ''}` };
      }),
    ),

    waitReady: op('waitReady', (p, ctx, store) =>
      updateWorkload(store, ctx.site, ctx, p, (rec) => {
        const inst = instanceOf(rec, p, ctx);
        if (inst.power !== 'on')
          throw new ProviderError(
            'InvalidState',
            `${rec.workload} is powered off on ${networkOf(p)}: it cannot become ready`,
          );
        const changed = !inst.ready;
        inst.ready = true;
        return { changed, message: `${rec.workload} heartbeat seen (simulated guest)` };
      }),
    ),

    validate: op('validate', async (p, ctx, store) => {
      const rec = await workloadRecord(store, ctx, p);
      const inst = instanceOf(rec, p, ctx);
      if (inst.power !== 'on' || !inst.ready)
        throw new ProviderError('ValidationFailed', `${rec.workload} is not up on ${networkOf(p)}: validations fail`);
      const checks = Array.isArray(p.checks) ? p.checks.length : 0;
      return {
        changed: false,
        message: `${rec.workload}: ${checks} check${checks === 1 ? '' : 's'} passed against the simulated guest`,
      };
    }),

    deleteCopy: op('deleteCopy', (p, ctx, store) =>
      updateWorkload(store, ctx.site, ctx, p, (rec) => {
        const net = networkOf(p);
        const inst = rec.instances[net];
        if (!inst) return { changed: false, message: `${rec.workload} has no copy on ${net}` };
        if (inst.power === 'on')
          throw new ProviderError(
            'InvalidState',
            `${rec.workload} on ${net} is powered on: power it off before deleting it`,
            true,
          );
        delete rec.instances[net];
        count(rec, 'deleteCopy');
        return { changed: true, message: `${rec.workload} copy on ${net} deleted` };
      }),
    ),

    removeSnapshot: op('removeSnapshot', (p, ctx, store) =>
      updateWorkload(store, ctx.site, ctx, p, (rec) => {
        const name = snapshotName(p);
        if (!rec.snapshots[name]) return { changed: false, message: `${rec.workload} has no snapshot ${name}` };
        delete rec.snapshots[name];
        count(rec, 'removeSnapshot');
        return { changed: true, message: `snapshot ${name} of ${rec.workload} removed` };
      }),
    ),

    reverseReplication: op('reverseReplication', async (p, ctx, store) => {
      const here = await workloadRecord(store, ctx, p);
      if (!here.instances.production)
        throw new ProviderError(
          'InvalidState',
          `${here.workload} does not run at ${ctx.site.name}: fail over before reprotecting`,
        );
      let changed = false;
      await updateWorkload(store, ctx.peer, ctx, p, (there) => {
        // The old production copy becomes the replica of the new one.
        if (there.replica?.from === ctx.site.name && !there.instances.production) return;
        delete there.instances.production;
        there.replica = { from: ctx.site.name, lastSyncAt: Date.now() };
        count(there, 'reverseReplication');
        changed = true;
      });
      await updateWorkload(store, ctx.site, ctx, p, (rec) => {
        delete rec.replica;
      });
      return {
        changed,
        message: changed
          ? `${here.workload} now replicates ${ctx.site.name} → ${ctx.peer.name}`
          : `${here.workload} already replicates to ${ctx.peer.name}`,
      };
    }),

    createTestNetwork: op('createTestNetwork', (p, ctx, store) =>
      updateSite(store, ctx, (site) => {
        const net = String(p.network);
        if (site.networks.includes(net)) return { changed: false, message: `test network ${net} already exists` };
        site.networks.push(net);
        site.networks.sort();
        site.effects.createTestNetwork = (site.effects.createTestNetwork ?? 0) + 1;
        return { changed: true, message: `isolated test network ${net} created at ${ctx.site.name}` };
      }),
    ),

    removeTestNetwork: op('removeTestNetwork', (p, ctx, store) =>
      updateSite(store, ctx, (site) => {
        const net = String(p.network);
        if (!site.networks.includes(net)) return { changed: false, message: `test network ${net} does not exist` };
        site.networks = site.networks.filter((n) => n !== net);
        site.effects.removeTestNetwork = (site.effects.removeTestNetwork ?? 0) + 1;
        return { changed: true, message: `test network ${net} removed from ${ctx.site.name}` };
      }),
    ),
  };
  return { name: 'simulator', operations };
}

// ---- records ----

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
const MAX_CHECKPOINTS = 8;

/**
 * The recovery point a promote uses: `latest` (or `final-sync`), a time (the newest point at or before
 * it), or a checkpoint by name (the simulator names checkpoints by their ISO time).
 */
function pickRecoveryPoint(replica: Replica, wanted: unknown, workload: string): number {
  const points = [replica.lastSyncAt, ...(replica.checkpoints ?? [])];
  if (wanted === undefined || wanted === 'latest' || wanted === 'final-sync') return replica.lastSyncAt;
  const text = String(wanted);
  const named = points.find((t) => iso(t) === text);
  if (named !== undefined) return named;
  const time = Date.parse(text);
  const before = Number.isNaN(time) ? undefined : points.filter((t) => t <= time).sort((a, b) => b - a)[0];
  if (before === undefined)
    throw new ProviderError(
      'InvalidInput',
      `${workload} has no recovery point ${Number.isNaN(time) ? `named ${text}` : `at or before ${text}`}; it has ${points.map(iso).join(', ')}`,
    );
  return before;
}

const iso = (ms: number) => new Date(ms).toISOString();
const minutes = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)}s` : `${Math.round(ms / 60_000)}m`);

function workloadRecord(store: JsonStore, ctx: OperationContext, p: JsonObject): Promise<WorkloadRecord> {
  return updateWorkload(store, ctx.site, ctx, p, (rec) => rec);
}

function updateWorkload<R>(
  store: JsonStore,
  site: PlanSite,
  ctx: OperationContext,
  p: JsonObject,
  fn: (rec: WorkloadRecord) => R,
): Promise<R> {
  return store.update(`${site.name}/${String(p.workload)}`, () => newRecord(site, ctx, p), fn);
}

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

function updateSite<R>(store: JsonStore, ctx: OperationContext, fn: (rec: SiteRecord) => R): Promise<R> {
  return store.update(
    `${ctx.site.name}/_site`,
    (): SiteRecord => ({ site: ctx.site.name, networks: [], effects: {}, faultHits: {} }),
    fn,
  );
}

function setPower(
  store: JsonStore,
  ctx: OperationContext,
  p: JsonObject,
  power: 'on' | 'off',
  kind: InfraKind,
): Promise<OperationResult> {
  return updateWorkload(store, ctx.site, ctx, p, (rec) => {
    const net = networkOf(p);
    const inst = rec.instances[net];
    if (!inst) {
      if (power === 'off')
        return { changed: false, message: `${rec.workload} has no copy on ${net}: nothing to power off` };
      throw new ProviderError('InvalidState', `${rec.workload} has no copy on ${net} at ${ctx.site.name} to power on`);
    }
    if (inst.power === power) return { changed: false, message: `${rec.workload} on ${net} is already ${power}` };
    if (power === 'on' && inst.fenced)
      throw new ProviderError(
        'InvalidState',
        `${rec.workload} on ${net} at ${ctx.site.name} is fenced: unfence it before powering it on`,
      );
    if (power === 'off') inst.stoppedAt = Date.now();
    else delete inst.stoppedAt;
    inst.power = power;
    inst.ready = false;
    count(rec, kind);
    return { changed: true, message: `${rec.workload} on ${net} powered ${power}` };
  });
}

function instanceOf(rec: WorkloadRecord, p: JsonObject, ctx: OperationContext) {
  const inst = rec.instances[networkOf(p)];
  if (!inst)
    throw new ProviderError('InvalidState', `${rec.workload} has no copy on ${networkOf(p)} at ${ctx.site.name}`);
  return inst;
}

const networkOf = (p: JsonObject) => (typeof p.network === 'string' ? p.network : 'production');
const snapshotName = (p: JsonObject) => `drover-${networkOf(p)}`;
const count = (rec: { effects: Record<string, number> }, kind: string) =>
  (rec.effects[kind] = (rec.effects[kind] ?? 0) + 1);

// ---- faults and time ----

function matchingFaults(ctx: OperationContext, kind: InfraKind, workload: string | undefined): SimulatedFault[] {
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
      ? await store.update(`${ctx.site.name}/${workload}`, () => newRecord(ctx.site, ctx, { workload }), bump)
      : await store.update(
          `${ctx.site.name}/_site`,
          (): SiteRecord => ({ site: ctx.site.name, networks: [], effects: {}, faultHits: {} }),
          bump,
        );
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
    while (Date.now() < end) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
      await new Promise<void>((resolveSleep) => {
        const t = setTimeout(resolveSleep, Math.min(60_000, end - Date.now()));
        wake = () => (clearTimeout(t), resolveSleep());
      });
    }
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

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
export async function seedSite(plan: Plan, cwd = process.cwd()): Promise<void> {
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
        heartbeat: () => undefined,
        signal: new AbortController().signal,
        ...(plan.simulation ? { simulation: plan.simulation } : {}),
      };
      await updateWorkload(storeFor(site, cwd), site, ctx, params, () => undefined);
    }
  }
}
