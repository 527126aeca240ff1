/**
 * The replica: its recovery point (read from what the customer's replication engine leaves on it, so RPO
 * is measured), the engine's hooks (sync, reverse), and promote/demote. Drover does not replicate.
 */
import type { JsonObject } from '../../contracts/plan';
import type { CommandSpec, HttpSpec } from '../../compiler/runbook';
import { runCommandStep } from '../../activities/command';
import { performHttp } from '../../activities/http';
import { ProviderError } from '../errors';
import type { OperationContext, OperationResult } from '../types';
import type { SiteOperation } from './index';
import { describe } from './index';
import { KEYS, targetVm } from './power';
import type { Props } from './client';
import { list, moRef, text } from './soap';
import type { MoRef, Parsed } from './soap';
import {
  extraConfigOf,
  findNetwork,
  mustFindVm,
  nicEdit,
  nicNetworkKey,
  nicsOf,
  setExtraConfig,
  settingsOf,
  siteOf,
  vmNameAt,
} from './site';
import type { Site, VsphereSettings } from './site';

type Hook = { http?: HttpSpec; command?: CommandSpec };
interface Replication {
  sync?: Hook;
  reverse?: Hook;
  pointKey?: string;
}

const replicationOf = (site: Site): Replication => (site.connection.replication ?? {}) as Replication;

/** A snapshot of a VM, flattened from its snapshot tree. */
export interface SnapshotInfo {
  ref: MoRef;
  name: string;
  description: string;
  createdAt: number;
}

export function snapshotsOf(props: Props): SnapshotInfo[] {
  const out: SnapshotInfo[] = [];
  const walk = (nodes: unknown) => {
    for (const n of list<Parsed>(nodes)) {
      out.push({
        ref: moRef(n.snapshot),
        name: text(n.name) ?? '',
        description: text(n.description) ?? '',
        createdAt: Date.parse(text(n.createTime) ?? ''),
      });
      walk(n.childSnapshotList);
    }
  };
  walk((props.snapshot as Parsed | undefined)?.rootSnapshotList);
  return out;
}

/** The engine's points in time on the replica: its snapshots, except the ones Drover takes for tests. */
const enginePoints = (props: Props) => snapshotsOf(props).filter((s) => !s.name.startsWith('drover-'));

/**
 * When the data the replica holds was current: the `pointKey` extraConfig stamp when the engine keeps one,
 * else its newest snapshot. Undefined when the replica shows none.
 */
export function recoveryPointOf(props: Props, pointKey: string | undefined): number | undefined {
  if (pointKey) {
    const stamped = Date.parse(extraConfigOf(props)[pointKey] ?? '');
    return Number.isNaN(stamped) ? undefined : stamped;
  }
  const newest = Math.max(...enginePoints(props).map((s) => s.createdAt));
  return Number.isFinite(newest) ? newest : undefined;
}

/** The replica VM at `site`'s peer and its recovery point. */
export async function replicaPoint(
  p: JsonObject,
  ctx: OperationContext,
  at: Site,
  pointKey: string | undefined,
): Promise<{ vm: MoRef; name: string; point: number | undefined; props: Props }> {
  const name = vmNameAt(at, settingsOf(p));
  const vm = await mustFindVm(at, name, ctx.signal);
  const props = await at.client.props(vm, ['config.extraConfig', 'snapshot'], ctx.signal);
  return { vm, name, point: recoveryPointOf(props, pointKey), props };
}

