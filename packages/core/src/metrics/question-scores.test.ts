import { incorrectFraction, lengthNormalisedSequenceEntropy, maximumSequenceProbabilityScore, sequenceEntropy } from './question-scores';

describe('per-question uncertainty scores (closed forms)', () => {
  // Three sampled answers: log p = -2 over 2 tokens, -6 over 3 tokens, -3 over 1 token.
  const samples = [
    { logLikelihood: -2, length: 2 },
    { logLikelihood: -6, length: 3 },
    { logLikelihood: -3, length: 1 },
  ];

  it('sequence entropy: -mean log p = (2 + 6 + 3) / 3', () => {
    expect(sequenceEntropy(samples)).toBeCloseTo(11 / 3, 12);
  });

  it('length-normalised: -mean log p / length = (2/2 + 6/3 + 3/1) / 3 = 2', () => {
    expect(lengthNormalisedSequenceEntropy(samples)).toBeCloseTo(2, 12);
  });

  it('maximum sequence probability: -max log p = 2, ordered as 1 - max p', () => {
    expect(maximumSequenceProbabilityScore(samples)).toBe(2);
    // A question whose best answer has log p = -1 is surer: lower score, and lower 1 - max p too.
    const surer = [{ logLikelihood: -1, length: 1 }];
    expect(maximumSequenceProbabilityScore(surer)).toBeLessThan(maximumSequenceProbabilityScore(samples));
    expect(1 - Math.exp(-1)).toBeLessThan(1 - Math.exp(-2));
    // Where p underflows 1 - p cannot tell answers apart; the log score still can.
    const long1 = [{ logLikelihood: -800, length: 100 }];
    const long2 = [{ logLikelihood: -900, length: 100 }];
    expect(1 - Math.exp(-800)).toBe(1 - Math.exp(-900));
    expect(maximumSequenceProbabilityScore(long1)).toBeLessThan(maximumSequenceProbabilityScore(long2));
  });

  it('1 - fraction right: 1 of 4 right -> 0.75', () => {
    expect(incorrectFraction([true, false, false, false])).toBe(0.75);
    expect(incorrectFraction([true, true])).toBe(0);
  });

  it('refuses empty questions, positive log-likelihoods and non-positive lengths', () => {
    expect(() => sequenceEntropy([])).toThrow(RangeError);
    expect(() => sequenceEntropy([{ logLikelihood: 0.5, length: 1 }])).toThrow(/not <= 0/);
    expect(() => lengthNormalisedSequenceEntropy([{ logLikelihood: -1, length: 0 }])).toThrow(/positive integer/);
    expect(() => incorrectFraction([])).toThrow(RangeError);
  });
});
