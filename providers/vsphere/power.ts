/**
 * Power, fencing and guest readiness of the workload's VM. Idempotent: vCenter's `InvalidPowerState`
 * on a power-on of a running VM means it is already done, and nothing is powered on twice.
 */
import type { JsonObject } from '../../contracts/plan';
import { parseDuration } from '../../compiler/durations';
import { waitForPort } from '../checks';
import { ProviderError } from '../errors';
import type { OperationContext, OperationResult } from '../types';
import type { SiteOperation } from './index';
import { describe } from './index';
import { VimFault, text } from './soap';
import type { MoRef } from './soap';
import { cloneName, extraConfigOf, mustFindVm, setExtraConfig, settingsOf, vmNameAt } from './site';
import type { Site } from './site';

/** extraConfig keys Drover stamps on a VM it stopped, fenced or promoted (read back by later steps). */
export const KEYS = {
  stoppedAt: 'drover.stoppedAt',
  fenced: 'drover.fenced',
  role: 'drover.role',
  promotedAt: 'drover.promotedAt',
  pointAt: 'drover.recoveryPoint',
} as const;

/** The VM a step acts on: the workload's VM at this site, or its test clone on a test network. */
export async function targetVm(
  p: JsonObject,
  ctx: OperationContext,
  site: Site,
): Promise<{ vm: MoRef; name: string; test: boolean }> {
  const s = settingsOf(p);
  const network = typeof p.network === 'string' ? p.network : 'production';
  const name = network === 'production' ? vmNameAt(site, s) : cloneName(s, network);
  return { vm: await mustFindVm(site, name, ctx.signal), name, test: network !== 'production' };
}

export async function powerStateOf(site: Site, vm: MoRef, signal?: AbortSignal): Promise<string> {
  return text((await site.client.props(vm, ['runtime.powerState'], signal))['runtime.powerState']) ?? 'unknown';
}

/** Powers off; false when it already was off. */
async function powerOffVm(site: Site, vm: MoRef, ctx: OperationContext): Promise<boolean> {
  try {
    await site.client.task('PowerOffVM_Task', vm, {}, ctx);
    return true;
  } catch (e) {
    if (e instanceof VimFault && e.faultType === 'InvalidPowerState') return false;
    throw e;
  }
}

const powerOn: SiteOperation = async (p, ctx, site) => {
  const { vm, name } = await targetVm(p, ctx, site);
  const props = await site.client.props(vm, ['runtime.powerState', 'config.extraConfig'], ctx.signal);
  if (text(props['runtime.powerState']) === 'poweredOn')
    return { changed: false, message: `${describe(site, name, vm)} is already powered on` };
  const extra = extraConfigOf(props);
  if (extra[KEYS.fenced])
    throw new ProviderError(
      'InvalidState',
      `${describe(site, name, vm)} is fenced (since ${extra[KEYS.fenced]}): unfence it before powering it on`,
    );
  try {
    await site.client.task('PowerOnVM_Task', vm, {}, ctx);
  } catch (e) {
    // Powered on by an earlier attempt whose answer was lost: already done.
    if (e instanceof VimFault && e.faultType === 'InvalidPowerState')
      return { changed: false, message: `${describe(site, name, vm)} is already powered on` };
    throw e;
  }
  if (extra[KEYS.stoppedAt]) await setExtraConfig(site, vm, { [KEYS.stoppedAt]: '' }, ctx);
  return { changed: true, message: `${describe(site, name, vm)} powered on (PowerOnVM_Task)` };
};

const powerOff: SiteOperation = async (p, ctx, site) => {
  const { vm, name } = await targetVm(p, ctx, site).catch((e: unknown) => {
    if (e instanceof ProviderError && e.type === 'InvalidState') return { vm: undefined, name: '' };
    throw e;
  });
  if (!vm) return { changed: false, message: `${String(p.workload)}: no VM at ${site.name} to power off` };
  const changed = await powerOffVm(site, vm, ctx);
  return {
    changed,
    message: changed
      ? `${describe(site, name, vm)} powered off (PowerOffVM_Task)`
      : `${describe(site, name, vm)} is already powered off`,
  };
};

/**
 * A clean guest shutdown (ShutdownGuest, when VMware Tools run), powered off when the guest has not stopped
 * within the site's `connection.shutdownTimeout` (default 5 minutes). Stamps when it stopped taking writes.
 */
