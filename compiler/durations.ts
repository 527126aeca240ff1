/** Runbook durations: `90s`, `15m`, `1h30m`, `2d`, `250ms`; largest unit first, each at most once. */

const DURATION = /^(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Milliseconds in `text`, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const [, d, h, min, s, ms] = m.map((part) => (part === undefined ? 0 : Number(part)));
  return (((d! * 24 + h!) * 60 + min!) * 60 + s!) * 1000 + ms!;
}

/** `5400000` → `1h30m`; the inverse of parseDuration for whole units. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}
