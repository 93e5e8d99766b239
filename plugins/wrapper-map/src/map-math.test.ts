import { tf } from '@bayes-peft/tensor';
import { setupTestBackend } from '@bayes-peft/testing-backbone';
import { decoupledDecayFactor, gaussianPriorPenalty } from './map-math';

beforeAll(setupTestBackend);

describe('gaussianPriorPenalty', () => {
  it('is sum(theta^2) / (2 sigma^2 N) with gradient theta / (sigma^2 N), computed by hand', () => {
    const a = tf.tensor2d([
      [1, -2],
      [0.5, 3],
    ]);
    const b = tf.tensor1d([-1, 4]);
    const before = tf.memory().numTensors;
    // sum of squares = 1 + 4 + 0.25 + 9 + 1 + 16 = 31.25; sigma 0.5, N 10 -> 31.25 / (2 * 0.25 * 10) = 6.25
    const v = gaussianPriorPenalty([a, b], 0.5, 10);
    expect(v.dataSync()[0]).toBeCloseTo(6.25, 5);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => gaussianPriorPenalty([x, y], 0.5, 10))([a, b]);
    // d/dtheta = theta / (0.25 * 10) = 0.4 theta
    Array.from(ga.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(0.4 * [1, -2, 0.5, 3][i], 6));
    Array.from(gb.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(0.4 * [-1, 4][i], 6));
    tf.dispose([v, ga, gb]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it('refuses a non-positive std or N', () => {
    const a = tf.ones([2]);
    expect(() => gaussianPriorPenalty([a], 0, 10)).toThrow(/priorStd must be > 0/);
    expect(() => gaussianPriorPenalty([a], 1, 0)).toThrow(/N > 0/);
    a.dispose();
  });

  it('decoupledDecayFactor is 1 - lr wd', () => {
    expect(decoupledDecayFactor(0.1, 0.5)).toBeCloseTo(0.95, 15);
    expect(decoupledDecayFactor(1e-4, 1e-5)).toBe(1 - 1e-9);
  });
});
