import { correctFraction } from './generative';

/**
 * Per-question uncertainty scores of open-ended QA from its S sampled answers: higher means the
 * model is less sure, so the answer is more likely wrong (ranking.ts measures how well a score
 * ranks them). The sequence scores read only the model's own likelihoods; `incorrectFraction`
 * reads the judge.
 */

/** One sampled answer: its log-likelihood under the model (unwarped, up to and including EOS) and the tokens it covers. */
export interface SampledSequence {
  /** log p(answer | prompt) in nats, <= 0. */
  readonly logLikelihood: number;
  /** Generated tokens the likelihood covers (EOS included when it was generated); >= 1. */
  readonly length: number;
}

/**
 * Monte-Carlo estimate of the entropy of the answer distribution, -1/S Σ_s log p(y_s): the samples
 * are draws from the model, so averaging -log p over them estimates E[-log p(y)]. Each p(y_s) is
 * under the weight sample that generated y_s (scoring every answer under every weight sample
 * would take S² passes). Long answers have low likelihood whatever the model's certainty, hence
 * the length-normalised variant.
 */
export function sequenceEntropy(samples: readonly SampledSequence[]): number {
  checkSamples(samples);
  let sum = 0;
  for (const s of samples) sum -= s.logLikelihood;
  return sum / samples.length;
}

/** -1/S Σ_s log p(y_s) / |y_s|: the per-token version of `sequenceEntropy`. */
export function lengthNormalisedSequenceEntropy(samples: readonly SampledSequence[]): number {
  checkSamples(samples);
  let sum = 0;
  for (const s of samples) sum -= s.logLikelihood / s.length;
  return sum / samples.length;
}

/**
 * Maximum sequence probability as a score: -max_s log p(y_s), the NLL of the most likely sampled
 * answer. It ranks questions exactly as 1 - max_s p(y_s) does (a monotone transform of it), but
 * p of a sentence underflows towards 0 and would turn 1 - p into ties at 1; the log does not.
 * Over the S samples, not a separate greedy answer.
 */
export function maximumSequenceProbabilityScore(samples: readonly SampledSequence[]): number {
  checkSamples(samples);
  let best = -Infinity;
  for (const s of samples) if (s.logLikelihood > best) best = s.logLikelihood;
  return -best;
}

/** 1 - the fraction of the question's samples judged right. */
export function incorrectFraction(correct: readonly boolean[]): number {
  return 1 - correctFraction(correct);
}

function checkSamples(samples: readonly SampledSequence[]): void {
  if (samples.length === 0) throw new RangeError('a question needs at least one sampled answer');
  for (const [i, s] of samples.entries()) {
    if (Number.isNaN(s.logLikelihood) || s.logLikelihood > 0) throw new RangeError(`sample ${i}: log-likelihood ${s.logLikelihood} is not <= 0`);
    if (!Number.isInteger(s.length) || s.length < 1) throw new RangeError(`sample ${i}: length ${s.length} is not a positive integer`);
  }
}