const iso = (ms: number) => new Date(ms).toISOString();
const minutes = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)}s` : `${Math.round(ms / 60_000)}m`);

export function hooksDeps(deps: { env: NodeJS.ProcessEnv; cwd: string }) {
  /** Runs an engine hook; its body (HTTP) or environment (command) names the workload and both VMs. */
  async function runHook(
    hook: Hook,
    action: 'sync' | 'reverse',
    info: Record<string, string>,
    ctx: OperationContext,
  ): Promise<string> {
    if (hook.http) {
      const spec = { ...hook.http, ...(hook.http.body === undefined ? { body: { action, ...info } } : {}) };
      const answer = await performHttp(spec, deps.env, ctx.signal);
      if (answer.problem)
        throw new ProviderError(
          'InvalidState',
          `replication ${action} hook ${answer.method} ${answer.url} ${answer.problem}`,
          true,
        );
      return `${answer.method} ${answer.url} → ${answer.status}`;
    }
    const env: Record<string, string> = { ...(hook.command!.env ?? {}), DROVER_HOOK_ACTION: action };
    for (const [k, v] of Object.entries(info)) env[`DROVER_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`] = v;
    const out = await runCommandStep(
      { ...hook.command!, env },
      { cwd: deps.cwd, workerEnv: deps.env, signal: ctx.signal },
    );
    return out.message;
  }
  return runHook;
}

/**
 * syncReplication, at the source: the engine's `sync` hook when declared, then the replica's recovery point
 * read at the peer. A switchover's final sync (`proveCaughtUp`) must show the replica at or past the moment
 * the source stopped taking writes, or nothing is promoted (ReplicaBehind, retryable).
 */
export function syncOperation(deps: { env: NodeJS.ProcessEnv; cwd: string }): SiteOperation {
  const runHook = hooksDeps(deps);
  return async (p, ctx, site) => {
    const s = settingsOf(p);
    const peer = await siteOf(ctx.peer, deps.env, ctx.signal);
    const repl = { ...replicationOf(peer), ...replicationOf(site) };
    const source = await targetVm(p, ctx, site);
    const sourceProps = await site.client.props(source.vm, ['runtime.powerState', 'config.extraConfig'], ctx.signal);
    const stoppedText = extraConfigOf(sourceProps)[KEYS.stoppedAt];
    const stoppedAt = stoppedText ? Date.parse(stoppedText) : undefined;
    if (p.proveCaughtUp === true && stoppedAt === undefined)
      throw new ProviderError(
        'InvalidState',
        `${describe(site, source.name, source.vm)} still takes writes: a switchover's final sync needs it stopped first`,
      );
    const info = {
      workload: String(p.workload),
      sourceSite: site.name,
      sourceVm: source.name,
      targetSite: peer.name,
      targetVm: vmNameAt(peer, s),
    };
    // A final sync already proved (a retry): the replica is at or past the source's last write, nothing to ship.
    const already = p.proveCaughtUp === true ? await replicaPoint(p, ctx, peer, repl.pointKey) : undefined;
    const done = already?.point !== undefined && already.point >= stoppedAt!;
    const hooked = repl.sync && !done ? await runHook(repl.sync, 'sync', info, ctx) : undefined;
    const replica = done ? already : await replicaPoint(p, ctx, peer, repl.pointKey);
    if (replica.point === undefined)
      throw new ProviderError(
        'InvalidState',
        `${describe(peer, replica.name, replica.vm)} shows no recovery point (${repl.pointKey ? `extraConfig ${repl.pointKey}` : 'no snapshot of the replication engine'})`,
        true,
      );
    const what = `${describe(peer, replica.name, replica.vm)} holds data as of ${iso(replica.point)}`;
    if (p.proveCaughtUp === true && replica.point < stoppedAt!)
      throw new ProviderError(
        'ReplicaBehind',
        `${what}, but ${source.name} at ${site.name} stopped at ${iso(stoppedAt!)} (${minutes(stoppedAt! - replica.point)} behind): nothing promoted`,
        true,
      );
    return {
      changed: hooked !== undefined,
      message: `${hooked ? `replication engine hook ${hooked}; ` : done ? 'already caught up: ' : 'no sync hook declared (the engine replicates on its own); '}${what}${p.proveCaughtUp === true ? `, at or past ${source.name}'s last write (${iso(stoppedAt!)}): caught up` : ''}`,
      recoveryPointAt: replica.point,
      data: {
        replicaPosition: iso(replica.point),
        ...(stoppedAt !== undefined ? { sourcePosition: iso(stoppedAt) } : {}),
      },
    };
  };
}

/** The point a promote recovers to: latest, an engine snapshot by name, or the newest at or before a time. */
function pickPoint(
  props: Props,
  latest: number | undefined,
  wanted: unknown,
  workload: string,
): { at: number; snapshot?: SnapshotInfo } {
  const points = enginePoints(props).sort((a, b) => b.createdAt - a.createdAt);
  if (wanted === undefined || wanted === 'latest' || wanted === 'final-sync') {
    if (latest === undefined) throw new ProviderError('InvalidState', `${workload}'s replica shows no recovery point`);
    return { at: latest };
  }
  const named = points.find((s) => s.name === wanted);
  const time = Date.parse(String(wanted));
  const chosen = named ?? (Number.isNaN(time) ? undefined : points.find((s) => s.createdAt <= time));
  if (!chosen)
    throw new ProviderError(
      'InvalidInput',
      `${workload} has no recovery point ${String(wanted)}; the replica has ${points.map((s) => `${s.name} (${iso(s.createdAt)})`).join(', ') || 'none'}`,
    );
  return { at: chosen.createdAt, snapshot: chosen };
}

/**
 * promote, at the target: the replica becomes the live VM. It is reverted to an older engine point when one
 * was asked for, its NICs join the production port groups (connected at power-on), and it is marked primary.
 * In a failover a point older than the RPO needs `acceptDataLoss` (DataLossNotAccepted otherwise).
 */
