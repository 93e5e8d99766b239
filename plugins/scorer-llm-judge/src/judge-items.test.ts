import type { JudgeItem } from '@bayes-peft/core';
import { judgeItems, TOO_SHORT_DETAIL, type JudgeAnswer } from './judge-items';
import type { JudgeQuestion } from './judge-prompt';

const item = (candidate: string, references: string[], question = 'Q?', context?: string): JudgeItem => ({ id: 'q', question, references, candidate, ...(context ? { context } : {}) });

/** A stub backend: right when the candidate contains the reference, confidence from a table; records what it was asked. */
function stub(confidence: Record<string, number> = {}) {
  const calls: JudgeQuestion[][] = [];
  const ask = async (qs: readonly JudgeQuestion[]): Promise<JudgeAnswer[]> => {
    calls.push([...qs]);
    return qs.map((q) => {
      const correct = q.candidate.toLowerCase().includes(q.reference);
      return { correct, confidence: confidence[q.reference] ?? (correct ? 0.9 : 0.1), detail: `asked about ${q.reference}` };
    });
  };
  return { ask, calls };
}

describe('judging a batch of items through one backend call', () => {
  it('makes candidates shorter than 2 characters wrong without asking, and asks nothing for an all-short batch', async () => {
    const s = stub();
    expect(await judgeItems([item('A', ['a']), item(' ', ['a'])], 1, s.ask)).toEqual([
      { correct: false, confidence: 0, detail: TOO_SHORT_DETAIL },
      { correct: false, confidence: 0, detail: TOO_SHORT_DETAIL },
    ]);
    expect(s.calls).toEqual([]);
  });

  it('asks identical questions once, and returns one verdict per item in order', async () => {
    const s = stub();
    const v = await judgeItems([item('Paris', ['paris']), item('Lyon', ['paris']), item('Paris', ['paris']), item('Paris', ['paris'], 'Other?')], 1, s.ask);
    expect(v.map((x) => x.correct)).toEqual([true, false, true, true]);
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0].map((q) => [q.question, q.candidate])).toEqual([
      ['Q?', 'Paris'],
      ['Q?', 'Lyon'],
      ['Other?', 'Paris'],
    ]);
  });

  it('passes the context on, and tells apart questions that differ only by it', async () => {
    const s = stub();
    await judgeItems([item('Paris', ['paris'], 'Q?', 'ctx A'), item('Paris', ['paris'], 'Q?', 'ctx B'), item('Paris', ['paris'])], 1, s.ask);
    expect(s.calls[0].map((q) => q.context)).toEqual(['ctx A', 'ctx B', undefined]);
  });

  it('asks about the first maxReferences non-empty references: right when any is accepted, the highest confidence', async () => {
    const s = stub({ 'william shakespeare': 0.2, shakespeare: 0.8, bard: 0.95 });
    const refs = ['william shakespeare', '', 'shakespeare', 'bard'];
    // The primary only (the reference): 'Shakespeare' does not contain 'william shakespeare'.
    expect(await judgeItems([item('Shakespeare', refs)], 1, s.ask)).toEqual([{ correct: false, confidence: 0.2, detail: 'asked about william shakespeare' }]);
    // Two references (the empty one skipped): the accepted one decides and names itself.
    expect(await judgeItems([item('Shakespeare', refs)], 2, s.ask)).toEqual([{ correct: true, confidence: 0.8, detail: 'against "shakespeare": asked about shakespeare' }]);
    // A rejected reference with a higher confidence raises the confidence but does not decide.
    expect(await judgeItems([item('Shakespeare', refs)], 3, s.ask)).toEqual([{ correct: true, confidence: 0.95, detail: 'against "shakespeare": asked about shakespeare' }]);
    expect(s.calls.map((c) => c.map((q) => q.reference))).toEqual([['william shakespeare'], ['william shakespeare', 'shakespeare'], ['william shakespeare', 'shakespeare', 'bard']]);
  });

  it('makes an item without a non-empty reference wrong without asking', async () => {
    const s = stub();
    expect(await judgeItems([item('Paris', ['', '  '])], 3, s.ask)).toEqual([{ correct: false, confidence: 0, detail: 'no non-empty reference: wrong without asking the judge' }]);
    expect(s.calls).toEqual([]);
  });

  it('refuses a backend that answers a different number of questions', async () => {
    await expect(judgeItems([item('Paris', ['paris'])], 1, async () => [])).rejects.toThrow('llm-judge: the backend gave 0 answers for 1 questions');
  });
});
