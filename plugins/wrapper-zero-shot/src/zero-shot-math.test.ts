import { tf } from '@bayes-peft/tensor';
import { Rng } from '@bayes-peft/core';
import { setupTestBackend } from '@bayes-peft/testing-backbone';
import { drawNoise, drawSiteNoise, expectedDeltaNormSquared, noiseVariance, weightDelta, type NoiseSpec, type SiteNoise } from './zero-shot-math';

beforeAll(setupTestBackend);

const N = 200_000;

function draw(kind: NoiseSpec['kind'], sigma: number, seed: number): Float32Array {
  const t = drawNoise([N / 100, 100], { kind, sigma }, new Rng(seed));
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

const mean = (v: ArrayLike<number>, f: (x: number) => number = (x) => x) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += f(v[i]);
  return s / v.length;
};

describe('noise of scale sigma (seeded, statistical checks over 200k draws)', () => {
  const sigma = 0.05;

  it('gaussian: mean 0, std sigma', () => {
    const v = draw('gaussian', sigma, 11);
    expect(Math.abs(mean(v))).toBeLessThan((5 * sigma) / Math.sqrt(N));
    // the sample variance's standard error is sqrt(2 / N) sigma^2 (0.3%): 2% is > 6 standard errors
    expect(Math.abs(mean(v, (x) => x * x) / sigma ** 2 - 1)).toBeLessThan(0.02);
  });

  it('laplace: Laplace(0, b = sigma): mean |x| = sigma, std sqrt(2) sigma (the reference does not variance-match)', () => {
    const v = draw('laplace', sigma, 12);
    expect(Math.abs(mean(v))).toBeLessThan((5 * Math.SQRT2 * sigma) / Math.sqrt(N));
    // |x| ~ Exp(mean sigma): standard error sigma / sqrt(N) (0.2%)
    expect(Math.abs(mean(v, Math.abs) / sigma - 1)).toBeLessThan(0.015);
    // E x^2 = 2 sigma^2, standard error sqrt(20 / N) sigma^2 (0.5% of 2 sigma^2)
    expect(Math.abs(mean(v, (x) => x * x) / (2 * sigma ** 2) - 1)).toBeLessThan(0.03);
    // P(|x| > t) = exp(-t / sigma): the tails are Laplace's, not a Gaussian's
    expect(Math.abs(mean(v, (x) => (Math.abs(x) > 3 * sigma ? 1 : 0)) - Math.exp(-3))).toBeLessThan(5 * Math.sqrt(Math.exp(-3) / N));
    expect(noiseVariance({ kind: 'laplace', sigma })).toBeCloseTo(2 * sigma ** 2, 15);
  });

  it('repeats under one stream and differs between streams', () => {
    const a = drawNoise([3, 4], { kind: 'laplace', sigma: 1 }, new Rng(5, 'x'));
    const b = drawNoise([3, 4], { kind: 'laplace', sigma: 1 }, new Rng(5, 'x'));
    const c = drawNoise([3, 4], { kind: 'laplace', sigma: 1 }, new Rng(5, 'y'));
    expect(a.arraySync()).toEqual(b.arraySync());
    expect(a.arraySync()).not.toEqual(c.arraySync());
    tf.dispose([a, b, c]);
  });
});

