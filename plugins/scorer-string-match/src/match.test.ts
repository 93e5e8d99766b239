import { containmentMatch, tokenF1 } from './match';

describe("the reference's containment rule on normalised strings", () => {
  it.each([
    // reference, candidate, expected
    ['paris', 'paris', 'equal'],
    ['paris', 'it is paris', 'reference in candidate'],
    ['paris', 'paris france', 'reference in candidate'],
    ['george washington', 'george', 'candidate in reference'],
    // len(candidate) > 3: 'york' (4) may be inside the reference, 'new' (3) may not.
    ['new york city', 'york', 'candidate in reference'],
    ['new york city', 'new', null],
    ['cat', 'ca', null],
    // Equality needs no length: a 2-letter answer equal to its reference matches.
    ['ox', 'ox', 'equal'],
    // Substrings, not words, as in the reference.
    ['cat', 'concatenate', 'reference in candidate'],
    ['paris', 'london', null],
    ['paris', '', null],
    // An empty reference never matches (the reference: always).
    ['', 'anything at all', null],
    ['', '', null],
  ])('reference %j, candidate %j -> %j', (reference, candidate, expected) => {
    expect(containmentMatch(reference, candidate)).toBe(expected);
  });

  it("counts the candidate's length in code points, as Python's len", () => {
    // 'ab\u{1F600}' is 4 UTF-16 units but 3 code points: not longer than 3.
    expect(containmentMatch('xab\u{1F600}y', 'ab\u{1F600}')).toBeNull();
    expect(containmentMatch('xabc\u{1F600}y', 'abc\u{1F600}')).toBe('candidate in reference');
  });
});

describe("SQuAD's token F1", () => {
  it('is 2PR / (P + R) over tokens counted with multiplicity', () => {
    // 'obama' against 'barack obama': P = 1/1, R = 1/2 -> 2/3.
    expect(tokenF1('barack obama', 'obama')).toBeCloseTo(2 / 3, 12);
    // 'b b d' against 'a b c': one 'b' in common (the reference has one) -> P = R = 1/3 -> 1/3.
    expect(tokenF1('a b c', 'b b d')).toBeCloseTo(1 / 3, 12);
    // 'washington carver george' against 'george washington': P = 2/3, R = 1 -> 0.8.
    expect(tokenF1('george washington', 'washington carver george')).toBeCloseTo(0.8, 12);
    expect(tokenF1('paris', 'paris')).toBe(1);
    expect(tokenF1('paris', 'london')).toBe(0);
  });

  it('is 0 when either side is empty', () => {
    expect(tokenF1('', 'paris')).toBe(0);
    expect(tokenF1('paris', '')).toBe(0);
    expect(tokenF1('', '')).toBe(0);
  });
});
