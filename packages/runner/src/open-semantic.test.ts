import type { EntailmentPair, EntailmentScores, Judge } from '@bayes-peft/core';
import type { GeneratedQuestion } from './open-generation';
import { clusterQuestions, type SemanticSettings } from './open-semantic';

const ENTAILS: EntailmentScores = { entailment: 0.9, contradiction: 0.05 };
const CONTRADICTS: EntailmentScores = { entailment: 0.05, contradiction: 0.9 };

/** A comparer that knows each text's meaning and remembers every batch it was asked. */
function stubComparer(meaning: Record<string, string>, calls: EntailmentPair[][]): SemanticSettings['comparer'] {
  return {
    name: 'stub',
    judge: async () => [],
    entailment: async (pairs) => {
      calls.push([...pairs]);
      return pairs.map((p) => (meaning[p.premise] === meaning[p.hypothesis] ? ENTAILS : CONTRADICTS));
    },
  };
}

const answer = (text: string) => ({ text, ids: [1], nll: 1, tokens: 1, finishedWithEos: true });
const question = (id: string, texts: string[]): GeneratedQuestion => ({ id, question: `${id}?`, references: [], answers: texts.map(answer) });
const meaning = { Paris: 'P', paris: 'P', London: 'L', '4': 'four', four: 'four', '5': 'five' };

describe('clusterQuestions', () => {
  it('asks only the pairs the greedy walk reaches, both directions at once, batched across questions', async () => {
    const calls: EntailmentPair[][] = [];
    const questions = [question('q1', ['Paris', 'paris', 'London', 'Paris']), question('q2', ['4', 'four', '5'])];
    const clusters = await clusterQuestions(questions, { comparer: stubComparer(meaning, calls), strict: true, batchSize: 3 });
    expect(clusters.map((c) => c.ids)).toEqual([
      [0, 0, 1, 0],
      [0, 0, 1],
    ]);
    expect(clusters.map((c) => c.representatives)).toEqual([
      [0, 2],
      [0, 2],
    ]);
    // Round 1: each question's first missing pair (answer 1 against representative 0) in both
    // directions: 4 pairs in batches of 3 and 1. Round 2: answer 2 against representative 0.
    // Round 3 needs nothing: the forward pair is contradiction, and the second 'Paris' is equal
    // to the first (no pair). The backward pairs of round 2 were asked ahead and not needed.
    const asked = calls.map((batch) => batch.map((p) => `${p.question} ${p.premise}>${p.hypothesis}`));
    expect(asked).toEqual([['q1? Paris>paris', 'q1? paris>Paris', 'q2? 4>four'], ['q2? four>4'], ['q1? Paris>London', 'q1? London>Paris', 'q2? 4>5'], ['q2? 5>4']]);
  });

  it('no pair is asked twice: each round walks a question from its start, reading earlier pairs from what is known', async () => {
    const calls: EntailmentPair[][] = [];
    // Two rounds ask (London, then paris, against Paris), the third finds all it needs known; the equal answers ask nothing.
    await clusterQuestions([question('q', ['Paris', 'London', 'paris', 'London', 'paris'])], { comparer: stubComparer(meaning, calls), strict: true, batchSize: 64 });
    const all = calls.flat().map((p) => `${p.premise}>${p.hypothesis}`);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(['London>Paris', 'Paris>London', 'Paris>paris', 'paris>Paris']);
  });

  it('refuses a comparer that returns the wrong number of scores or non-probabilities, naming it', async () => {
    const short: SemanticSettings['comparer'] = { name: 'short', judge: async () => [], entailment: async (pairs) => pairs.slice(1).map(() => ENTAILS) };
    await expect(clusterQuestions([question('q', ['a', 'b'])], { comparer: short, strict: true, batchSize: 8 })).rejects.toThrow("comparer 'short' returned 1 entailment scores for 2 pairs");
    const wild: Judge & SemanticSettings['comparer'] = { name: 'wild', judge: async () => [], entailment: async (pairs) => pairs.map(() => ({ entailment: 0.8, contradiction: 0.8 })) };
    await expect(clusterQuestions([question('q', ['a', 'b'])], { comparer: wild, strict: true, batchSize: 8 })).rejects.toThrow(
      "comparer 'wild' gave entailment 0.8 and contradiction 0.8 (not probabilities of one distribution) for 'a' -> 'b'",
    );
  });
});
