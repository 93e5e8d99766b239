import { describeParse, parseVerdict, type VerdictRule } from './parse-verdict';

// Every rule of the reference's parser (REFERENCE-SPEC §5.4), in the order it tries them.
describe("the reference's reading of a judge's reply", () => {
  it.each<[string, boolean, VerdictRule, string | undefined]>([
    // First word (after upper-casing, stripping, removing ANSWER: / RESPONSE:).
    ['CORRECT', true, 'first-word', 'CORRECT'],
    ['INCORRECT', false, 'first-word', 'INCORRECT'],
    ['correct', true, 'first-word', 'CORRECT'],
    ['  \n Incorrect \n', false, 'first-word', 'INCORRECT'],
    ['CORRECT but the spelling is off', true, 'first-word', 'CORRECT'],
    ['Answer: CORRECT', true, 'first-word', 'CORRECT'],
    ['RESPONSE: incorrect', false, 'first-word', 'INCORRECT'],
    // ANSWER: is removed wherever it is, as Python's str.replace does.
    ['CORRECTANSWER:', true, 'first-word', 'CORRECT'],
    // Then substrings: INCORRECT before CORRECT (it contains it).
    ['CORRECT.', true, 'substring', 'CORRECT'],
    ['Incorrect.', false, 'substring', 'INCORRECT'],
    ['The student answer is correct', true, 'substring', 'CORRECT'],
    ['The student answer is incorrect', false, 'substring', 'INCORRECT'],
    ['**INCORRECT**', false, 'substring', 'INCORRECT'],
    ['Correctly identified', true, 'substring', 'CORRECT'],
    // A quirk kept: the substring rule reads "not correct" as right.
    ['Not correct', true, 'substring', 'CORRECT'],
    // Then the negative regexes, before the positive ones.
    ['No', false, 'negative', '\\bNO\\b'],
    ['no.', false, 'negative', '\\bNO\\b'],
    ['Yes and no', false, 'negative', '\\bNO\\b'],
    ['False', false, 'negative', '\\bFALSE\\b'],
    ['Wrong answer', false, 'negative', '\\bWRONG\\b'],
    ['They differ', false, 'negative', '\\bDIFFER'],
    // \bDIFFER has no closing boundary: DIFFERENT matches.
    ['Different meanings', false, 'negative', '\\bDIFFER'],
    ['It does not match', false, 'negative', '\\bNOT\\s+MATCH'],
    ['NOT\n  MATCHING', false, 'negative', '\\bNOT\\s+MATCH'],
    // Then the positive ones.
    ['Yes', true, 'positive', '\\bYES\\b'],
    ['true', true, 'positive', '\\bTRUE\\b'],
    ['That is right', true, 'positive', '\\bRIGHT\\b'],
    ['Equivalent', true, 'positive', '\\bEQUIVALENT\\b'],
    ['They match', true, 'positive', '\\bMATCH(ES)?\\b'],
    ['It matches', true, 'positive', '\\bMATCH(ES)?\\b'],
    ['I agree', true, 'positive', '\\bAGREE'],
    ['Agreed', true, 'positive', '\\bAGREE'],
    // Word boundaries: NO inside NOTE or KNOW is not the word NO.
    ['Note: yes', true, 'positive', '\\bYES\\b'],
    ['I know', false, 'default', undefined],
    // MATCH(ES)?\b closes: MATCHED is not a match.
    ['Matched', false, 'default', undefined],
    // Python's \b is Unicode-aware: in ÉNO the letters run on, so NO is not a word and YES decides.
    ['ÉNO yes', true, 'positive', '\\bYES\\b'],
    // Nothing recognised, or nothing at all: wrong.
    ['Maybe', false, 'default', undefined],
    ['', false, 'default', undefined],
    ['ANSWER:', false, 'default', undefined],
  ])('%j -> correct %j by %s', (reply, correct, rule, match) => {
    expect(parseVerdict(reply)).toEqual(match === undefined ? { correct, rule } : { correct, rule, match });
  });

  it('describes the reply and the rule for the verdict detail', () => {
    expect(describeParse('Correct.', parseVerdict('Correct.'))).toBe('reply "Correct." (substring CORRECT)');
    expect(describeParse('hmm', parseVerdict('hmm'))).toBe('reply "hmm" (default)');
  });
});
