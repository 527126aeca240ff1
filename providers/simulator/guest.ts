/** Inside a recovered copy, and the isolated networks tests run on. */
import { ProviderError } from '../errors';
import { count, instanceOf, networkOf, updateSite, updateWorkload, workloadRecord } from './records';
import type { SimOperation } from './records';

export const customizeNetwork: SimOperation = (p, ctx, store) =>
  updateWorkload(store, ctx.site, ctx, p, (rec) => {
    const inst = instanceOf(rec, p, ctx);
    const mapping = (p.networkMapping ?? {}) as { ip?: { address?: string } };
    const ip = mapping.ip?.address;
    if (inst.ip === ip) return { changed: false, message: `${rec.workload} network already customized` };
    if (ip) inst.ip = ip;
    count(rec, 'customizeNetwork');
    return { changed: true, message: `${rec.workload} network customized${ip ? `, IP ${ip}` : ''}` };
  });

export const waitReady: SimOperation = (p, ctx, store) =>
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
  });

export const validate: SimOperation = async (p, ctx, store) => {
  const rec = await workloadRecord(store, ctx, p);
  const inst = instanceOf(rec, p, ctx);
  if (inst.power !== 'on' || !inst.ready)
    throw new ProviderError('ValidationFailed', `${rec.workload} is not up on ${networkOf(p)}: validations fail`);
  const checks = Array.isArray(p.checks) ? p.checks.length : 0;
  return {
    changed: false,
    message: `${rec.workload}: ${checks} check${checks === 1 ? '' : 's'} passed against the simulated guest`,
  };
};

export const createTestNetwork: SimOperation = (p, ctx, store) =>
  updateSite(store, ctx, (site) => {
    const net = String(p.network);
    if (site.networks.includes(net)) return { changed: false, message: `test network ${net} already exists` };
    site.networks.push(net);
    site.networks.sort();
    site.effects.createTestNetwork = (site.effects.createTestNetwork ?? 0) + 1;
    return { changed: true, message: `isolated test network ${net} created at ${ctx.site.name}` };
  });

export const removeTestNetwork: SimOperation = (p, ctx, store) =>
  updateSite(store, ctx, (site) => {
    const net = String(p.network);
    if (!site.networks.includes(net)) return { changed: false, message: `test network ${net} does not exist` };
    site.networks = site.networks.filter((n) => n !== net);
    site.effects.removeTestNetwork = (site.effects.removeTestNetwork ?? 0) + 1;
    return { changed: true, message: `test network ${net} removed from ${ctx.site.name}` };
  });
