import { tf } from '@bayes-peft/tensor';
import { Rng } from '@bayes-peft/core';
import { setupTestBackend } from '@bayes-peft/testing-backbone';
import { initRho, rhoInitRange, rhoOf, sigmaFromRho, sigmaOf } from './sigma';

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

  it('inverts sigma(rho) with rhoOf, and refuses sigma = 0 under softplus (defect 14: rho = -inf)', () => {
    for (const sigma of [0, 1e-6, 0.0025, 0.3, 4]) expect(sigmaOf(rhoOf(sigma, 0.05), 0.05)).toBeCloseTo(sigma, 12);
    for (const sigma of [1e-6, 0.0025, 0.3, 4]) expect(sigmaOf(rhoOf(sigma, -1), -1) / sigma).toBeCloseTo(1, 9);
    expect(() => rhoOf(0, -1)).toThrow(/no finite rho/);
    expect(() => rhoOf(-1, 0.05)).toThrow(/>= 0/);
    expect(() => rhoOf(Infinity, 0.05)).toThrow(/finite/);
  });
});
