import { answerWordOf, logprobConfidence, type TokenLogprob } from './openai-logprobs';

const at = (token: string, top: [string, number][]): TokenLogprob => ({ token, logprob: top.find(([t]) => t === token)?.[1] ?? -5, top_logprobs: top.map(([t, logprob]) => ({ token: t, logprob })) });

describe('the confidence from a chat completion\'s logprobs', () => {
  it.each<[string, 'correct' | 'incorrect' | null]>([
    ['CORRECT', 'correct'],
    [' correct', 'correct'],
    ['Correct', 'correct'],
    ['COR', 'correct'],
    ['C', 'correct'],
    ['CORRECT.', 'correct'],
    ['INCORRECT', 'incorrect'],
    [' Inc', 'incorrect'],
    ['IN', 'incorrect'],
    ['incorrect,', 'incorrect'],
    ['The', null],
    ['CORE', null],
    ['  ', null],
  ])('token %j begins %s', (token, word) => {
    expect(answerWordOf(token)).toBe(word);
  });

  it('sums each word\'s tokens at the first answer token and renormalises over the two', () => {
    const c = logprobConfidence([at('COR', [['COR', Math.log(0.5)], ['INC', Math.log(0.3)], ['Correct', Math.log(0.1)], ['Maybe', Math.log(0.05)]]), at('RECT', [['RECT', 0]])]);
    expect(c!.confidence).toBeCloseTo(0.6 / 0.9, 12);
    expect(c!.pCorrect).toBeCloseTo(0.6, 12);
    expect(c!.pIncorrect).toBeCloseTo(0.3, 12);
  });

  it('skips leading whitespace tokens, and counts the chosen token when top_logprobs leaves it out', () => {
    const c = logprobConfidence([at('\n', [['\n', -0.01]]), { token: 'INCORRECT', logprob: Math.log(0.2), top_logprobs: [{ token: 'CORRECT', logprob: Math.log(0.6) }] }]);
    expect(c!.confidence).toBeCloseTo(0.6 / 0.8, 12);
  });

  it('is null without top_logprobs or without either word among them (the verdict decides then)', () => {
    expect(logprobConfidence(null)).toBeNull();
    expect(logprobConfidence([])).toBeNull();
    expect(logprobConfidence([{ token: 'CORRECT', logprob: -0.1 }])).toBeNull();
    expect(logprobConfidence([at('Yes', [['Yes', -0.1], ['No', -2]])])).toBeNull();
  });

  it('is 1 or 0 when only one word is among the top tokens', () => {
    expect(logprobConfidence([at('CORRECT', [['CORRECT', -0.01], ['The', -5]])])!.confidence).toBe(1);
    expect(logprobConfidence([at('INCORRECT', [['INCORRECT', -0.01]])])!.confidence).toBe(0);
  });
});
