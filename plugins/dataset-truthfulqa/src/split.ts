import type { SplitRole } from '@bayes-peft/core';

/** Which part of TruthfulQA's one split a role reads. */
export type TruthfulQaPart = 'train' | 'test';

export function partOf(role: SplitRole): TruthfulQaPart {
  return role === 'test' ? 'test' : 'train';
}

/**
 * The reference's deterministic split (docs/reference-differences.md row 39): train = the first int(0.8 * N) rows,
 * test = the rest, in file order; 653 / 164 of 817. (Its comment says 650/167.)
 * `Math.floor(f * n)` is Python's `int(f * n)` for these non-negative doubles.
 */
export function splitRows<T>(rows: readonly T[], trainFraction: number, part: TruthfulQaPart): T[] {
  const cut = Math.floor(trainFraction * rows.length);
  return part === 'train' ? rows.slice(0, cut) : rows.slice(cut);
}
