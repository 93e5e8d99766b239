import { flipRatio } from './flip-ratio';

describe('flipRatio (val_flip_ratio)', () => {
  it('counts the examples whose argmax changes between the mean pass and the sampled prediction', () => {
    // argmax of the mean logits: 0, 1, 2, 1; of the sampled probabilities: 0, 2, 2, 0 -> 2 of 4 flip.
    const meanLogits = [
      [2.0, -1.0, 0.5],
      [0.1, 3.0, 0.2],
      [-1.0, -2.0, 0.0],
      [0.0, 0.3, 0.2],
    ];
    const sampledProbs = [
      [0.5, 0.2, 0.3],
      [0.1, 0.4, 0.5],
      [0.2, 0.2, 0.6],
      [0.4, 0.35, 0.25],
    ];
    expect(flipRatio(meanLogits, sampledProbs)).toBe(0.5);
  });

  it('is 0 when the sampling changes no decision and 1 when it changes every one', () => {
    const a = [
      [0.9, 0.1],
      [0.3, 0.7],
      [0.6, 0.4],
    ];
    expect(flipRatio(a, a)).toBe(0);
    expect(flipRatio(a, a.map(([p, q]) => [q, p]))).toBe(1);
  });

  it('breaks ties as argmax does (the first largest class), on both sides alike', () => {
    // [0.5, 0.5] -> class 0 on either side: no flip; one of three flips -> 1/3.
    expect(flipRatio([[0.5, 0.5], [1, 0], [0, 1]], [[0.5, 0.5], [1, 0], [1, 0]])).toBeCloseTo(1 / 3, 15);
  });

  it('refuses mismatched or empty inputs', () => {
    expect(() => flipRatio([[1, 0]], [])).toThrow(/1 mean predictions for 0 sampled/);
    expect(() => flipRatio([], [])).toThrow(/at least one example/);
  });
});
