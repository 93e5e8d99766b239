import { JUDGE_SYSTEM, judgeUserText, tooShort } from './judge-prompt';

describe("the reference's judge texts", () => {
  it('are verbatim (REFERENCE-SPEC §5.4), the Context: line only with a context', () => {
    expect(JUDGE_SYSTEM).toBe('You are an expert answer evaluator. Judge if two answers mean the same thing.');
    const q = { question: 'Who wrote Hamlet?', reference: 'william shakespeare', candidate: 'Shakespeare' };
    const body =
      'Question: Who wrote Hamlet?\n\nGround truth answer: william shakespeare\nStudent answer: Shakespeare\n\n' +
      'Does the student answer match the ground truth? Reply with exactly one word: CORRECT or INCORRECT';
    expect(judgeUserText(q)).toBe(body);
    expect(judgeUserText({ ...q, context: '' })).toBe(body);
    expect(judgeUserText({ ...q, context: 'Hamlet is a tragedy.' })).toBe(`Context: Hamlet is a tragedy.\n${body}`);
    // The reference passed an empty question; the line stays when a caller has none.
    expect(judgeUserText({ ...q, question: '' })).toMatch(/^Question: \n\nGround truth answer:/);
  });

  it('calls a candidate shorter than 2 characters after trimming too short, counting code points', () => {
    for (const c of ['', ' ', 'A', '  7 \n', '\u{1F600}']) expect(tooShort(c)).toBe(true);
    for (const c of ['Ox', ' 42 ', '\u{1F600}\u{1F600}']) expect(tooShort(c)).toBe(false);
  });
});
