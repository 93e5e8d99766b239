import type { Rng } from '@bayes-peft/core';

export type SubsetMode = 'first' | 'sample';

export interface SubsetOptions {
  /** Keep at most this many rows; undefined keeps all. */
  readonly max?: number;
  /** `first`: the first `max` rows in file order. `sample`: a seeded shuffle, then the first `max` (no max: all rows, file order). */
  readonly mode?: SubsetMode;
  /** Required for `sample`. */
  readonly rng?: Rng;
}

/** The first n items (all when n is undefined or at least the length). */
export function takeFirst<T>(items: readonly T[], n?: number): T[] {
  if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw new RangeError(`takeFirst: n must be a non-negative integer, got ${n}`);
  return n === undefined ? items.slice() : items.slice(0, n);
}

/**
 * n items drawn without replacement by a seeded Fisher-Yates shuffle, in shuffled order (like the
 * reference's `shuffle(seed).select(range(k))`; the permutation differs from numpy's).
 */
export function sampleItems<T>(items: readonly T[], n: number | undefined, rng: Rng): T[] {
  if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw new RangeError(`sampleItems: n must be a non-negative integer, got ${n}`);
  return rng.shuffle(items).slice(0, n ?? items.length);
}

export function selectSubset<T>(items: readonly T[], options: SubsetOptions = {}): T[] {
  const { max, mode = 'first' } = options;
  if (mode === 'first' || max === undefined) return takeFirst(items, max);
  if (!options.rng) throw new Error("selectSubset: mode 'sample' needs an rng");
  return sampleItems(items, max, options.rng);
}
