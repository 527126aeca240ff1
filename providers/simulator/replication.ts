/** Replication between the sites: a sync (and a switchover's final sync), and reprotecting the other way. */
import { ProviderError } from '../errors';
import { matchingFaults } from './faults';
import { count, iso, MAX_CHECKPOINTS, updateWorkload, workloadRecord } from './records';
import type { SimOperation } from './records';

export const syncReplication: SimOperation = async (p, ctx, store) => {
  const lagMs =
    matchingFaults(ctx, 'syncReplication', p.workload as string).find((f) => f.effect === 'replication-lag')?.lagMs ??
    0;
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
};

export const reverseReplication: SimOperation = async (p, ctx, store) => {
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
};