describe('the weight update delta W = s (B A - B0 A0) of one weight sample', () => {
  const [r, inF, outF] = [8, 1024, 16];
  const scaling = 2; // alpha 16 / r 8
  // A0 as the LoRA initialises it: kaiming-uniform U(-1/sqrt(in), 1/sqrt(in)); B0 = 0.
  const a0Rng = new Rng(3);
  const a0 = Float32Array.from({ length: r * inF }, () => (2 * a0Rng.next() - 1) / Math.sqrt(inF));
  const a0NormSquared = a0.reduce((s, x) => s + x * x, 0);
  const SAMPLES = 200;

  /** Mean of ||delta W||_F^2 and of ||delta W||_F over SAMPLES weight samples. */
  function deltaNorms(spec: NoiseSpec): { meanSquare: number; meanNorm: number } {
    const A0 = tf.tensor2d(a0, [r, inF]);
    const B0 = tf.zeros([outF, r]) as tf.Tensor2D;
    let sq = 0;
    let norm = 0;
    for (let s = 0; s < SAMPLES; s++) {
      const n2 = tf.tidy(() => {
        const noise: SiteNoise = drawSiteNoise(r, inF, outF, spec, new Rng(17).child(`sample-${s}`));
        return tf.sum(tf.square(weightDelta(A0, B0, noise, scaling))).dataSync()[0];
      });
      sq += n2;
      norm += Math.sqrt(n2);
    }
    tf.dispose([A0, B0]);
    return { meanSquare: sq / SAMPLES, meanNorm: norm / SAMPLES };
  }

  it('kaiming A0 has ||A0||_F^2 ≈ r / 3', () => {
    expect(a0NormSquared / (r / 3)).toBeCloseTo(1, 1);
  });

  it("perturb 'b' is first order: E||dW||^2 = s^2 sigma^2 out ||A0||^2, and halving sigma halves ||dW||", () => {
    const spec: NoiseSpec = { kind: 'gaussian', sigma: 0.2, perturb: 'b' };
    const full = deltaNorms(spec);
    const half = deltaNorms({ ...spec, sigma: 0.1 });
    // one sample's ||dW||^2 / E is about chi^2_128 / 128 (relative sd 0.125): 200 samples, 1% standard error
    expect(full.meanSquare / expectedDeltaNormSquared(a0NormSquared, r, inF, outF, scaling, spec)).toBeGreaterThan(0.95);
    expect(full.meanSquare / expectedDeltaNormSquared(a0NormSquared, r, inF, outF, scaling, spec)).toBeLessThan(1.05);
    // the same streams at half the scale: exactly half, draw for draw (E_B is linear in sigma)
    expect(full.meanNorm / half.meanNorm).toBeCloseTo(2, 4);
  });

  it("perturb 'a-and-b' (the reference) is second order once in sigma^2 >> 1/3: halving sigma quarters ||dW||, on average", () => {
    const spec: NoiseSpec = { kind: 'gaussian', sigma: 0.2, perturb: 'a-and-b' };
    const full = deltaNorms(spec);
    const half = deltaNorms({ ...spec, sigma: 0.1 });
    const expected = expectedDeltaNormSquared(a0NormSquared, r, inF, outF, scaling, spec);
    // hand-computed: s^2 sigma^2 out (||A0||^2 + r in sigma^2) = 4 * 0.04 * 16 * (2.67 + 327.7) ≈ 846
    expect(expected).toBeGreaterThan(840);
    expect(expected).toBeLessThan(850);
    expect(full.meanSquare / expected).toBeGreaterThan(0.95);
    expect(full.meanSquare / expected).toBeLessThan(1.05);
    // the same streams at half the scale: the first-order part s E_B A0 (0.8% of the total here) keeps it a hair below 4
    const ratio = full.meanNorm / half.meanNorm;
    expect(ratio).toBeGreaterThan(3.9);
    expect(ratio).toBeLessThanOrEqual(4 + 1e-3);
    // and the mean squares follow the formula's ratio 4 (||A0||^2 + r in sigma^2) / (||A0||^2 + r in sigma^2 / 4)
    const formula = (4 * (a0NormSquared + r * inF * 0.04)) / (a0NormSquared + r * inF * 0.01);
    expect(Math.abs(full.meanSquare / half.meanSquare / formula - 1)).toBeLessThan(0.02);
  });

  it('with a small fan-in the same noise is mostly first order (in sigma^2 << 1/3): the update depends on the kaiming init', () => {
    const spec: NoiseSpec = { kind: 'gaussian', sigma: 0.05, perturb: 'a-and-b' };
    const inSmall = 16;
    // E||dW||^2 of a-and-b over that of b: 1 + r in sigma^2 / ||A0||^2 = 1 + 8 * 16 * 0.0025 / (8 / 3) = 1.12
    const ab = expectedDeltaNormSquared(8 / 3, r, inSmall, outF, scaling, spec);
    const b = expectedDeltaNormSquared(8 / 3, r, inSmall, outF, scaling, { ...spec, perturb: 'b' });
    expect(ab / b).toBeCloseTo(1.12, 10);
    // at a Llama width (in 4096) the second-order part dominates: 1 + 8 * 4096 * 0.0025 / (8 / 3) = 31.72
    expect(expectedDeltaNormSquared(8 / 3, r, 4096, outF, scaling, spec) / expectedDeltaNormSquared(8 / 3, r, 4096, outF, scaling, { ...spec, perturb: 'b' })).toBeCloseTo(31.72, 10);
  });
});
