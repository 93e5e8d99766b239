import { tf } from '@bayes-peft/tensor';
import { Rng } from '@bayes-peft/core';
import { setupTestBackend } from '@bayes-peft/testing-backbone';
import { detachGradient, gaussianNoise, randomSigns, standardNormal, randomSignBytes, randomSignValues } from './noise';

beforeAll(setupTestBackend);

describe('noise', () => {
  it('the Gaussian family is E = sigma ⊙ z with z ~ N(0, 1) from the rng: mean 0, variance sigma^2 (5-sigma bounds)', () => {
    const n = 200_000;
    const z = gaussianNoise.draw([n], new Rng(4));
    const E = gaussianNoise.perturbation(tf.fill([n], 0.3), z);
    const d = E.dataSync();
    let m = 0;
    let v = 0;
    for (const x of d) m += x;
    m /= n;
    for (const x of d) v += x * x;
    v /= n;
    expect(Math.abs(m)).toBeLessThan(5 * Math.sqrt(0.09 / n));
    expect(Math.abs(v - 0.09)).toBeLessThan(5 * 0.09 * Math.sqrt(2 / n));
    // the same seed path gives the same draw as standardNormal
    const again = standardNormal([n], new Rng(4));
    expect(Array.from(again.dataSync().slice(0, 5))).toEqual(Array.from(z.dataSync().slice(0, 5)));
    tf.dispose([z, E, again]);
  });

  it('detachGradient keeps the value and stops the gradient', () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.add(detachGradient(tf.square(v)), tf.mul(v, 0.5))) as tf.Scalar, [v]);
    expect(value.dataSync()[0]).toBeCloseTo(14 + 3, 5);
    expect(Array.from(grads[v.name].dataSync())).toEqual([0.5, 0.5, 0.5]);
    tf.dispose([value, grads[v.name]]);
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });

  it('draws balanced ±1 signs', () => {
    const s = randomSigns([100, 1000], new Rng(3));
    const d = Array.from(s.dataSync());
    expect(d.every((x) => x === 1 || x === -1)).toBe(true);
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(d.length));
    s.dispose();
  });

  it('maps each bit of the draws to a sign: bit 1 -> +1, bit 0 -> -1, 24 per draw, low bit first', () => {
    const reference = new Rng(7);
    const want: number[] = [];
    for (let i = 0; i < 50; i += 24) {
      let bits = reference.uint32() >>> 8;
      for (let k = 0; k < Math.min(24, 50 - i); k++, bits >>>= 1) want.push(bits & 1 ? 1 : -1);
    }
    const s = randomSigns([5, 10], new Rng(7));
    expect(Array.from(s.dataSync())).toEqual(want);
    s.dispose();
  });
});

describe('randomSignBytes', () => {
  it('gives the float signs of randomSigns as int8, consuming the same draws (any length)', () => {
    for (const n of [0, 1, 7, 8, 23, 24, 25, 48, 1000, 4099]) {
      const a = new Rng(42).child('signs');
      const b = new Rng(42).child('signs');
      expect(Array.from(randomSignBytes(n, a))).toEqual(Array.from(randomSignValues(n, b)));
      // The next draw agrees too: both consumed ceil(n / 24) words.
      expect(a.uint32()).toBe(b.uint32());
    }
  });

  it('is ±1 with frequency 1/2 within 5 sigma', () => {
    const n = 240_000;
    const s = randomSignBytes(n, new Rng(9));
    let plus = 0;
    let other = 0;
    for (const v of s) {
      if (v === 1) plus++;
      else if (v !== -1) other++;
    }
    expect(other).toBe(0);
    expect(Math.abs(plus - n / 2)).toBeLessThan(5 * Math.sqrt(n / 4));
  });
});
