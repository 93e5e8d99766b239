import type { Judge, JudgeItem } from '@bayes-peft/core';
import type { GeneratedQuestion } from './open-generation';
import { openMetrics, scoreQuestions } from './open-scoring';

/** Right when the candidate equals a reference; remembers every call. */
function exactJudge(calls: JudgeItem[][] = []): Judge {
  return {
    name: 'exact',
    judge: async (items) => {
      calls.push([...items]);
      return items.map((i) => {
        const correct = i.references.includes(i.candidate);
        return { correct, confidence: correct ? 1 : 0 };
      });
    },
  };
}

const answer = (text: string, nll: number, tokens: number) => ({ text, ids: Array.from({ length: tokens }, (_, i) => i), nll, tokens, finishedWithEos: true });

const questions: GeneratedQuestion[] = [
  // 2 of 3 right: majority right.
  { id: 'q1', question: 'Capital of France?', references: ['paris'], answers: [answer('paris', 1, 2), answer('paris', 2, 2), answer('lyon', 4, 4)] },
  // 1 of 2 right: a tie.
  { id: 'q2', question: 'Two plus two?', references: ['4', 'four'], answers: [answer('four', 0.5, 1), answer('5', 3, 3)] },
  // none right.
  { id: 'q3', question: 'Largest planet?', references: ['jupiter'], answers: [answer('mars', 6, 3), answer('venus', 9, 3)] },
];

describe('scoreQuestions', () => {
  it('asks the judge about every answer in batches across questions, with the question and all references', async () => {
    const calls: JudgeItem[][] = [];
    const rows = await scoreQuestions(exactJudge(calls), questions, { tieRule: 'half', batchSize: 4 });
    expect(calls.map((c) => c.length)).toEqual([4, 3]);
    expect(calls[0][3]).toEqual({ id: 'q2', question: 'Two plus two?', references: ['4', 'four'], candidate: 'four' });
    expect(rows.map((r) => r.samples.map((s) => s.correct))).toEqual([[true, true, false], [true, false], [false, false]]);
    expect(rows.map((r) => r.correct_fraction)).toEqual([2 / 3, 1 / 2, 0]);
    expect(rows.map((r) => r.correct)).toEqual([1, 0.5, 0]);
    expect(rows[0].samples[2]).toEqual({ text: 'lyon', nll: 4, nll_per_token: 1, tokens: 4, correct: false, confidence: 0 });
  });

  it('computes each question’s uncertainty scores from its answers’ likelihoods', async () => {
    const [q1, q2] = await scoreQuestions(exactJudge(), questions, { tieRule: 'half', batchSize: 64 });
    // Mean NLL over the samples, per sequence and per token; the most likely sample's NLL.
    expect(q1.scores.seq_entropy).toBeCloseTo((1 + 2 + 4) / 3, 12);
    expect(q1.scores.seq_entropy_norm).toBeCloseTo((0.5 + 1 + 1) / 3, 12);
    expect(q1.scores.max_seq_prob).toBe(1);
    expect(q1.scores.incorrect_fraction).toBeCloseTo(1 / 3, 12);
    expect(q2.scores.seq_entropy_norm).toBeCloseTo((0.5 + 1) / 2, 12);
  });

  it('refuses a judge that returns the wrong number of verdicts or a confidence outside [0, 1]', async () => {
    const short: Judge = { name: 'short', judge: async (items) => items.slice(1).map(() => ({ correct: true, confidence: 1 })) };
    await expect(scoreQuestions(short, questions, { tieRule: 'half', batchSize: 64 })).rejects.toThrow("scorer 'short' returned 6 verdicts for 7 answers");
    const wild: Judge = { name: 'wild', judge: async (items) => items.map(() => ({ correct: true, confidence: 1.5 })) };
    await expect(scoreQuestions(wild, questions, { tieRule: 'half', batchSize: 64 })).rejects.toThrow("scorer 'wild' gave confidence 1.5 (not in [0, 1]) for question q1");
  });
});

