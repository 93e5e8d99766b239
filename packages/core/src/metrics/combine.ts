import type { AveragingRule } from '../contracts/wrapper';

/** Softmax of one logit vector in float64, shifted by its max so it never overflows. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const e = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i] - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/**
 * Per-sample class probabilities and their combination for one example's [S][C] logits:
 * the mean of the samples' probabilities (BLoB, MC dropout), or the softmax of the mean logits
 * (the reference's deep ensemble).
 */
export function combineSamples(sampleLogits: readonly ArrayLike<number>[], rule: AveragingRule): { sampleProbs: number[][]; probs: number[] } {
  const sampleProbs = sampleLogits.map((l) => softmax(l));
  const C = sampleProbs[0].length;
  if (rule === 'logits') {
    const meanLogits = Array.from({ length: C }, (_, c) => sampleLogits.reduce((s, l) => s + l[c], 0) / sampleLogits.length);
    return { sampleProbs, probs: softmax(meanLogits) };
  }
  const probs = Array.from({ length: C }, (_, c) => sampleProbs.reduce((s, p) => s + p[c], 0) / sampleProbs.length);
  return { sampleProbs, probs };
}
