/**
 * Which provider an infrastructure activity calls: the site's, or the workload's own when the compiler put
 * it in `params.provider` (a PostgreSQL pair in a simulator or vSphere plan). MockActivityEnvironment, fake
 * providers.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import winston from 'winston';
import { createActivities } from '../../activities';
import type { StepInput, StepOutcome } from '../../activities';
import type { JsonObject, PlanSite, ProviderName } from '../../contracts/plan';
import type { Provider } from '../../providers/types';

const logger = winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });

const site: PlanSite = {
  name: 'west',
  role: 'recovery',
  provider: 'simulator',
  taskQueue: 'drover-west',
  testNetwork: 'drover-test',
  maxParallel: 1,
  connection: {},
};

const fake = (name: ProviderName): Provider => ({
  name,
  operations: { restore: async (p) => ({ changed: true, message: `${name} restored ${String(p.workload)}` }) },
});

function input(params: JsonObject): StepInput {
  return { runId: 'r', stepId: 'orders-db/restore', kind: 'restore', params, site, peer: site };
}

async function restore(params: JsonObject, providers: Partial<Record<ProviderName, Provider>>): Promise<StepOutcome> {
  const acts = createActivities({ providers, cwd: process.cwd(), logger });
  return new MockActivityEnvironment().run(acts.restore, input(params));
}

test("without params.provider, the site's provider", async () => {
  const out = await restore({ workload: 'app-1' }, { simulator: fake('simulator'), postgres: fake('postgres') });
  expect(out.message).toBe('simulator restored app-1');
});

test('with params.provider, that provider, on the same site', async () => {
  const out = await restore(
    { workload: 'orders-db', provider: 'postgres' },
    { simulator: fake('simulator'), postgres: fake('postgres') },
  );
  expect(out.message).toBe('postgres restored orders-db');
});

test('a provider this worker lacks is UnknownProvider, naming it', async () => {
  await expect(
    restore({ workload: 'orders-db', provider: 'postgres' }, { simulator: fake('simulator') }),
  ).rejects.toMatchObject({
    type: 'UnknownProvider',
    nonRetryable: true,
    message: 'this worker has no postgres provider that can restore',
  });
});