export function promoteOperation(deps: { env: NodeJS.ProcessEnv }): SiteOperation {
  return async (p, ctx, site): Promise<OperationResult> => {
    const s = settingsOf(p);
    const peer =
      ctx.peer.provider === 'vsphere' ? await siteOf(ctx.peer, deps.env, ctx.signal).catch(() => undefined) : undefined;
    const pointKey = replicationOf(site).pointKey ?? (peer ? replicationOf(peer).pointKey : undefined);
    const name = vmNameAt(site, s);
    const vm = await mustFindVm(site, name, ctx.signal);
    const props = await site.client.props(vm, ['config.extraConfig', 'snapshot', 'config.hardware.device'], ctx.signal);
    const extra = extraConfigOf(props);
    if (extra[KEYS.role] === 'primary')
      return {
        changed: false,
        message: `${describe(site, name, vm)} is already the primary (promoted ${extra[KEYS.promotedAt] ?? ''})`,
        ...(extra[KEYS.pointAt] ? { recoveryPointAt: Date.parse(extra[KEYS.pointAt]!) } : {}),
      };
    const point = pickPoint(props, recoveryPointOf(props, pointKey), p.recoveryPoint, String(p.workload));
    const lossMs = Math.max(0, Number(p.failoverAt ?? Date.now()) - point.at);
    const rpoMs = Number(p.rpoMs ?? 0);
    if (rpoMs > 0 && lossMs > rpoMs && p.acceptDataLoss !== true)
      throw new ProviderError(
        'DataLossNotAccepted',
        `${describe(site, name, vm)}'s best recovery point is ${iso(point.at)}: ${minutes(lossMs)} of data would be lost, over its RPO of ${minutes(rpoMs)}`,
      );
    const edits = await productionNicEdits(site, s, props, ctx.signal);
    if (point.snapshot) await site.client.task('RevertToSnapshot_Task', point.snapshot.ref, {}, ctx);
    if (edits.changes.length)
      await site.client.task('ReconfigVM_Task', vm, { spec: { deviceChange: edits.changes } }, ctx);
    await setExtraConfig(
      site,
      vm,
      {
        [KEYS.role]: 'primary',
        [KEYS.promotedAt]: new Date().toISOString(),
        [KEYS.pointAt]: iso(point.at),
        [NICS_BEFORE]: JSON.stringify(edits.before),
      },
      ctx,
    );
    return {
      changed: true,
      message: `${describe(site, name, vm)} promoted from the recovery point of ${iso(point.at)}${point.snapshot ? ` (reverted to snapshot ${point.snapshot.name})` : ''}${edits.changes.length ? `; NICs joined ${edits.joined.join(', ')}` : ''}${lossMs > 0 ? ` (${minutes(lossMs)} of data lost)` : ''}`,
      recoveryPointAt: point.at,
      data: { recoveryPoint: iso(point.at), dataLossMs: lossMs },
    };
  };
}

/** What the NICs were before a promote, so demote puts them back exactly. */
const NICS_BEFORE = 'drover.nicsBeforePromote';

async function productionNicEdits(site: Site, s: VsphereSettings, props: Props, signal: AbortSignal) {
  const nics = nicsOf(props);
  const changes = [];
  const joined: string[] = [];
  const before = nics.map((n) => ({
    key: String(n.key),
    network: nicNetworkKey(n),
    startConnected: text((n.connectable as Parsed)?.startConnected) === 'true',
  }));
  for (const [i, want] of (s.nics ?? []).entries()) {
    const nic = nics[i];
    if (!nic)
      throw new ProviderError('InvalidInput', `${s.replica} has ${nics.length} NIC(s); the runbook maps NIC ${i + 1}`);
    const net = await findNetwork(site, want.network, signal);
    if (!net)
      throw new ProviderError(
        'InvalidInput',
        `no port group ${want.network} at ${site.name} for ${s.replica}'s NIC ${i + 1}`,
      );
    changes.push(nicEdit(nic, net, want.network, true));
    joined.push(want.network);
  }
  return { changes, joined, before };
}