it('passes a question’s passage on to the judge (an LLM judge’s Context: line)', async () => {
  const calls: JudgeItem[][] = [];
  await scoreQuestions(exactJudge(calls), [{ ...questions[0], context: 'France is a country.' }], { tieRule: 'half', batchSize: 64 });
  expect(calls[0].map((i) => i.context)).toEqual(['France is a country.', 'France is a country.', 'France is a country.']);
  await scoreQuestions(exactJudge(calls), [questions[0]], { tieRule: 'half', batchSize: 64 });
  expect(calls[1].every((i) => !('context' in i))).toBe(true);
});

describe('openMetrics', () => {
  it('the generative metrics by hand, and the ranking of wrong questions (a tie counts as wrong)', async () => {
    const rows = await scoreQuestions(exactJudge(), questions, { tieRule: 'half', batchSize: 64 });
    const m = openMetrics(rows, { tieRule: 'half', bins: 10 });
    // Outcomes 1, 0.5, 0; confidences 2/3, 1/2, 0.
    expect(m.acc).toBeCloseTo(0.5, 12);
    expect(m.brier).toBeCloseTo(((1 / 3) ** 2 + 0 + 0) / 3, 12);
    // Bins: 2/3 -> bin 6 (|1 - 2/3|), 1/2 -> bin 5 (|0.5 - 0.5|), 0 -> bin 0 (0).
    expect(m.ece).toBeCloseTo((1 / 3) * (1 / 3), 12);
    expect(m.nll).toBeCloseTo((1 + 2 + 4 + 0.5 + 3 + 6 + 9) / 7, 12);
    expect(m.n).toBe(3);
    // Wrong: q2 (tie), q3. incorrect_fraction 1/3, 1/2, 1 ranks both wrong above the right q1.
    expect(m.auroc_incorrect_fraction).toBe(1);
    expect(m.aurc_incorrect_fraction).toBeGreaterThan(0);
    // seq_entropy_norm: q1 (2.5/3 = 0.833), q2 (0.75), q3 (2.5): q2 ranks below q1, so one of the two wrong-right pairs is misordered.
    expect(m.auroc_seq_entropy_norm).toBeCloseTo(0.5, 12);
    expect(m.auroc).toBe(m.auroc_seq_entropy_norm);
    expect(m.prr).toBe(m.prr_seq_entropy_norm);
  });

  it('without clusters the rows and metrics have no semantic keys', async () => {
    const rows = await scoreQuestions(exactJudge(), questions, { tieRule: 'half', batchSize: 64 });
    expect(Object.keys(rows[0].scores)).toEqual(['seq_entropy', 'seq_entropy_norm', 'max_seq_prob', 'incorrect_fraction']);
    expect('semantic_ids' in rows[0]).toBe(false);
    expect(Object.keys(openMetrics(rows, { tieRule: 'half', bins: 10 })).filter((k) => k.includes('semantic'))).toEqual([]);
  });

  it('under the reference tie rule a tie is simply wrong', async () => {
    const rows = await scoreQuestions(exactJudge(), questions, { tieRule: 'wrong', batchSize: 64 });
    expect(rows[1].correct).toBe(0);
    expect(openMetrics(rows, { tieRule: 'wrong', bins: 10 }).acc).toBeCloseTo(1 / 3, 12);
  });
});

