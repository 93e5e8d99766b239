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

  it('under the reference tie rule a tie is simply wrong', async () => {
    const rows = await scoreQuestions(exactJudge(), questions, { tieRule: 'wrong', batchSize: 64 });
    expect(rows[1].correct).toBe(0);
    expect(openMetrics(rows, { tieRule: 'wrong', bins: 10 }).acc).toBeCloseTo(1 / 3, 12);
  });
});
