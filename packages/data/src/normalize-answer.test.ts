import { normalizeAnswer, PYTHON_PUNCTUATION } from './normalize-answer';
import { normalizedReferences } from './references';

describe('normalizeAnswer (the reference normalize_answer)', () => {
  it('matches Python 3 output, including Unicode word boundaries and whitespace', () => {
    // Expected values printed by the reference's Python function (Python 3.11, Unicode 14).
    const cases: [string, string][] = [
      ['The Beatles', 'beatles'],
      ['  A   Tale of Two Cities ', 'tale of two cities'],
      ['An apple a day', 'apple day'],
      ['Theatre, anthem & Athena', 'theatre anthem athena'],
      ['U.S.A.', 'usa'],
      ['rock\'n\'roll', 'rocknroll'],
      ['the_the', 'thethe'],
      ['an-the-a', 'anthea'],
      ['\u00c9the caf\u00e9 THE', '\u00e9the caf\u00e9'],
      ['na\u00efve a', 'na\u00efve'],
      ['\uff34\uff48\uff45 \uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48', '\uff54\uff48\uff45 \uff46\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48'],
      ['\u039f\u0394\u039f\u03a3', '\u03bf\u03b4\u03bf\u03c2'],
      ['\u0130stanbul', 'i\u0307stanbul'],
      ['tab\there\u00a0nbsp\u2003em\u001cfs\u0085nel\ufeffbom', 'tab here nbsp em fs nel\ufeffbom'],
      ['a\u0301 combining', '\u0301 combining'],
      ['2the 3 the4', '2the 3 the4'],
      ['\u201cCurly\u201d quotes \u2014 dash', '\u201ccurly\u201d quotes \u2014 dash'],
      ['The', ''],
      ['', ''],
      ['a.b.c', 'abc'],
      ['the the the', ''],
    ];
    for (const [input, expected] of cases) expect([input, normalizeAnswer(input)]).toEqual([input, expected]);
  });

  it('drops exactly the 32 characters of string.punctuation, nothing else', () => {
    expect(PYTHON_PUNCTUATION).toHaveLength(32);
    expect(normalizeAnswer(`x${PYTHON_PUNCTUATION}y`)).toBe('xy');
    // Non-ASCII punctuation survives, as in Python.
    expect(normalizeAnswer('¿qué? «sí» 1–2')).toBe('¿qué «sí» 1–2');
  });

  it('articles go only as whole words, and the result is idempotent', () => {
    expect(normalizeAnswer('Anathema at the theatre')).toBe('anathema at theatre');
    expect(normalizeAnswer('a')).toBe('');
    for (const s of ['The Who', 'A-ha', 'the the', 'An (American) tail']) expect(normalizeAnswer(normalizeAnswer(s))).toBe(normalizeAnswer(s));
  });
});

describe('normalizedReferences', () => {
  it('in order, normalised, deduplicated, without empty ones', () => {
    expect(normalizedReferences(['The Onion', 'Onion', 'onions', 'ONION!', 'the', 'Garden onion', 'onions'])).toEqual(['onion', 'onions', 'garden onion']);
  });

  it('an empty primary is left out; nothing usable gives []', () => {
    // TriviaQA validation has the answer "(a" (aliases "(a", ".a", "Static library", ...).
    expect(normalizedReferences(['(a', '(a', '.a', 'Static library'])).toEqual(['static library']);
    expect(normalizedReferences(['The', 'An', '?!'])).toEqual([]);
    expect(normalizedReferences([])).toEqual([]);
  });
});