/** demote (a promote's compensation): marked a replica again, NICs as they were, nothing powered on. */
export const demote: SiteOperation = async (p, ctx, site) => {
  const s = settingsOf(p);
  const name = vmNameAt(site, s);
  const vm = await mustFindVm(site, name, ctx.signal);
  const props = await site.client.props(vm, ['config.extraConfig', 'config.hardware.device'], ctx.signal);
  const extra = extraConfigOf(props);
  if (extra[KEYS.role] !== 'primary')
    return { changed: false, message: `${describe(site, name, vm)} is not a promoted primary` };
  const before = JSON.parse(extra[NICS_BEFORE] ?? '[]') as { key: string; network: string; startConnected: boolean }[];
  const nics = nicsOf(props);
  const changes = [];
  for (const b of before) {
    const nic = nics.find((n) => String(n.key) === b.key);
    if (!nic) continue;
    const net = await networkByKey(site, b.network, ctx.signal);
    if (net) changes.push(nicEdit(nic, net, b.network, b.startConnected));
  }
  if (changes.length) await site.client.task('ReconfigVM_Task', vm, { spec: { deviceChange: changes } }, ctx);
  await setExtraConfig(
    site,
    vm,
    { [KEYS.role]: '', [KEYS.promotedAt]: '', [KEYS.pointAt]: '', [NICS_BEFORE]: '' },
    ctx,
  );
  return {
    changed: true,
    message: `${describe(site, name, vm)} is a replica again: NICs back as before the promote (writes since the promote are the replication engine's to discard)`,
  };
};

/** A port group by its key (distributed) or name (standard), as nicNetworkKey wrote it. */
async function networkByKey(site: Site, key: string, signal: AbortSignal) {
  if (!key.startsWith('dvportgroup-')) return findNetwork(site, key, signal);
  const ref = { type: 'DistributedVirtualPortgroup', value: key };
  const name = text((await site.client.props(ref, ['name'], signal)).name);
  return name ? findNetwork(site, name, signal) : undefined;
}

/** restore in production: the promoted replica is the recovered VM; nothing is copied. */
export const restoreInPlace: SiteOperation = async (p, ctx, site) => {
  const { vm, name } = await targetVm(p, ctx, site);
  const extra = extraConfigOf(await site.client.props(vm, ['config.extraConfig'], ctx.signal));
  const point = extra[KEYS.pointAt] ? Date.parse(extra[KEYS.pointAt]!) : undefined;
  if (extra[KEYS.role] !== 'primary')
    throw new ProviderError(
      'InvalidState',
      `${describe(site, name, vm)} has not been promoted: nothing to recover from`,
    );
  return {
    changed: false,
    message: `${describe(site, name, vm)} is the recovered VM (the promoted replica, data as of ${point ? iso(point) : 'unknown'}): nothing to copy`,
    ...(point !== undefined ? { recoveryPointAt: point } : {}),
  };
};

/**
 * reverseReplication (reprotect), at the site where the workload now runs: the engine's `reverse` hook, then
 * the roles swapped on both VMs: this one stays primary, the old production VM becomes its replica (no
 * longer fenced: the engine owns it now).
 */
export function reverseOperation(deps: { env: NodeJS.ProcessEnv; cwd: string }): SiteOperation {
  const runHook = hooksDeps(deps);
  return async (p, ctx, site) => {
    const s = settingsOf(p);
    const here = await targetVm(p, ctx, site);
    const hereExtra = extraConfigOf(await site.client.props(here.vm, ['config.extraConfig'], ctx.signal));
    if (hereExtra[KEYS.role] !== 'primary')
      throw new ProviderError(
        'InvalidState',
        `${describe(site, here.name, here.vm)} is not the primary: fail over before reprotecting`,
      );
    const peer = await siteOf(ctx.peer, deps.env, ctx.signal);
    const oldName = vmNameAt(peer, s);
    const old = await mustFindVm(peer, oldName, ctx.signal);
    const oldExtra = extraConfigOf(await peer.client.props(old, ['config.extraConfig'], ctx.signal));
    if (oldExtra[KEYS.role] === 'replica')
      return {
        changed: false,
        message: `${oldName} at ${peer.name} already replicates from ${here.name} at ${site.name}`,
      };
    const repl = { ...replicationOf(peer), ...replicationOf(site) };
    const info = {
      workload: String(p.workload),
      sourceSite: site.name,
      sourceVm: here.name,
      targetSite: peer.name,
      targetVm: oldName,
    };
    const hooked = repl.reverse ? await runHook(repl.reverse, 'reverse', info, ctx) : undefined;
    await setExtraConfig(peer, old, { [KEYS.role]: 'replica', [KEYS.fenced]: '', [KEYS.stoppedAt]: '' }, ctx);
    await setExtraConfig(site, here.vm, { [KEYS.promotedAt]: '', [NICS_BEFORE]: '' }, ctx);
    return {
      changed: true,
      message: `${hooked ? `replication engine hook ${hooked}; ` : 'no reverse hook declared; '}${describe(peer, oldName, old)} is now the replica of ${here.name} at ${site.name}`,
    };
  };
}
