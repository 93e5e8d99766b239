/** How a normalised candidate matched a normalised reference under the reference's containment rule. */
export type ContainmentMatch = 'equal' | 'reference in candidate' | 'candidate in reference';

/**
 * Shorter candidates inside a reference are not accepted: `'new'` would match `'new york'`, and
 * the reference requires `len(candidate) > 3`.
 */
const MIN_CONTAINED_CANDIDATE = 4;

/**
 * The reference's string match on two normalised strings: equal, the reference a substring of the
 * candidate, or the candidate a substring of the reference when it has more than 3 characters
 * (Unicode code points, as Python's len counts). Substrings, not words: `'cat'` is inside
 * `'concatenate'`, as in the reference. An empty reference never matches (the reference lets it
 * match every candidate).
 */
export function containmentMatch(reference: string, candidate: string): ContainmentMatch | null {
  if (reference === '') return null;
  if (reference === candidate) return 'equal';
  if (candidate.includes(reference)) return 'reference in candidate';
  if (codePoints(candidate) >= MIN_CONTAINED_CANDIDATE && reference.includes(candidate)) return 'candidate in reference';
  return null;
}

/**
 * SQuAD's token F1 of two normalised strings: tokens split on spaces, overlap counted with
 * multiplicity, F1 = 2PR / (P + R); 0 when either has no tokens (so an empty reference never matches).
 */
export function tokenF1(reference: string, candidate: string): number {
  const ref = tokens(reference);
  const cand = tokens(candidate);
  if (ref.length === 0 || cand.length === 0) return 0;
  const left = new Map<string, number>();
  for (const t of ref) left.set(t, (left.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of cand) {
    const n = left.get(t) ?? 0;
    if (n > 0) {
      common++;
      left.set(t, n - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / cand.length;
  const recall = common / ref.length;
  return (2 * precision * recall) / (precision + recall);
}

function tokens(s: string): string[] {
  return s.split(' ').filter((t) => t !== '');
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
