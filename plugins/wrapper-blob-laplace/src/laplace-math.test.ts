import { tf } from '@bayes-peft/tensor';
import { Rng } from '@bayes-peft/core';
import { gaussianKlElement } from '@bayes-peft/bayes-lora';
import { setupTestBackend } from '@bayes-peft/testing-backbone';
import { laplaceKl, laplaceKlElement, laplaceKlLayer, laplaceNoise, laplaceScale, standardLaplace } from './laplace-math';

beforeAll(setupTestBackend);

/** Sample moments of a flat array. */
function moments(d: ArrayLike<number>): { mean: number; meanSq: number; meanAbs: number } {
  let s = 0;
  let s2 = 0;
  let sa = 0;
  for (let i = 0; i < d.length; i++) {
    s += d[i];
    s2 += d[i] * d[i];
    sa += Math.abs(d[i]);
  }
  return { mean: s / d.length, meanSq: s2 / d.length, meanAbs: sa / d.length };
}

describe('Laplace noise', () => {
  it.each([
    [0.05, 1, 11],
    [0.3, 1, 12],
    [0.2, 2.5, 13],
  ])('E = b z with b = sigma f / sqrt 2 (sigma %f, factor %f): mean 0, variance 2 b^2, E|E| = b (5-sigma bounds, seed %i)', (sigma, factor, seed) => {
    const n = 200_000;
    const noise = laplaceNoise(factor);
    const E = tf.tidy(() => noise.perturbation(tf.fill([n], sigma), noise.draw([n], new Rng(seed))));
    const d = E.dataSync();
    E.dispose();
    expect(d.every(Number.isFinite)).toBe(true);
    const b = (sigma * factor) / Math.SQRT2;
    const { mean, meanSq, meanAbs } = moments(d);
    // Laplace(0, b): Var = 2 b^2, E X^4 = 24 b^4 so Var X^2 = 20 b^4; E|X| = b, Var |X| = b^2
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt((2 * b * b) / n));
    expect(Math.abs(meanSq - 2 * b * b)).toBeLessThan(5 * Math.sqrt((20 * b ** 4) / n));
    expect(Math.abs(meanAbs - b)).toBeLessThan(5 * Math.sqrt((b * b) / n));
    // 2 b^2 = (factor sigma)^2: BLoB's variance at factor 1
    expect(2 * b * b).toBeCloseTo((factor * sigma) ** 2, 12);
    // not Gaussian: a Gaussian of that variance would have E|X| = sqrt(2/pi) sqrt(2) b = 1.128 b
    expect(Math.abs(meanAbs - Math.sqrt(2 / Math.PI) * Math.SQRT2 * b)).toBeGreaterThan(10 * Math.sqrt((b * b) / n));
  });

  it('is seeded by the rng (same seed, same draw) and stays finite in the tails', () => {
    const a = standardLaplace([1000], new Rng(3).child('x'));
    const b = standardLaplace([1000], new Rng(3).child('x'));
    const c = standardLaplace([1000], new Rng(4).child('x'));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    const big = standardLaplace([300_000], new Rng(5));
    let worst = 0;
    for (const x of big.dataSync()) worst = Number.isFinite(x) ? Math.max(worst, Math.abs(x)) : Infinity;
    expect(worst).toBeLessThanOrEqual(24 * Math.LN2 + 1e-4);
    tf.dispose([a, b, c, big]);
  });

  it('is reparameterised (dE/dsigma = f z / sqrt 2), and carries no gradient to sigma when detached (the reference)', () => {
    const sigma = tf.variable(tf.tensor2d([[0.1, 0.2, 0.3]]));
    const z = standardLaplace([1, 3], new Rng(8));
    const zs = Array.from(z.dataSync());
    for (const [detach, want] of [
      [false, zs.map((v) => (2 * v) / Math.SQRT2)],
      [true, [0, 0, 0]],
    ] as const) {
      const noise = laplaceNoise(2, detach);
      const { value, grads } = tf.variableGrads(() => tf.sum(noise.perturbation(sigma, z)) as tf.Scalar, [sigma]);
      Array.from(grads[sigma.name].dataSync()).forEach((g, i) => expect(g).toBeCloseTo(want[i], 5));
      // the value is the same either way
      expect(value.dataSync()[0]).toBeCloseTo([0.1, 0.2, 0.3].reduce((acc, s, i) => acc + ((s * 2) / Math.SQRT2) * zs[i], 0), 5);
      tf.dispose([value, grads[sigma.name]]);
    }
    tf.dispose([sigma, z]);
  });
});

