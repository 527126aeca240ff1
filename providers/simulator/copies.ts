/** A workload's copies at a site: restored from a replica or snapshot, powered on and off, deleted. */
import type { JsonObject } from '../../contracts/plan';
import { ProviderError } from '../errors';
import type { InfraKind, OperationContext, OperationResult } from '../types';
import { matchingFaults } from './faults';
import { count, networkOf, snapshotName, updateWorkload } from './records';
import type { SimOperation } from './records';
import type { JsonStore } from './store';

export const shutdown: SimOperation = (p, ctx, store) => setPower(store, ctx, p, 'off', 'shutdown');

export const powerOff: SimOperation = (p, ctx, store) => setPower(store, ctx, p, 'off', 'powerOff');

export const powerOn: SimOperation = (p, ctx, store) => setPower(store, ctx, p, 'on', 'powerOn');

export const snapshot: SimOperation = (p, ctx, store) =>
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
  });

export const restore: SimOperation = async (p, ctx, store) => {
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
};

export const deleteCopy: SimOperation = (p, ctx, store) =>
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
  });

export const removeSnapshot: SimOperation = (p, ctx, store) =>
  updateWorkload(store, ctx.site, ctx, p, (rec) => {
    const name = snapshotName(p);
    if (!rec.snapshots[name]) return { changed: false, message: `${rec.workload} has no snapshot ${name}` };
    delete rec.snapshots[name];
    count(rec, 'removeSnapshot');
    return { changed: true, message: `snapshot ${name} of ${rec.workload} removed` };
  });

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
