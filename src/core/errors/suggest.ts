/** "Did you mean" suggestions: the closest known name within a small edit distance. */

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The candidate nearest to `given`, if it is close enough to be a plausible typo. */
export function nameSuggestion(given: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  const lower = given.toLowerCase();
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : levenshtein(lower, c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  // Same threshold idea as HCL's: allow roughly one edit per three characters, at least 2.
  const limit = Math.max(2, Math.floor(given.length / 3));
  return best !== undefined && bestDist <= limit ? best : undefined;
}

/** ` Did you mean "x"?` or the empty string, ready to append to a detail sentence. */
export function didYouMean(given: string, candidates: Iterable<string>): string {
  const s = nameSuggestion(given, candidates);
  return s === undefined ? '' : ` Did you mean "${s}"?`;
}
