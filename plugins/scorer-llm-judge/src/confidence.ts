/**
 * The judge's probability that the answer is right, from the two alternatives' scores: p_c /
 * (p_c + p_i) for probabilities, which for log-probabilities or logits of one softmax is
 * 1 / (1 + exp(l_i - l_c)) (the two-way softmax: the full softmax renormalised over the two).
 * Computed from the difference so that large logits neither overflow nor round to 0/0.
 */
export function twoWayConfidence(logCorrect: number, logIncorrect: number): number {
  if (logCorrect === -Infinity && logIncorrect === -Infinity) return NaN;
  const d = logIncorrect - logCorrect;
  return d >= 0 ? Math.exp(-d) / (1 + Math.exp(-d)) : 1 / (1 + Math.exp(d));
}

/** log(sum(exp(x))) of a non-empty list, stable; -Infinity for an empty one. */
export function logSumExp(xs: readonly number[]): number {
  if (xs.length === 0) return -Infinity;
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}
