import type { ClassificationRecord, Metrics } from '../contracts/evaluator';

/**
 * Multiple-choice metrics of docs/methods.md, 'Metrics', averaged per example (the reference averages
 * per batch: defect 16). `probs` of each record is the sample-combined predictive distribution.
 */
export function classificationMetrics(records: readonly ClassificationRecord[], options: { bins?: number } = {}): Metrics {
  if (records.length === 0) throw new Error('classification metrics need at least one example');
  const probs = records.map((r) => r.probs);
  const labels = records.map((r) => r.label);
  return {
    acc: accuracy(probs, labels),
    ece: expectedCalibrationError(probs, labels, options.bins ?? 15),
    nll: negativeLogLikelihood(probs, labels),
    brier: brierScore(probs, labels),
    ...uncertaintyDecomposition(records.map((r) => r.sampleProbs)),
    n: records.length,
  };
}

export function argmax(p: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

export function accuracy(probs: readonly (readonly number[])[], labels: readonly number[]): number {
  let correct = 0;
  for (let i = 0; i < probs.length; i++) if (argmax(probs[i]) === labels[i]) correct++;
  return correct / probs.length;
}

/**
 * L1 calibration error with torchmetrics' binning: boundaries linspace(0, 1, bins + 1), a
 * confidence c goes to bin floor-by-bucketize(c, right=True) - 1, i.e. [b_k, b_k+1), and
 * c == 1 to an extra bin of its own.
 */
export function expectedCalibrationError(probs: readonly (readonly number[])[], labels: readonly number[], bins = 15): number {
  const boundaries = Array.from({ length: bins + 1 }, (_, k) => linspaceValue(k, bins));
  const count = new Float64Array(bins + 1);
  const confSum = new Float64Array(bins + 1);
  const accSum = new Float64Array(bins + 1);
  for (let i = 0; i < probs.length; i++) {
    const pred = argmax(probs[i]);
    const conf = probs[i][pred];
    const bin = bucketizeRight(conf, boundaries) - 1;
    count[bin]++;
    confSum[bin] += conf;
    accSum[bin] += pred === labels[i] ? 1 : 0;
  }
  let ece = 0;
  for (let k = 0; k <= bins; k++) {
    if (count[k] === 0) continue;
    ece += (count[k] / probs.length) * Math.abs(accSum[k] / count[k] - confSum[k] / count[k]);
  }
  return ece;
}

/** torch.linspace(0, 1, bins + 1) in float32, as torchmetrics builds it. */
function linspaceValue(k: number, bins: number): number {
  return Math.fround(k / bins);
}

/** torch.bucketize(x, boundaries, right=True): the number of boundaries <= x. */
function bucketizeRight(x: number, boundaries: readonly number[]): number {
  let i = 0;
  while (i < boundaries.length && boundaries[i] <= x) i++;
  return Math.max(i, 1);
}

/** Mean over examples of -log p(label) under the combined distribution. */
export function negativeLogLikelihood(probs: readonly (readonly number[])[], labels: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < probs.length; i++) sum += -Math.log(probs[i][labels[i]]);
  return sum / probs.length;
}

/** Mean over examples of sum_c (p_c - 1[c = y])^2. */
export function brierScore(probs: readonly (readonly number[])[], labels: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    for (let c = 0; c < p.length; c++) sum += (p[c] - (c === labels[i] ? 1 : 0)) ** 2;
  }
  return sum / probs.length;
}

export function entropy(p: readonly number[]): number {
  let h = 0;
  for (const v of p) if (v > 0) h -= v * Math.log(v);
  return h;
}

/**
 * Total predictive entropy H[E_s p_s], its aleatoric part E_s H[p_s] and the epistemic part,
 * the mutual information between the label and the weights, averaged over examples.
 */
export function uncertaintyDecomposition(sampleProbs: readonly (readonly (readonly number[])[])[]): {
  entropy: number;
  expected_entropy: number;
  mutual_info: number;
} {
  let total = 0;
  let aleatoric = 0;
  for (const samples of sampleProbs) {
    const mean = samples[0].map((_, c) => samples.reduce((s, p) => s + p[c], 0) / samples.length);
    const h = entropy(mean);
    const eh = samples.reduce((s, p) => s + entropy(p), 0) / samples.length;
    total += h;
    aleatoric += eh;
  }
  const n = sampleProbs.length;
  // Floating error can make H - E[H] a hair negative when all samples agree.
  return { entropy: total / n, expected_entropy: aleatoric / n, mutual_info: Math.max(0, (total - aleatoric) / n) };
}
