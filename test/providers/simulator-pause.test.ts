/** A long simulated operation waits with one abort listener, not one more per second (MaxListenersExceededWarning). */
import { getEventListeners } from 'node:events';
import { pause } from '../../providers/simulator';

test('a 15-second simulated wait adds one abort listener and removes it at the end', async () => {
  jest.useFakeTimers();
  try {
    const controller = new AbortController();
    const counts: number[] = [];
    const ctx = {
      signal: controller.signal,
      heartbeat: () => counts.push(getEventListeners(controller.signal, 'abort').length),
    };
    const done = pause(15_000, ctx);
    for (let i = 0; i < 16; i++) await jest.advanceTimersByTimeAsync(1000);
    await done;
    expect(counts.length).toBeGreaterThanOrEqual(15);
    expect(Math.max(...counts)).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  } finally {
    jest.useRealTimers();
  }
});

test('an abort ends the wait at once', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const done = pause(60_000, { signal: controller.signal, heartbeat: () => undefined });
  setTimeout(() => controller.abort(new Error('cancelled')), 50);
  await expect(done).rejects.toThrow('cancelled');
  expect(Date.now() - started).toBeLessThan(2_000);
});
