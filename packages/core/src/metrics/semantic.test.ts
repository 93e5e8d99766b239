import type { EntailmentScores } from '../contracts/judge';
import {
  clusterByMeaning,
  discreteSemanticEntropy,
  largestCluster,
  largestClusterCorrect,
  nliLabel,
  semanticallyEquivalent,
  semanticEntropy,
  semanticSetCount,
  type AnswerRelation,
} from './semantic';

const ENTAILS: EntailmentScores = { entailment: 0.9, contradiction: 0.05 };
const CONTRADICTS: EntailmentScores = { entailment: 0.05, contradiction: 0.9 };

/** A stub comparer that knows each text's meaning; records every (premise, hypothesis) it is asked. */
function meaningRelation(texts: readonly string[], meaning: Record<string, string>, calls: [number, number][] = []): AnswerRelation {
  return (p, h) => {
    calls.push([p, h]);
    return meaning[texts[p]] === meaning[texts[h]] ? ENTAILS : CONTRADICTS;
  };
}

describe('nliLabel: the argmax of (contradiction, neutral = 1 - e - c, entailment), ties to the earlier class', () => {
  it('reads the three classes', () => {
    expect(nliLabel({ entailment: 0.7, contradiction: 0.1 })).toBe('entailment');
    expect(nliLabel({ entailment: 0.1, contradiction: 0.7 })).toBe('contradiction');
    expect(nliLabel({ entailment: 0.2, contradiction: 0.1 })).toBe('neutral'); // neutral 0.7
    // Entailment need not reach 0.5: 0.41 beats neutral 0.39 and contradiction 0.2.
    expect(nliLabel({ entailment: 0.41, contradiction: 0.2 })).toBe('entailment');
  });

  it('a tie is never entailment: e = n goes to neutral, e = c to contradiction', () => {
    expect(nliLabel({ entailment: 0.375, contradiction: 0.25 })).toBe('neutral'); // n = 0.375 exactly
    expect(nliLabel({ entailment: 0.5, contradiction: 0.5 })).toBe('contradiction');
    // A two-class comparer (no neutral): entailment when it is above 0.5.
    expect(nliLabel({ entailment: 0.6, contradiction: 0.4 })).toBe('entailment');
  });

  it('refuses values that are not probabilities of one distribution', () => {
    expect(() => nliLabel({ entailment: 1.2, contradiction: 0 })).toThrow(RangeError);
    expect(() => nliLabel({ entailment: 0.7, contradiction: 0.7 })).toThrow(RangeError);
    expect(() => nliLabel({ entailment: NaN, contradiction: 0 })).toThrow(RangeError);
  });
});

describe('clusterByMeaning (greedy, against each cluster’s representative)', () => {
  const texts = ['Paris', 'paris', 'London', 'The answer is Paris.', 'London', 'Rome'];
  const meaning = { Paris: 'P', paris: 'P', 'The answer is Paris.': 'P', London: 'L', Rome: 'R' };

  it('joins the first cluster whose representative it mutually entails; an equal text joins without a comparison', () => {
    const calls: [number, number][] = [];
    const clusters = clusterByMeaning(texts, meaningRelation(texts, meaning, calls), { strict: true });
    expect(clusters.ids).toEqual([0, 0, 1, 0, 1, 2]);
    expect(clusters.representatives).toEqual([0, 2, 5]);
    // paris: both directions with Paris; London: forward contradiction, so no backward; the
    // answer sentence: both directions; the second London: none; Rome: forward with each representative.
    expect(calls).toEqual([
      [0, 1],
      [1, 0],
      [0, 2],
      [0, 3],
      [3, 0],
      [0, 5],
      [2, 5],
    ]);
  });

  it('strict and non-strict differ where one direction is neutral', () => {
    // "the capital of France" -> "Paris" is entailment; "Paris" -> "the capital of France" only
    // neutral (0.7). Lyon contradicts both.
    const t = ['Paris', 'the capital of France', 'Lyon'];
    const table: Record<string, EntailmentScores> = {
      '0>1': { entailment: 0.2, contradiction: 0.1 },
      '1>0': { entailment: 0.8, contradiction: 0.1 },
    };
    const relation: AnswerRelation = (p, h) => table[`${p}>${h}`] ?? CONTRADICTS;
    const strict = clusterByMeaning(t, relation, { strict: true });
    const loose = clusterByMeaning(t, relation, { strict: false });
    expect(strict.ids).toEqual([0, 1, 2]);
    expect(loose.ids).toEqual([0, 0, 1]);
    expect(semanticallyEquivalent(table['0>1'], table['1>0'], true)).toBe(false);
    expect(semanticallyEquivalent(table['0>1'], table['1>0'], false)).toBe(true);
    // Equal weights: three sets -> ln 3; two sets of 2 and 1 -> -(2/3 ln 2/3 + 1/3 ln 1/3).
    const equal = t.map(() => ({ logLikelihood: -1, length: 1 }));
    expect(semanticEntropy(strict.ids, equal)).toBeCloseTo(Math.log(3), 12);
    expect(semanticEntropy(loose.ids, equal)).toBeCloseTo(-((2 / 3) * Math.log(2 / 3) + (1 / 3) * Math.log(1 / 3)), 12);
  });

  it('non-strict still separates a contradiction in either direction', () => {
    const relation: AnswerRelation = (p) => (p === 1 ? CONTRADICTS : { entailment: 0.2, contradiction: 0.1 });
    expect(clusterByMeaning(['a', 'b'], relation, { strict: false }).ids).toEqual([0, 1]);
  });
});

