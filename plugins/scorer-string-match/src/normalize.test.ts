import { normalizeReferenceStyle, normalizeSquad } from './normalize';

describe('normalisations', () => {
  it.each([
    // input, 'reference', 'squad'
    ['The Beatles', 'beatles', 'beatles'],
    ['  Paris.  ', 'paris', 'paris'],
    ['Gone with the Wind', 'gone with wind', 'gone with wind'],
    ['U.S.A.', 'usa', 'usa'],
    ['rock_and_roll', 'rockandroll', 'rockandroll'],
    ['- Paris', 'paris', 'paris'],
    // Non-ASCII punctuation: only the reference's [^\w\s] deletes it.
    ['\u201cParis\u201d', 'paris', '\u201cparis\u201d'],
    ['\u00ab Paris \u00bb', 'paris', '\u00ab paris \u00bb'],
    ['\u00bfQu\u00e9?', 'qu\u00e9', '\u00bfqu\u00e9'],
    ['Rock \u2014 Roll', 'rock roll', 'rock \u2014 roll'],
    // A combining accent is not a word character in Python: the reference drops it, SQuAD keeps it.
    ['Cafe\u0301', 'cafe', 'cafe\u0301'],
    ['Caf\u00e9', 'caf\u00e9', 'caf\u00e9'],
    ['\u039f\u0394\u039f\u03a3 42', '\u03bf\u03b4\u03bf\u03c2 42', '\u03bf\u03b4\u03bf\u03c2 42'],
    ['The', '', ''],
    ['', '', ''],
  ])('%j -> reference %j, squad %j', (input, reference, squad) => {
    expect(normalizeReferenceStyle(input)).toBe(reference);
    expect(normalizeSquad(input)).toBe(squad);
  });

  it('both are idempotent, so references a dataset already normalised are unchanged', () => {
    for (const s of ['gone with wind', 'beatles', 'new york city', '\u201cparis\u201d']) {
      expect(normalizeReferenceStyle(normalizeReferenceStyle(s))).toBe(normalizeReferenceStyle(s));
      expect(normalizeSquad(normalizeSquad(s))).toBe(normalizeSquad(s));
    }
  });
});