describe('KL(Laplace(M, b) || N(0, beta^2))', () => {
  /** log q(A) - log p(A) averaged over n draws A ~ Laplace(M, b), in float64 on the host, with its standard error. */
  function monteCarloKl(M: number, b: number, beta: number, n: number, rng: Rng): { kl: number; se: number } {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next() - 0.5;
      const a = M - b * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
      const logQ = -Math.log(2 * b) - Math.abs(a - M) / b;
      const logP = -Math.log(beta * Math.sqrt(2 * Math.PI)) - (a * a) / (2 * beta * beta);
      const v = logQ - logP;
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    return { kl: mean, se: Math.sqrt((s2 / n - mean * mean) / n) };
  }

  it.each([
    [0, 0.1, 0.2],
    [0.3, 0.05, 0.2],
    [-0.2, 0.4, 0.15],
    [0.01, 0.0018, 0.2], // BLoB's initial scale: sigma ~ eps^2 = 0.0025
  ])('the closed form agrees with a Monte Carlo estimate (M %f, b %f, beta %f) within 5 standard errors', (M, b, beta) => {
    const { kl, se } = monteCarloKl(M, b, beta, 200_000, new Rng(21).child(`${M}/${b}`));
    const closed = laplaceKlElement(M, b, beta);
    // the 1e-6 guard in log(2b + 1e-6) shifts the closed form by at most 1e-6 / (2b)
    expect(Math.abs(closed - kl)).toBeLessThan(5 * se + 1e-6 / (2 * b));
  });

  it('the tensor version sums the elementwise closed form over elements and layers (b = sigma f / sqrt 2)', () => {
    const beta = 0.2;
    const factor = 1.5;
    const layers = [
      { mean: tf.tensor2d([[0.1, -0.3]]), sigma: tf.tensor2d([[0.05, 0.2]]) },
      { mean: tf.tensor2d([[0.02]]), sigma: tf.tensor2d([[0.4]]) },
    ];
    const want = [
      [0.1, 0.05],
      [-0.3, 0.2],
      [0.02, 0.4],
    ].reduce((acc, [m, s]) => acc + laplaceKlElement(m, (s * factor) / Math.SQRT2, beta), 0);
    const kl = laplaceKl(layers, beta, factor);
    expect(kl.dataSync()[0]).toBeCloseTo(want, 4);
    tf.dispose([kl, ...layers.flatMap((l) => [l.mean, l.sigma])]);
  });

  it('at factor 1 exceeds the Gaussian KL of the same variance by (log pi - 1) / 2 per element', () => {
    for (const [M, sigma] of [
      [0, 0.1],
      [0.2, 0.05],
    ]) {
      const diff = laplaceKlElement(M, sigma / Math.SQRT2, 0.2) - gaussianKlElement(M, sigma, 0.2);
      expect(diff).toBeCloseTo((Math.log(Math.PI) - 1) / 2, 3);
    }
  });

  it('has the closed-form gradient dKL/dsigma = (f / sqrt 2) (-2 / (2b + 1e-6) + 2b / beta^2), dKL/dM = M / beta^2', () => {
    const beta = 0.2;
    const factor = 1;
    const M = tf.tensor2d([[0.3, -0.1]]);
    const S = tf.tensor2d([[0.05, 0.4]]);
    const [gM, gS] = tf.grads((m: tf.Tensor, s: tf.Tensor) => laplaceKlLayer(m, s, beta, factor))([M, S]);
    expect(Array.from(gM.dataSync())).toEqual([0.3, -0.1].map((m) => expect.closeTo(m / (beta * beta), 4)));
    const k = factor / Math.SQRT2;
    expect(Array.from(gS.dataSync())).toEqual([0.05, 0.4].map((s) => expect.closeTo(k * (-2 / (2 * k * s + 1e-6) + (2 * k * s) / (beta * beta)), 3)));
    expect(laplaceScale(tf.scalar(1), 2).dataSync()[0]).toBeCloseTo(Math.SQRT2, 6);
    tf.dispose([M, S, gM, gS]);
  });
});