describe('semantic scores in the rows and the metrics', () => {
  // q1: {paris, paris}, {lyon}; q2: {four}, {5}; q3: {mars}, {venus}.
  const clusters = [
    { ids: [0, 0, 1], representatives: [0, 2] },
    { ids: [0, 1], representatives: [0, 1] },
    { ids: [0, 1], representatives: [0, 1] },
  ];
  const H = (ps: number[]) => -ps.reduce((h, p) => h + p * Math.log(p), 0);
  const a = Math.exp(-0.5);
  const b = Math.exp(-1);

  it('per question: cluster ids, the largest cluster’s verdict, both entropies, sets and disagreement', async () => {
    const [q1, q2, q3] = await scoreQuestions(exactJudge(), questions, { tieRule: 'half', batchSize: 64, clusters });
    // Length-normalised likelihoods: q1 e^-0.5, e^-1, e^-1; q2 e^-0.5, e^-1; q3 e^-2, e^-3.
    expect(q1.scores.semantic_entropy).toBeCloseTo(H([(a + b) / (a + 2 * b), b / (a + 2 * b)]), 12);
    expect(q2.scores.semantic_entropy).toBeCloseTo(H([a / (a + b), b / (a + b)]), 12);
    expect(q3.scores.semantic_entropy).toBeCloseTo(H([1 / (1 + b), b / (1 + b)]), 12);
    expect(q1.scores.semantic_entropy_discrete).toBeCloseTo(H([2 / 3, 1 / 3]), 12);
    expect(q2.scores.semantic_entropy_discrete).toBeCloseTo(Math.log(2), 12);
    expect([q1, q2, q3].map((q) => q.scores.semantic_sets)).toEqual([2, 2, 2]);
    expect(q1.scores.semantic_disagreement).toBeCloseTo(1 / 3, 12);
    expect(q1.semantic_ids).toEqual([0, 0, 1]);
    // The largest cluster's representative: paris (right); q2's tie goes to the first cluster, four (right); mars (wrong).
    expect([q1, q2, q3].map((q) => q.semantic_correct)).toEqual([true, true, false]);
  });

  it('metrics: means, the largest cluster as the answer (acc, ECE, Brier of its share) and each score’s ranking', async () => {
    const rows = await scoreQuestions(exactJudge(), questions, { tieRule: 'half', batchSize: 64, clusters });
    const m = openMetrics(rows, { tieRule: 'half', bins: 10 });
    expect(m.semantic_sets).toBe(2);
    expect(m.semantic_entropy).toBeCloseTo((H([(a + b) / (a + 2 * b), b / (a + 2 * b)]) + H([a / (a + b), b / (a + b)]) + H([1 / (1 + b), b / (1 + b)])) / 3, 12);
    expect(m.semantic_entropy_discrete).toBeCloseTo((H([2 / 3, 1 / 3]) + 2 * Math.log(2)) / 3, 12);
    expect(m.semantic_acc).toBeCloseTo(2 / 3, 12);
    // Shares 2/3 (bin 6, right: |1 - 2/3|), 1/2 and 1/2 (bin 5, one right one wrong: |0.5 - 0.5|).
    expect(m.semantic_ece).toBeCloseTo((1 / 3) * (1 / 3), 12);
    expect(m.semantic_brier).toBeCloseTo(((1 / 3) ** 2 + 0.25 + 0.25) / 3, 12);
    // Wrong: q2 (tie) and q3. Disagreement 1/3 < 1/2, 1/2 ranks both first; equal set counts rank
    // nothing; the likelihood weighting puts q3 (0.582) below q1 (0.587): one of two pairs misordered.
    expect(m.auroc_semantic_disagreement).toBe(1);
    expect(m.auroc_semantic_entropy_discrete).toBe(1);
    expect(m.auroc_semantic_sets).toBe(0.5);
    expect(m.auroc_semantic_entropy).toBe(0.5);
    // The sequence scores and the headline are unchanged by the clusters.
    const plain = openMetrics(await scoreQuestions(exactJudge(), questions, { tieRule: 'half', batchSize: 64 }), { tieRule: 'half', bins: 10 });
    for (const [k, v] of Object.entries(plain)) expect(m[k]).toBe(v);
  });

  it('refuses rows of which only some have clusters', async () => {
    const rows = await scoreQuestions(exactJudge(), questions, { tieRule: 'half', batchSize: 64, clusters });
    const mixed = [rows[0], { ...rows[1], semantic_ids: undefined }];
    expect(() => openMetrics(mixed, { tieRule: 'half', bins: 10 })).toThrow('1 of 2 questions have no semantic clusters');
  });
});
