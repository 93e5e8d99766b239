import { Rng } from '@bayes-peft/core';
import { argmax, logProbAt, pickToken } from './sampling';
import { leftPad, truncateLeft, unpad } from './encode';

describe('sampling', () => {
  const logits = Float32Array.from([1, 3, 3, 0, -2]);

  it('greedy takes the first maximum', () => {
    expect(argmax(logits)).toBe(1);
    expect(pickToken(logits, 0, 1, new Rng(0))).toBe(1);
  });

  it('logProbAt is log softmax', () => {
    const z = Array.from(logits).reduce((s, x) => s + Math.exp(x), 0);
    expect(logProbAt(logits, 3)).toBeCloseTo(Math.log(1 / z), 10);
  });

  it('top-p keeps the smallest set of likely tokens that reaches p', () => {
    const rng = new Rng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(pickToken(logits, 1, 0.8, rng));
    // p(1) = p(2) ~ 0.46 each: the first two reach 0.8, the rest are cut.
    expect([...seen].sort()).toEqual([1, 2]);
    const tiny = new Set<number>();
    for (let i = 0; i < 50; i++) tiny.add(pickToken(logits, 1, 1e-6, rng));
    expect([...tiny]).toEqual([1]);
  });

  it('samples in proportion to softmax(logits / temperature)', () => {
    const rng = new Rng(2);
    const l = Float32Array.from([0, Math.log(3)]); // p = 1/4, 3/4
    let ones = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) ones += pickToken(l, 1, 1, rng);
    expect(ones / n).toBeGreaterThan(0.72);
    expect(ones / n).toBeLessThan(0.78);
    // A high temperature flattens it.
    let hot = 0;
    for (let i = 0; i < n; i++) hot += pickToken(l, 100, 1, rng);
    expect(hot / n).toBeLessThan(0.55);
  });
});

describe('batching', () => {
  it('truncates from the left, keeping the first token when asked', () => {
    expect(truncateLeft([1, 2, 3, 4, 5], 3, true)).toEqual([1, 4, 5]);
    expect(truncateLeft([1, 2, 3, 4, 5], 3, false)).toEqual([3, 4, 5]);
    expect(truncateLeft([1, 2], 3, true)).toEqual([1, 2]);
    expect(() => truncateLeft([1], 0, false)).toThrow('maxLength must be a positive integer');
  });

  it('pads on the left and unpads back', () => {
    const batch = leftPad([[5, 6, 7], [8]], 0);
    expect(batch).toEqual({ ids: [[5, 6, 7], [0, 0, 8]], mask: [[1, 1, 1], [0, 0, 1]] });
    expect(unpad(batch)).toEqual([[5, 6, 7], [8]]);
    expect(() => leftPad([], 0)).toThrow('zero rows');
  });
});