describe('semantic uncertainty of one question (closed forms)', () => {
  // Clusters as above: {0, 1, 3}, {2, 4}, {5}. Length-normalised likelihoods 4, 1, 2, 1, 1, 1
  // times e^-5 (renormalised: 0.4, 0.1, 0.2, 0.1, 0.1, 0.1), over lengths 2, 1, 3, 1, 2, 1.
  const ids = [0, 0, 1, 0, 1, 2];
  const weights = [4, 1, 2, 1, 1, 1];
  const lengths = [2, 1, 3, 1, 2, 1];
  const samples = weights.map((w, i) => ({ logLikelihood: lengths[i] * (Math.log(w) - 5), length: lengths[i] }));

  it('likelihood-weighted entropy: cluster masses 0.6, 0.3, 0.1', () => {
    expect(semanticEntropy(ids, samples)).toBeCloseTo(-(0.6 * Math.log(0.6) + 0.3 * Math.log(0.3) + 0.1 * Math.log(0.1)), 12);
  });

  it('discrete entropy: frequencies 3/6, 2/6, 1/6', () => {
    expect(discreteSemanticEntropy(ids)).toBeCloseTo(-(0.5 * Math.log(0.5) + (1 / 3) * Math.log(1 / 3) + (1 / 6) * Math.log(1 / 6)), 12);
  });

  it('sets, the largest cluster’s share, and its representative’s verdict', () => {
    expect(semanticSetCount(ids)).toBe(3);
    expect(largestCluster(ids)).toEqual({ id: 0, share: 0.5 });
    // The representative (answer 0) is wrong although most of its cluster is judged right.
    const clusters = { ids, representatives: [0, 2, 5] };
    expect(largestClusterCorrect(clusters, [false, true, true, true, false, false])).toBe(false);
    expect(largestClusterCorrect(clusters, [true, false, false, false, false, false])).toBe(true);
  });

  it('one meaning: both entropies 0, one set, share 1', () => {
    const one = [0, 0, 0];
    expect(semanticEntropy(one, samples.slice(0, 3))).toBe(0);
    expect(discreteSemanticEntropy(one)).toBe(0);
    expect(semanticSetCount(one)).toBe(1);
    expect(largestCluster(one)).toEqual({ id: 0, share: 1 });
  });

  it('a tie for the largest cluster goes to the one opened first', () => {
    expect(largestCluster([0, 1, 1, 0])).toEqual({ id: 0, share: 0.5 });
  });

  it('weights whose exp underflows still split 3 : 1', () => {
    const tiny = [
      { logLikelihood: -1000, length: 1 },
      { logLikelihood: -1000 - Math.log(3), length: 1 },
    ];
    expect(Math.exp(-1000)).toBe(0);
    expect(semanticEntropy([1, 0], tiny)).toBeCloseTo(-(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75)), 12);
  });

  it('refuses mismatched or empty input', () => {
    expect(() => semanticEntropy([0], samples)).toThrow(/1 cluster ids for 6 samples/);
    expect(() => discreteSemanticEntropy([])).toThrow(RangeError);
    expect(() => semanticSetCount([0, -1])).toThrow(/not a non-negative integer/);
    expect(() => semanticEntropy([0], [{ logLikelihood: 0.5, length: 1 }])).toThrow(RangeError);
  });
});
