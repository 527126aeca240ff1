/**
 * Per-site workers, as on two machines: one worker runs the orchestration and dc-east's activities,
 * another only dc-west's. Each site's steps run on its own worker (read from their JSON logs).
 */
import { useDroverServer } from './processes';

const { background, webshopTestViaTemporalCli } = useDroverServer();

test('each site’s activities run on the worker started with --site for it', async () => {
  const east = background('worker', '--site', 'dc-east', '--orchestration');
  const west = background('worker', '--site', 'dc-west');
  const id = `sites-${process.pid}`;
  const result = await webshopTestViaTemporalCli(id, 'bob');
  expect(result).toMatch(/COMPLETED/);
  const sitesIn = (logs: string[]) => {
    const lines = logs
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const started = lines
      .map((l) => JSON.parse(l) as { message: string; site: string; workflowId: string })
      .filter((e) => e.message === 'step started' && e.workflowId === id);
    return new Set(started.map((e) => e.site));
  };
  expect(sitesIn(east.logs)).toEqual(new Set(['dc-east']));
  expect(sitesIn(west.logs)).toEqual(new Set(['dc-west']));
}, 120_000);
