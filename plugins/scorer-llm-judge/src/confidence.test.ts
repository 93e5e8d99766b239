import { logSumExp, twoWayConfidence } from './confidence';

describe('the two-way confidence', () => {
  it('is p_c / (p_c + p_i) of the full softmax, from logits or log-probabilities', () => {
    const logits = [2.5, -1, 0.3, 4];
    const z = logits.reduce((s, l) => s + Math.exp(l), 0);
    const p = logits.map((l) => Math.exp(l) / z);
    expect(twoWayConfidence(logits[0], logits[2])).toBeCloseTo(p[0] / (p[0] + p[2]), 14);
    expect(twoWayConfidence(Math.log(p[0]), Math.log(p[2]))).toBeCloseTo(p[0] / (p[0] + p[2]), 14);
    expect(twoWayConfidence(1, 1)).toBe(0.5);
  });

  it('stays finite for large logits and reaches 0 and 1 at the ends', () => {
    expect(twoWayConfidence(1000, 999)).toBeCloseTo(1 / (1 + Math.exp(-1)), 14);
    expect(twoWayConfidence(-Infinity, 0)).toBe(0);
    expect(twoWayConfidence(0, -Infinity)).toBe(1);
    expect(twoWayConfidence(-Infinity, -Infinity)).toBeNaN();
  });

  it('sums probabilities in log space', () => {
    expect(logSumExp([Math.log(0.2), Math.log(0.3)])).toBeCloseTo(Math.log(0.5), 14);
    expect(logSumExp([])).toBe(-Infinity);
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 10);
  });
});
