/** Letter labels in class order. */
export const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `['A', 'B', ...]`, n of them. */
export function letterLabels(n: number): string[] {
  if (!Number.isInteger(n) || n < 1 || n > LETTERS.length) throw new RangeError(`letterLabels: n must be an integer in [1, ${LETTERS.length}], got ${n}`);
  return [...LETTERS.slice(0, n)];
}

/** `A-D` for four letters (for messages and descriptions). */
export function letterRange(n: number): string {
  const labels = letterLabels(n);
  return labels.length === 1 ? labels[0] : `${labels[0]}-${labels[labels.length - 1]}`;
}

/**
 * The label strings whose last sub-token is each class's target token: as given, or with a
 * leading space (the reference's `--add-space`: `' A'`, `' True'`).
 */
export function targetLabels(labels: readonly string[], addSpace: boolean): string[] {
  return labels.map((l) => (addSpace ? ` ${l}` : l));
}
