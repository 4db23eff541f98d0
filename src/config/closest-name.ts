/**
 * "Did you mean …?" for option names: the known name closest to a mistyped one (edit distance,
 * case ignored), so that an error about an unknown option can say what was probably meant.
 */

/** The known name closest to `input` (ties: the first in `known`), undefined when `known` is empty. */
export function closestName(input: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const a = input.toLowerCase();
  for (const name of known) {
    const d = editDistance(a, name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * The known name nearest to `input` when it is near enough to be a typo of it (at most two edits,
 * or a third of the name's length for long names); undefined otherwise.
 */
export function nearName(input: string, known: readonly string[]): string | undefined {
  const best = closestName(input, known);
  if (best === undefined) return undefined;
  const d = editDistance(input.toLowerCase(), best.toLowerCase());
  return d <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** Levenshtein distance with one row (names are short). */
function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}
