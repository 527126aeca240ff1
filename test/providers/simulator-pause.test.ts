/** A long simulated operation waits with one abort listener, never one more per second (MaxListenersExceededWarning). */
import { getEventListeners } from 'node:events';
import { pause } from '../../providers/simulator';

test('a 15-second simulated wait adds one abort listener and removes it at the end', async () => {
  jest.useFakeTimers();
  try {
    const controller = new AbortController();
    const counts: number[] = [];
    let ended = false;
    const done = pause(15_000, { signal: controller.signal }).then(() => (ended = true));
    for (let i = 0; i < 16; i++) {
      await jest.advanceTimersByTimeAsync(1000);
      if (!ended) counts.push(getEventListeners(controller.signal, 'abort').length);
    }
    await done;
    expect(counts.length).toBe(14); // sampled at 1 s .. 14 s, while it waits
    expect(Math.max(...counts)).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  } finally {
    jest.useRealTimers();
  }
});

test('an abort ends the wait at once', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const done = pause(60_000, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('cancelled')), 50);
  await expect(done).rejects.toThrow('cancelled');
  expect(Date.now() - started).toBeLessThan(2_000);
});
