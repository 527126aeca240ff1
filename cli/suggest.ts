/** "Did you mean": the candidates closest to a mistyped word, for commands, options and values. */

/** The candidates within a small edit distance of `word` (or that start with it), closest first. */
export function similar(word: string, candidates: readonly string[]): string[] {
  const scored = candidates
    .map((c) => ({ c, d: c.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, c) }))
    .filter(({ c, d }) => d <= Math.max(1, Math.floor(Math.min(word.length, c.length) / 3)) || d === 0.5)
    .sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : 1));
  return scored.map((s) => s.c);
}

/** " (did you mean x?)", or nothing when no candidate is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const best = similar(word, candidates).slice(0, 3);
  return best.length ? `; did you mean ${best.join(' or ')}?` : '';
}

/** Edit distance with transpositions (optimal string alignment). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
