import { bidirectionalVerdict } from './verdict';

const label = { index: 2, name: 'ENTAILMENT' };
const ref = (reference: string, forward: number, backward: number) => ({ reference, forward, backward });

describe("the reference's mutual entailment verdict", () => {
  it('is right when both directions reach the threshold; confidence is their mean', () => {
    expect(bidirectionalVerdict([ref('paris', 0.8, 0.6)], 0.5, label)).toEqual({
      correct: true,
      confidence: 0.7,
      detail: "forward 0.8000, backward 0.6000 with 'paris' (entailment = label 2 ENTAILMENT, threshold 0.5)",
    });
    // Exactly at the threshold counts (the reference: p >= threshold).
    expect(bidirectionalVerdict([ref('paris', 0.5, 0.5)], 0.5, label).correct).toBe(true);
  });

  it('one direction alone is not enough, however strong', () => {
    // A longer answer entails the reference but not the reverse: 'Paris, France' vs 'paris'.
    const v = bidirectionalVerdict([ref('paris', 0.99, 0.3)], 0.5, label);
    expect(v.correct).toBe(false);
    expect(v.confidence).toBeCloseTo(0.645, 12);
  });

  it('honours the threshold option', () => {
    expect(bidirectionalVerdict([ref('paris', 0.8, 0.6)], 0.7, label).correct).toBe(false);
    expect(bidirectionalVerdict([ref('paris', 0.2, 0.3)], 0.1, label).correct).toBe(true);
  });

  it('with aliases the best one counts: a passing alias over a higher mean that fails, else the highest mean', () => {
    const v = bidirectionalVerdict([ref('bard of avon', 0.95, 0.2), ref('shakespeare', 0.55, 0.6), ref('william shakespeare', 0.52, 0.51)], 0.5, label);
    expect(v.correct).toBe(true);
    expect(v.confidence).toBeCloseTo(0.575, 12);
    expect(v.detail).toBe("forward 0.5500, backward 0.6000 with 'shakespeare' (entailment = label 2 ENTAILMENT, threshold 0.5, best of 3 references)");
    const none = bidirectionalVerdict([ref('a', 0.1, 0.2), ref('b', 0.9, 0.3)], 0.5, label);
    expect(none.correct).toBe(false);
    expect(none.confidence).toBeCloseTo(0.6, 12);
    expect(none.detail).toContain("with 'b'");
  });

  it('with no reference it is wrong with confidence 0', () => {
    expect(bidirectionalVerdict([], 0.5, label)).toEqual({ correct: false, confidence: 0, detail: 'no reference to compare with' });
  });
});
