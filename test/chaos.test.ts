/**
 * The short version of `npm run chaos` (bench/chaos.ts): a small estate through test, cleanup and a
 * disaster recovery with its protected site down, the real `drover worker` SIGKILLed and restarted, the
 * Temporal dev server SIGKILLed once and restarted on its SQLite file. Every run completes, no side effect
 * happens twice, cleanup leaves nothing, and no workflow task fails.
 */
import { chaosHeld, runChaos } from '../bench/chaos';

test('chaos, short: worker kills and a server restart lose nothing and do nothing twice', async () => {
  const lines: string[] = [];
  const figures = await runChaos({ workloads: 20, kills: 2, seed: 5, latency: '300ms', log: (l) => lines.push(l) });
  if (!chaosHeld(figures)) console.log(JSON.stringify({ ...figures, lines }, null, 2));
  expect(figures.kills).toBeGreaterThanOrEqual(2);
  expect(figures.serverRestarts).toBe(1);
  expect({ completed: figures.completed, duplicates: figures.duplicates, orphans: figures.orphans }).toEqual({
    completed: figures.attempted,
    duplicates: 0,
    orphans: 0,
  });
  expect(figures.taskFailures).toBe(0);
  expect(chaosHeld(figures)).toBe(true);
}, 600_000);
