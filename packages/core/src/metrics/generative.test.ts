import {
  binaryBrierScore,
  binaryCalibrationError,
  binaryEntropy,
  correctFraction,
  correctnessEntropy,
  generativeMetrics,
  majorityAccuracy,
  majorityCorrectness,
  meanSampleNll,
} from './generative';

const T = true;
const F = false;

describe('generative metrics (closed forms)', () => {
  // Five questions, four samples each:
  //   q1 3/4 right -> fraction 0.75, majority right (1)
  //   q2 1/4 right -> fraction 0.25, majority wrong (0)
  //   q3 2/4 right -> fraction 0.5,  a tie: 0.5 ('half') or 0 ('wrong', the reference)
  //   q4 4/4 right -> fraction 1,    1
  //   q5 0/4 right -> fraction 0,    0
  const questions = [
    [T, T, T, F],
    [T, F, F, F],
    [F, T, F, T],
    [T, T, T, T],
    [F, F, F, F],
  ];
  const fractions = [0.75, 0.25, 0.5, 1, 0];

  it('the correct fraction is k / S', () => {
    expect(questions.map(correctFraction)).toEqual(fractions);
    expect(() => correctFraction([])).toThrow(RangeError);
  });

  it('a question is right with more than half its samples right; a tie follows tieRule', () => {
    expect(questions.map((q) => majorityCorrectness(q))).toEqual([1, 0, 0.5, 1, 0]);
    expect(questions.map((q) => majorityCorrectness(q, 'wrong'))).toEqual([1, 0, 0, 1, 0]);
    // Odd S never ties: 2 of 3 is a majority, 1 of 3 is not.
    expect(majorityCorrectness([T, T, F], 'wrong')).toBe(1);
    expect(majorityCorrectness([T, F, F], 'half')).toBe(0);
  });

  it('accuracy: (1 + 0 + 0.5 + 1 + 0) / 5 = 0.5 by default, (1 + 1) / 5 = 0.4 with the reference tie rule', () => {
    expect(majorityAccuracy(questions)).toBe(0.5);
    expect(majorityAccuracy(questions, 'wrong')).toBe(0.4);
  });

  it('ECE, confidence = fraction right: each question alone in its bin', () => {
    // Bins: 0.75 -> 7, 0.25 -> 2, 0.5 -> 5, 1 -> 9 (1 joins the last bin), 0 -> 0.
    // |outcome - confidence|: 0.25, 0.25, |0.5 - 0.5| = 0, 0, 0 -> 0.5 / 5 = 0.1.
    expect(binaryCalibrationError(fractions, [1, 0, 0.5, 1, 0])).toBeCloseTo(0.1, 12);
    // The reference's tie: q3 gives |0 - 0.5| -> (0.25 + 0.25 + 0.5) / 5 = 0.2.
    expect(binaryCalibrationError(fractions, [1, 0, 0, 1, 0])).toBeCloseTo(0.2, 12);
  });

  it("ECE pools a bin before |acc - conf|; [k/10, (k+1)/10) with 1 in the last bin", () => {
    // 0.62 and 0.68 share bin 6: acc 0.5, conf 0.65 -> 0.15.
    expect(binaryCalibrationError([0.62, 0.68], [1, 0])).toBeCloseTo(0.15, 12);
    // 0.65 (bin 6) and 0.7 (bin 7, the lower edge is inclusive) stay apart: (0.35 + 0.7) / 2 = 0.525.
    expect(binaryCalibrationError([0.65, 0.7], [1, 0])).toBeCloseTo(0.525, 12);
    // 0.95 and 1 share bin 9: acc 0.5, conf 0.975 -> 0.475.
    expect(binaryCalibrationError([0.95, 1], [1, 0])).toBeCloseTo(0.475, 12);
    // 2 bins: 0.3 in [0, 0.5), 0.5 and 0.9 in [0.5, 1]: (1/3)|0 - 0.3| + (2/3)|1 - 0.7| = 0.1 + 0.2.
    expect(binaryCalibrationError([0.3, 0.5, 0.9], [0, 1, 1], 2)).toBeCloseTo(0.3, 12);
  });

  it("the reference's confidence (the 0/1 outcome itself) makes ECE and Brier identically 0 (defect kept out)", () => {
    const outcome = [1, 0, 0, 1, 0];
    expect(binaryCalibrationError(outcome, outcome)).toBe(0);
    expect(binaryBrierScore(outcome, outcome)).toBe(0);
  });

  it('Brier: mean (fraction - outcome)^2', () => {
    // 0.25^2 + 0.25^2 + 0 + 0 + 0 = 0.125 -> 0.025; with q3 counted wrong: + 0.5^2 -> 0.375 / 5 = 0.075.
    expect(binaryBrierScore(fractions, [1, 0, 0.5, 1, 0])).toBeCloseTo(0.025, 12);
    expect(binaryBrierScore(fractions, [1, 0, 0, 1, 0])).toBeCloseTo(0.075, 12);
  });

  it('mean sample NLL pools every (question, sample), so a question with more samples weighs more', () => {
    // (1 + 2 + 3 + 4 + 2) / 5 = 2.4, not the mean of question means (2.5 + 2) / 2 = 2.25.
    expect(meanSampleNll([[1, 2, 3, 4], [2]])).toBeCloseTo(2.4, 12);
    expect(meanSampleNll([[1, Infinity]])).toBe(Infinity);
    expect(() => meanSampleNll([[], []])).toThrow(RangeError);
  });

  it('binary entropy in nats with 0 ln 0 = 0', () => {
    expect(binaryEntropy(0.5)).toBeCloseTo(Math.LN2, 12);
    expect(binaryEntropy(0.25)).toBeCloseTo(-(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)), 12);
    expect(binaryEntropy(0)).toBe(0);
    expect(binaryEntropy(1)).toBe(0);
    expect(() => binaryEntropy(1.5)).toThrow(RangeError);
  });

  it('predictive entropy: mean binary entropy of the fraction, over questions with at least 2 samples', () => {
    const h34 = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    // H(0.75) = H(0.25) = h34, H(0.5) = ln 2, H(1) = H(0) = 0.
    expect(correctnessEntropy(questions)).toBeCloseTo((2 * h34 + Math.LN2) / 5, 12);
    // A one-sample question is left out of the mean: ln 2 / 1, not ln 2 / 2.
    expect(correctnessEntropy([[T, F], [T]])).toBeCloseTo(Math.LN2, 12);
    expect(correctnessEntropy([[T], [F]])).toBeNaN();
  });

  it('generativeMetrics puts them together with the default tie rule and 10 bins', () => {
    const nll = [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3], [4, 4, 4, 4], [5, 5, 5, 5]];
    const m = generativeMetrics(questions.map((correct, i) => ({ correct, nll: nll[i] })));
    expect(m.acc).toBe(0.5);
    expect(m.ece).toBeCloseTo(0.1, 12);
    expect(m.brier).toBeCloseTo(0.025, 12);
    expect(m.nll).toBeCloseTo(3, 12);
    expect(m.n).toBe(5);
    const ref = generativeMetrics(questions.map((correct, i) => ({ correct, nll: nll[i] })), { tieRule: 'wrong' });
    expect(ref.acc).toBe(0.4);
    expect(ref.ece).toBeCloseTo(0.2, 12);
  });

  it('refuses mismatched or out-of-range inputs', () => {
    expect(() => binaryCalibrationError([0.5], [1, 0])).toThrow(/1 confidences for 2 outcomes/);
    expect(() => binaryCalibrationError([1.2], [1])).toThrow(/not in \[0, 1\]/);
    expect(() => binaryBrierScore([], [])).toThrow(RangeError);
    expect(() => binaryCalibrationError([0.5], [1], 0)).toThrow(/bins/);
    expect(() => majorityAccuracy([])).toThrow(RangeError);
  });
});