const shutdown: SiteOperation = async (p, ctx, site) => {
  const { vm, name } = await targetVm(p, ctx, site);
  const props = await site.client.props(
    vm,
    ['runtime.powerState', 'guest.toolsRunningStatus', 'config.extraConfig'],
    ctx.signal,
  );
  const stoppedAt = extraConfigOf(props)[KEYS.stoppedAt];
  if (text(props['runtime.powerState']) !== 'poweredOn') {
    if (!stoppedAt) await setExtraConfig(site, vm, { [KEYS.stoppedAt]: new Date().toISOString() }, ctx);
    return { changed: false, message: `${describe(site, name, vm)} is already powered off` };
  }
  let how = 'powered off (VMware Tools not running: no clean shutdown possible)';
  if (text(props['guest.toolsRunningStatus']) === 'guestToolsRunning') {
    await site.client.call('ShutdownGuest', vm, {}, ctx.signal);
    const limitMs =
      (typeof site.connection.shutdownTimeout === 'string'
        ? parseDuration(site.connection.shutdownTimeout)
        : undefined) ?? 300_000;
    const stopped = await waitPoweredOff(site, vm, ctx, limitMs);
    how = stopped
      ? 'shut down cleanly (ShutdownGuest)'
      : `did not shut down within ${Math.round(limitMs / 1000)}s: powered off`;
    if (!stopped) await powerOffVm(site, vm, ctx);
  } else await powerOffVm(site, vm, ctx);
  await setExtraConfig(site, vm, { [KEYS.stoppedAt]: new Date().toISOString() }, ctx);
  return { changed: true, message: `${describe(site, name, vm)} ${how}` };
};

async function waitPoweredOff(site: Site, vm: MoRef, ctx: OperationContext, limitMs: number): Promise<boolean> {
  const limit = AbortSignal.timeout(limitMs);
  const signal = AbortSignal.any([ctx.signal, limit]);
  try {
    return await site.client.waitFor(
      vm,
      ['runtime.powerState'],
      (props) => (text(props['runtime.powerState']) === 'poweredOff' ? true : undefined),
      { signal, heartbeat: () => ctx.heartbeat() },
    );
  } catch (e) {
    if (limit.aborted && !ctx.signal.aborted) return false;
    throw e;
  }
}

/** Fencing: the production VM is off and marked, so nothing (Drover included) powers it on by mistake. */
const fence: SiteOperation = async (p, ctx, site) => {
  const { vm, name } = await targetVm(p, ctx, site);
  const props = await site.client.props(vm, ['runtime.powerState', 'config.extraConfig'], ctx.signal);
  const extra = extraConfigOf(props);
  if (extra[KEYS.fenced]) return { changed: false, message: `${describe(site, name, vm)} is already fenced` };
  const wasOn = await powerOffVm(site, vm, ctx);
  const now = new Date().toISOString();
  await setExtraConfig(
    site,
    vm,
    { [KEYS.fenced]: now, ...(extra[KEYS.stoppedAt] ? {} : { [KEYS.stoppedAt]: now }) },
    ctx,
  );
  return {
    changed: true,
    message: `${describe(site, name, vm)} fenced${wasOn ? ' (it was still running: powered off)' : ''}: it takes no writes and Drover will not power it on`,
  };
};

const unfence: SiteOperation = async (p, ctx, site) => {
  const { vm, name } = await targetVm(p, ctx, site);
  const extra = extraConfigOf(await site.client.props(vm, ['config.extraConfig'], ctx.signal));
  if (!extra[KEYS.fenced]) return { changed: false, message: `${describe(site, name, vm)} is not fenced` };
  await setExtraConfig(site, vm, { [KEYS.fenced]: '' }, ctx);
  return { changed: true, message: `${describe(site, name, vm)} unfenced` };
};

/**
 * Ready: VMware Tools running with a green heartbeat (followed with WaitForUpdatesEx until the step's
 * timeout), or with `readiness.type: port` a TCP port of the guest IP accepting connections.
 */
const waitReady: SiteOperation = async (p, ctx, site): Promise<OperationResult> => {
  const { vm, name } = await targetVm(p, ctx, site);
  if ((await powerStateOf(site, vm, ctx.signal)) !== 'poweredOn')
    throw new ProviderError('InvalidState', `${describe(site, name, vm)} is powered off: it cannot become ready`);
  const readiness = (p.readiness ?? {}) as { type?: string; port?: number };
  const started = Date.now();
  const ip = await site.client.waitFor(
    vm,
    ['guest.toolsRunningStatus', 'summary.quickStats.guestHeartbeatStatus', 'guest.ipAddress'],
    (props) =>
      text(props['guest.toolsRunningStatus']) === 'guestToolsRunning' &&
      text(props['summary.quickStats.guestHeartbeatStatus']) === 'green'
        ? (text(props['guest.ipAddress']) ?? '')
        : undefined,
    { signal: ctx.signal, heartbeat: () => ctx.heartbeat() },
  );
  if (readiness.type === 'port' && readiness.port) {
    if (!ip) throw new ProviderError('InvalidState', `${describe(site, name, vm)} reports no guest IP`, true);
    await waitForPort(ip, readiness.port, { signal: ctx.signal, heartbeat: () => ctx.heartbeat() });
    return {
      changed: false,
      message: `${describe(site, name, vm)}: VMware Tools running, ${ip}:${readiness.port} accepts connections (${Date.now() - started} ms)`,
    };
  }
  return {
    changed: false,
    message: `${describe(site, name, vm)}: VMware Tools running, heartbeat green${ip ? `, guest IP ${ip}` : ''} (${Date.now() - started} ms)`,
  };
};

export const powerOperations = { powerOn, powerOff, shutdown, fence, unfence, waitReady };
