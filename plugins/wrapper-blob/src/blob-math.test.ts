import { tf } from '@bayes-peft/tensor';
import { Rng } from '@bayes-peft/core';
import { setupTestBackend } from '@bayes-peft/testing-backbone';
import {
  KL_GUARD,
  gaussianKl,
  gaussianKlElement,
  gaussianKlLayer,
  initRho,
  klCycleLength,
  klWeight,
  rhoInitRange,
  sigmaFromRho,
  sigmaOf,
} from './blob-math';

beforeAll(setupTestBackend);

describe('sigma parameterisation and rho init', () => {
  it('sigma = rho^2 for eps >= 0, softplus(rho) for eps < 0', () => {
    const rho = tf.tensor1d([0.05, -0.5, 0]);
    expect(Array.from(sigmaFromRho(rho, 0.05).dataSync())).toEqual([0.05 * 0.05, 0.25, 0].map((x) => expect.closeTo(x, 8)));
    expect(Array.from(sigmaFromRho(rho, -1).dataSync())).toEqual([Math.log1p(Math.exp(0.05)), Math.log1p(Math.exp(-0.5)), Math.LN2].map((x) => expect.closeTo(x, 6)));
    expect(sigmaOf(0, -1)).toBeCloseTo(Math.LN2, 12);
    rho.dispose();
  });

  it('draws rho uniformly on [eps/sqrt2, eps] (sigma in [eps^2/2, eps^2]) or [eps-1, eps]', () => {
    expect(rhoInitRange(0.05)).toEqual([0.05 / Math.SQRT2, 0.05]);
    expect(rhoInitRange(-2)).toEqual([-3, -2]);
    const rho = initRho(8, 500, 0.05, new Rng(1));
    const sig = Array.from(rho, (r) => sigmaOf(r, 0.05));
    expect(Math.min(...sig)).toBeGreaterThanOrEqual(0.00125 * (1 - 1e-6));
    expect(Math.max(...sig)).toBeLessThanOrEqual(0.0025 * (1 + 1e-6));
    const mean = rho.reduce((a, b) => a + b, 0) / rho.length;
    const mid = (0.05 / Math.SQRT2 + 0.05) / 2;
    const sd = (0.05 - 0.05 / Math.SQRT2) / Math.sqrt(12) / Math.sqrt(rho.length);
    expect(Math.abs(mean - mid)).toBeLessThan(5 * sd);
    const neg = initRho(4, 100, -0.5, new Rng(2));
    expect(Math.min(...neg)).toBeGreaterThanOrEqual(-1.5);
    expect(Math.max(...neg)).toBeLessThanOrEqual(-0.5);
  });
});

