/**
 * The per-run metrics of open-ended QA (the reference's `evaluate_generative`, with its defects
 * fixed: docs/reference-differences.md rows 81 and 82), from the judge's verdict on each weight
 * sample's answer. Every question has S >= 1 judged samples.
 *
 * - A question is right when more than half of its samples are; a tie (exactly half) is what
 *   `tieRule` says: `'half'` (default) counts it as half right, the expected outcome of breaking
 *   the tie by a fair coin, so an even S neither favours nor penalises a method; `'wrong'` is the
 *   reference's `mean > 0.5`.
 * - Confidence = the fraction of the question's samples judged right. The reference uses the
 *   question's 0/1 outcome itself, which makes ECE and Brier identically 0 for string match.
 *   Both the confidence and the outcome come from the judge, so ECE and Brier here measure how far
 *   the samples' agreement is from unanimous where the majority is right or wrong; a model-side
 *   confidence (semantic agreement, next issue) goes through the same two functions.
 */

/** How a question with exactly half its samples right counts. */
export type TieRule = 'half' | 'wrong';

/** One question's samples: judged right or not, and each answer's sequence NLL in nats. */
export interface JudgedQuestion {
  readonly correct: readonly boolean[];
  readonly nll: readonly number[];
}

export interface GenerativeMetricsOptions {
  /** Default `'half'`; `'wrong'` is the reference's. */
  readonly tieRule?: TieRule;
  /** ECE bins; default 10, the reference's. */
  readonly bins?: number;
}

export interface GenerativeMetrics {
  readonly acc: number;
  readonly ece: number;
  readonly brier: number;
  /** Mean sequence NLL over every (question, sample). */
  readonly nll: number;
  /** Mean binary entropy of the fraction of samples right, over questions with at least 2 samples. */
  readonly entropy: number;
  readonly n: number;
}

/** All of this file's metrics for one run; confidence = each question's fraction of samples right. */
export function generativeMetrics(questions: readonly JudgedQuestion[], options: GenerativeMetricsOptions = {}): GenerativeMetrics {
  const correct = questions.map((q) => q.correct);
  const confidence = correct.map(correctFraction);
  const outcome = correct.map((c) => majorityCorrectness(c, options.tieRule));
  return {
    acc: mean(outcome),
    ece: binaryCalibrationError(confidence, outcome, options.bins),
    brier: binaryBrierScore(confidence, outcome),
    nll: meanSampleNll(questions.map((q) => q.nll)),
    entropy: correctnessEntropy(correct),
    n: questions.length,
  };
}

/** The share of a question's samples judged right. */
export function correctFraction(correct: readonly boolean[]): number {
  if (correct.length === 0) throw new RangeError('a question needs at least one judged sample');
  let k = 0;
  for (const c of correct) if (c) k++;
  return k / correct.length;
}

/** 1 when more than half the samples are right, 0 when fewer, a tie by `tieRule` (0.5 or 0). */
export function majorityCorrectness(correct: readonly boolean[], tieRule: TieRule = 'half'): number {
  if (correct.length === 0) throw new RangeError('a question needs at least one judged sample');
  let k = 0;
  for (const c of correct) if (c) k++;
  // Integer comparison: 2k against S decides the tie exactly, whatever the float mean would round to.
  if (2 * k > correct.length) return 1;
  if (2 * k < correct.length) return 0;
  return tieRule === 'half' ? 0.5 : 0;
}

/** Mean over questions of `majorityCorrectness`. */
export function majorityAccuracy(questions: readonly (readonly boolean[])[], tieRule: TieRule = 'half'): number {
  return mean(questions.map((c) => majorityCorrectness(c, tieRule)));
}

/**
 * L1 calibration error of confidences in [0, 1] against outcomes in [0, 1] over `bins`
 * equal-width bins: bin = min(floor(bins · c), bins - 1), so [k/bins, (k+1)/bins) with 1 in the
 * last bin (the reference's binning for generation; multiple-choice ECE bins as torchmetrics).
 * ECE = Σ_k (n_k / N) |mean outcome_k - mean confidence_k|.
 */
export function binaryCalibrationError(confidence: readonly number[], outcome: readonly number[], bins = 10): number {
  checkPairs(confidence, outcome);
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const count = new Float64Array(bins);
  const confSum = new Float64Array(bins);
  const outSum = new Float64Array(bins);
  for (let i = 0; i < confidence.length; i++) {
    const bin = Math.min(Math.floor(bins * confidence[i]), bins - 1);
    count[bin]++;
    confSum[bin] += confidence[i];
    outSum[bin] += outcome[i];
  }
  let ece = 0;
  for (let k = 0; k < bins; k++) {
    if (count[k] > 0) ece += (count[k] / confidence.length) * Math.abs(outSum[k] / count[k] - confSum[k] / count[k]);
  }
  return ece;
}

/** Mean over questions of (confidence - outcome)². */
export function binaryBrierScore(confidence: readonly number[], outcome: readonly number[]): number {
  checkPairs(confidence, outcome);
  let sum = 0;
  for (let i = 0; i < confidence.length; i++) sum += (confidence[i] - outcome[i]) ** 2;
  return sum / confidence.length;
}

/**
 * Mean sequence NLL over every (question, sample) pair, as the reference pools them (a question
 * with more samples weighs more). A non-finite NLL is passed through, not hidden.
 */
export function meanSampleNll(nll: readonly (readonly number[])[]): number {
  let sum = 0;
  let n = 0;
  for (const q of nll) {
    for (const v of q) sum += v;
    n += q.length;
  }
  if (n === 0) throw new RangeError('mean sample NLL needs at least one sample');
  return sum / n;
}

/** -p ln p - (1 - p) ln(1 - p), with 0 ln 0 = 0. */
export function binaryEntropy(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binary entropy needs p in [0, 1], got ${p}`);
  let h = 0;
  if (p > 0) h -= p * Math.log(p);
  if (p < 1) h -= (1 - p) * Math.log(1 - p);
  return h;
}

/**
 * Mean binary entropy of each question's fraction of samples right, over the questions with at
 * least 2 samples (the reference's selection: one sample has no spread to measure). NaN when no
 * question has 2.
 */
export function correctnessEntropy(questions: readonly (readonly boolean[])[]): number {
  let sum = 0;
  let n = 0;
  for (const c of questions) {
    if (c.length < 2) continue;
    sum += binaryEntropy(correctFraction(c));
    n++;
  }
  return n === 0 ? NaN : sum / n;
}

function checkPairs(confidence: readonly number[], outcome: readonly number[]): void {
  if (confidence.length !== outcome.length) throw new RangeError(`${confidence.length} confidences for ${outcome.length} outcomes`);
  if (confidence.length === 0) throw new RangeError('calibration metrics need at least one question');
  for (let i = 0; i < confidence.length; i++) {
    if (!(confidence[i] >= 0 && confidence[i] <= 1)) throw new RangeError(`confidence ${i} is ${confidence[i]}, not in [0, 1]`);
    if (!(outcome[i] >= 0 && outcome[i] <= 1)) throw new RangeError(`outcome ${i} is ${outcome[i]}, not in [0, 1]`);
  }
}

function mean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('generative metrics need at least one question');
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
