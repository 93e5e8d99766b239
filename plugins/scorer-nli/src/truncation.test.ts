import { longestFirst } from './truncation';

describe("longest_first truncation of a pair (Hugging Face's fast tokenizers)", () => {
  it('keeps pairs that fit', () => {
    expect(longestFirst(3, 4, 7)).toEqual([3, 4]);
    expect(longestFirst(0, 0, 5)).toEqual([0, 0]);
  });

  it('cuts only the longer side when the shorter fits in half the budget', () => {
    expect(longestFirst(3, 100, 10)).toEqual([3, 7]);
    expect(longestFirst(100, 3, 10)).toEqual([7, 3]);
    expect(longestFirst(5, 100, 10)).toEqual([5, 5]);
    // A shorter side of more than half the budget is cut to half too (the fast tokenizers' rule).
    expect(longestFirst(6, 100, 10)).toEqual([5, 5]);
  });

  it('splits the budget when both are too long: the extra token of an odd budget to the longer side, or to the second when equal', () => {
    expect(longestFirst(50, 100, 10)).toEqual([5, 5]);
    expect(longestFirst(50, 100, 11)).toEqual([5, 6]);
    expect(longestFirst(100, 50, 11)).toEqual([6, 5]);
    expect(longestFirst(20, 20, 11)).toEqual([5, 6]);
  });

  it('never keeps more than the budget, and never more than a side has', () => {
    for (let a = 0; a <= 12; a++) {
      for (let b = 0; b <= 12; b++) {
        for (let budget = 1; budget <= 14; budget++) {
          const [x, y] = longestFirst(a, b, budget);
          expect(x).toBeLessThanOrEqual(a);
          expect(y).toBeLessThanOrEqual(b);
          expect(x + y).toBe(Math.min(a + b, budget));
        }
      }
    }
  });
});
