/** Who takes writes: fencing the old primary, promoting a replica (from a recovery point), and back. */
import { ProviderError } from '../errors';
import type { Replica } from './model';
import { count, iso, minutes, updateWorkload } from './records';
import type { SimOperation } from './records';

export const fence: SimOperation = (p, ctx, store) =>
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
  });

export const unfence: SimOperation = (p, ctx, store) =>
  updateWorkload(store, ctx.site, ctx, p, (rec) => {
    const inst = rec.instances.production;
    if (!inst?.fenced) return { changed: false, message: `${rec.workload} at ${ctx.site.name} is not fenced` };
    delete inst.fenced;
    count(rec, 'unfence');
    return { changed: true, message: `${rec.workload} at ${ctx.site.name} unfenced` };
  });

export const promote: SimOperation = (p, ctx, store) =>
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
  });

export const demote: SimOperation = (p, ctx, store) =>
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
  });

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
