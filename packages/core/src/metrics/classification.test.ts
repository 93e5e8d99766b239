import {
  accuracy,
  brierScore,
  classificationMetrics,
  expectedCalibrationError,
  negativeLogLikelihood,
  uncertaintyDecomposition,
} from './classification';
import { combineSamples, softmax } from './combine';

describe('classification metrics (closed forms)', () => {
  const probs = [
    [0.7, 0.2, 0.1], // correct, conf 0.7
    [0.1, 0.6, 0.3], // wrong (label 2), conf 0.6
    [0.25, 0.25, 0.5], // correct, conf 0.5
    [1, 0, 0], // correct, conf 1 (extra bin)
  ];
  const labels = [0, 2, 2, 0];

  it('accuracy is the top-1 hit rate', () => {
    expect(accuracy(probs, labels)).toBe(0.75);
  });

  it('NLL is the mean of -log p(label)', () => {
    const expected = -(Math.log(0.7) + Math.log(0.3) + Math.log(0.5) + Math.log(1)) / 4;
    expect(negativeLogLikelihood(probs, labels)).toBeCloseTo(expected, 12);
  });

  it('Brier is the mean squared distance to the one-hot label', () => {
    const b = [
      0.3 ** 2 + 0.2 ** 2 + 0.1 ** 2,
      0.1 ** 2 + 0.6 ** 2 + 0.7 ** 2,
      0.25 ** 2 + 0.25 ** 2 + 0.5 ** 2,
      0,
    ];
    expect(brierScore(probs, labels)).toBeCloseTo(b.reduce((a, v) => a + v) / 4, 12);
  });

  it('ECE with 15 bins: each confidence alone in its bin, |acc - conf| weighted by 1/N', () => {
    // 0.7 -> bin 10 ([0.667, 0.733)), 0.6 -> bin 9, 0.5 -> bin 7, 1.0 -> the extra bin 15.
    const expected = (Math.abs(1 - 0.7) + Math.abs(0 - 0.6) + Math.abs(1 - 0.5) + Math.abs(1 - 1)) / 4;
    expect(expectedCalibrationError(probs, labels, 15)).toBeCloseTo(expected, 12);
  });

  it('ECE pools examples that share a bin before taking |acc - conf|', () => {
    // Both confidences fall in [0.6, 0.667): acc 0.5, conf 0.63 -> |0.5 - 0.63| * 2/2.
    const p = [
      [0.62, 0.38],
      [0.64, 0.36],
    ];
    expect(expectedCalibrationError(p, [0, 1], 15)).toBeCloseTo(Math.abs(0.5 - 0.63), 12);
  });

  it('a confidence exactly on a bin boundary goes to the upper bin (right=True)', () => {
    // 0.4 == 6/15 in float32 starts bin 6; with 1 example the ECE is |1 - 0.4| either way,
    // so pool it with 0.41 (bin 6) and 0.39 (bin 5) and check the pooling.
    const p = [[Math.fround(6 / 15), 1 - Math.fround(6 / 15)], [0.41, 0.59], [0.39, 0.61]];
    const c0 = Math.fround(6 / 15);
    // labels: first two correct (class 0), third wrong (predicted 1 with conf 0.61 -> bin 9).
    const ece = expectedCalibrationError(p, [0, 0, 0], 15);
    const expected = (2 / 3) * Math.abs(1 - (c0 + 0.41) / 2) + (1 / 3) * Math.abs(0 - 0.61);
    expect(ece).toBeCloseTo(expected, 12);
  });

  it('decomposes predictive entropy into expected entropy and mutual information', () => {
    // Two confident samples that disagree: total H = ln 2, expected H = 0, MI = ln 2.
    const d = uncertaintyDecomposition([[[1, 0], [0, 1]]]);
    expect(d.entropy).toBeCloseTo(Math.log(2), 12);
    expect(d.expected_entropy).toBeCloseTo(0, 12);
    expect(d.mutual_info).toBeCloseTo(Math.log(2), 12);
    // Identical samples carry no epistemic uncertainty.
    const same = uncertaintyDecomposition([[[0.5, 0.5], [0.5, 0.5]]]);
    expect(same.mutual_info).toBeCloseTo(0, 12);
    expect(same.entropy).toBeCloseTo(Math.log(2), 12);
  });

  it('summarises records with n and per-example means', () => {
    const records = probs.map((p, i) => ({ id: String(i), label: labels[i], probs: p, sampleProbs: [p] }));
    const m = classificationMetrics(records);
    expect(m.n).toBe(4);
    expect(m.acc).toBe(0.75);
    expect(m.mutual_info).toBeCloseTo(0, 12);
  });
});

describe('combining weight samples', () => {
  it('softmax is shift invariant and sums to one', () => {
    const p = softmax([1000, 1001, 1002]);
    expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    expect(p).toEqual(softmax([0, 1, 2]));
  });

  it('averages probabilities or logits as asked', () => {
    const logits = [
      [2, 0],
      [0, 2],
    ];
    for (const rule of ['probs', 'logits'] as const) {
      const [a, b] = combineSamples(logits, rule).probs;
      expect(a).toBeCloseTo(0.5, 12);
      expect(b).toBeCloseTo(0.5, 12);
    }
    const skew = [
      [4, 0],
      [0, 0],
    ];
    const e4 = Math.exp(4);
    expect(combineSamples(skew, 'probs').probs[0]).toBeCloseTo((e4 / (e4 + 1) + 0.5) / 2, 12);
    expect(combineSamples(skew, 'logits').probs[0]).toBeCloseTo(Math.exp(2) / (Math.exp(2) + 1), 12);
  });
});
