/**
 * The vSphere provider: every operation is real vSphere Web Services API calls against the site's vCenter
 * (tested against govmomi's vcsim). Replication is NOT Drover's: the replica VM at the recovery site is
 * kept current by the customer's engine (vSphere Replication, array replication, a backup product);
 * Drover calls the engine's declared hooks and reads the recovery point the engine leaves on the replica.
 *
 * What each mode does to the inventory (README, "vSphere"):
 * - test: snapshot the replica, clone it from that snapshot into an isolated port group Drover creates,
 *   customize, power on, wait for VMware Tools, validate; cleanup removes all of it.
 * - failover: shut down and fence the production VM, final sync through the hook (proved caught up in a
 *   switchover), promote the replica (its NICs join the production port groups), customize, power on.
 */
import type { JsonObject } from '../../contracts/plan';
import { ProviderError } from '../errors';
import type { InfraKind, Operation, OperationContext, OperationResult, Provider } from '../types';
import { VimFault } from './soap';
import type { MoRef } from './soap';
import { siteOf } from './site';
import type { Site } from './site';
import { copyOperations } from './copies';
import { powerOperations } from './power';
import { readinessOperations, validateOperation } from './readiness';
import { demote, promoteOperation, reverseOperation, syncOperation } from './replica';

export interface VsphereDeps {
  /** Commands of replication hooks run from here. */
  cwd?: string;
  /** Where `env:` references resolve (the worker's environment). */
  env?: NodeJS.ProcessEnv;
}

/** One operation with its site: the session is open, faults come back as Drover's error types. */
export type SiteOperation = (p: JsonObject, ctx: OperationContext, site: Site) => Promise<OperationResult>;

export function createVsphere(deps: VsphereDeps = {}): Provider {
  const env = deps.env ?? process.env;
  const cwd = deps.cwd ?? process.cwd();
  const wrap =
    (kind: InfraKind, fn: SiteOperation): Operation =>
    async (params, ctx) => {
      try {
        const site = await siteOf(ctx.site, env, ctx.signal);
        return await fn(params, ctx, site);
      } catch (e) {
        if (ctx.signal.aborted) throw e;
        throw asProviderError(e, kind, ctx);
      }
    };
  const all: Record<Exclude<InfraKind, never>, SiteOperation> = {
    ...readinessOperations,
    ...powerOperations,
    ...copyOperations,
    validate: validateOperation({ env, cwd }),
    syncReplication: syncOperation({ env, cwd }),
    promote: promoteOperation({ env }),
    demote,
    reverseReplication: reverseOperation({ env, cwd }),
  };
  const operations: Partial<Record<InfraKind, Operation>> = {};
  for (const [kind, fn] of Object.entries(all) as [InfraKind, SiteOperation][]) operations[kind] = wrap(kind, fn);
  return { name: 'vsphere', operations };
}

/** Faults that a retry can get past: the host or vCenter was busy or briefly away. */
const TRANSIENT_FAULTS = new Set(['TaskInProgress', 'HostCommunication', 'HostNotConnected', 'InvalidReply']);
const STORAGE_FAULTS = new Set(['NoDiskSpace', 'InsufficientStorageSpace', 'OutOfBounds']);

function asProviderError(e: unknown, kind: InfraKind, ctx: OperationContext): ProviderError {
  if (e instanceof ProviderError) return e;
  if (e instanceof VimFault) {
    const where = `${kind} at ${ctx.site.name}`;
    if (STORAGE_FAULTS.has(e.faultType))
      return new ProviderError('StorageFull', `${where}: vCenter says ${e.faultType}: ${e.message}`);
    return new ProviderError(
      'InvalidState',
      `${where}: vCenter refused with ${e.faultType}: ${e.message}`,
      TRANSIENT_FAULTS.has(e.faultType),
    );
  }
  return new ProviderError('InvalidState', `${kind} at ${ctx.site.name}: ${(e as Error).message ?? String(e)}`);
}

/** `name (vm-42) in vCenter host:port`: what a message names. */
export const describe = (site: Site, name: string, vm?: MoRef) =>
  `${name}${vm ? ` (${vm.value})` : ''} in vCenter ${site.client.url.host}`;