describe('Gaussian KL (with the reference guards)', () => {
  it('matches a hand computation', () => {
    // beta = 0.2, guard 1e-6:
    // (M 0.1, sigma 0.05): log 0.200001 - log 0.050001 = 1.3862794; (0.0025 + 0.01) / 0.080001 = 0.1562480;
    //                      1.3862794 + 0.1562480 - 0.5 = 1.0425274
    // (M -0.2, sigma 0.3): log 0.200001 - log 0.300001 = -0.4054634; (0.09 + 0.04) / 0.080001 = 1.6249797;
    //                      -0.4054634 + 1.6249797 - 0.5 = 0.7195163
    expect(gaussianKlElement(0.1, 0.05, 0.2)).toBeCloseTo(1.0425274, 6);
    expect(gaussianKlElement(-0.2, 0.3, 0.2)).toBeCloseTo(0.7195163, 6);
    // summed over all elements of every layer
    const layers = [
      { mean: tf.tensor2d([[0.1]]), sigma: tf.tensor2d([[0.05]]) },
      { mean: tf.tensor2d([[-0.2, 0.1]]), sigma: tf.tensor2d([[0.3, 0.05]]) },
    ];
    const kl = gaussianKl(layers, 0.2);
    expect(kl.dataSync()[0]).toBeCloseTo(2 * 1.0425274 + 0.7195163, 5);
    tf.dispose([kl, ...layers.flatMap((l) => [l.mean, l.sigma])]);
  });

  it('is minimal, and 0 up to the guards, at sigma = beta and M = 0', () => {
    const beta = 0.2;
    const n = 4 * 64;
    const at = (m: number, s: number) =>
      tf.tidy(() => gaussianKlLayer(tf.fill([4, 64], m), tf.fill([4, 64], s), beta).dataSync()[0]);
    const min = at(0, beta);
    // per element: beta^2 / (2 beta^2 + 1e-6) - 1/2 = -1e-6 / (4 (2 beta^2 + 1e-6)) = -6.2499e-6
    const perElement = (beta * beta) / (2 * beta * beta + KL_GUARD) - 0.5;
    expect(perElement).toBeCloseTo(-6.25e-6, 9);
    // float32 (the reference uses float64): each element carries up to one ulp of 0.5 (6e-8) of rounding
    expect(Math.abs(min - n * perElement)).toBeLessThan(n * 6e-8);
    expect(Math.abs(min)).toBeLessThan(1e-5 * n);
    for (const [m, s] of [[0.01, beta], [0, beta * 1.1], [0, beta * 0.9], [-0.05, beta * 1.5]]) {
      expect(at(m, s)).toBeGreaterThan(min);
    }
  });

  it('has the closed-form gradients dKL/dM = 2M/(2b^2+1e-6) and dKL/dsigma = -1/(sigma+1e-6) + 2sigma/(2b^2+1e-6)', () => {
    const beta = 0.2;
    const M = tf.tensor2d([[0.3, -0.1]]);
    const S = tf.tensor2d([[0.05, 0.4]]);
    const [gM, gS] = tf.grads((m: tf.Tensor, s: tf.Tensor) => gaussianKlLayer(m, s, beta))([M, S]);
    const d = 2 * beta * beta + KL_GUARD;
    expect(Array.from(gM.dataSync())).toEqual([0.6 / d, -0.2 / d].map((x) => expect.closeTo(x, 4)));
    expect(Array.from(gS.dataSync())).toEqual([0.05, 0.4].map((s) => expect.closeTo(-1 / (s + KL_GUARD) + (2 * s) / d, 3)));
    tf.dispose([M, S, gM, gS]);
  });
});

describe('KL weight pi and cycle length M', () => {
  it('M = int(100 N^(pi/gamma) / processes / batch) with dataset rescaling, else the steps per epoch', () => {
    // winogrande_s: N 640, batch 4, gamma 8: 640^(pi/8) = 12.6469 -> 100 * 12.6469 / 4 = 316.17 -> 316
    const base = { numTrainExamples: 640, batchSize: 4, gamma: 8, stepsPerEpoch: 160 };
    expect(klCycleLength({ ...base, datasetRescaling: true })).toBe(316);
    expect(klCycleLength({ ...base, datasetRescaling: true, numProcesses: 2 })).toBe(158);
    expect(klCycleLength({ ...base, datasetRescaling: false })).toBe(160);
    expect(() => klCycleLength({ ...base, datasetRescaling: false, stepsPerEpoch: 0 })).toThrow(/must be >= 1/);
  });

  it('pi = 1/M, or 2^j / (2^(M+1) - 1) with j = i mod M (j := M at 0) when reweighting', () => {
    expect(klWeight(1, 316, false)).toBe(1 / 316);
    expect(klWeight(99, 316, false)).toBe(1 / 316);
    // M = 3: 2^(M+1) - 1 = 15; i = 1, 2, 3, 4 -> j = 1, 2, 3 (0 -> M), 1
    expect([1, 2, 3, 4].map((i) => klWeight(i, 3, true))).toEqual([2 / 15, 4 / 15, 8 / 15, 2 / 15].map((x) => expect.closeTo(x, 15)));
    // a cycle sums to (2^(M+1) - 2) / (2^(M+1) - 1)
    const M = 10;
    let sum = 0;
    for (let i = 1; i <= M; i++) sum += klWeight(i, M, true);
    expect(sum).toBeCloseTo((2 ** (M + 1) - 2) / (2 ** (M + 1) - 1), 14);
    // M = 316: negligible except at the end of the cycle, ~1/2 at j = M
    expect(klWeight(316, 316, true)).toBeCloseTo(0.5, 12);
    expect(klWeight(1, 316, true)).toBeCloseTo(2 ** -316, 100);
    // large M: exact 0 (as the reference's big-int ratio underflows) rather than NaN
    expect(klWeight(1, 2000, true)).toBe(0);
    expect(klWeight(2000, 2000, true)).toBe(0.5);
  });
});
