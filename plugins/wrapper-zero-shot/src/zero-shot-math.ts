/**
 * Zero-shot Bayesian evaluation (docs/methods.md, 'Zero-shot Bayesian evaluation'; the
 * reference's run_bayesian_zeroshot_qa.py), the maths. An UNTRAINED LoRA (A0 kaiming-uniform,
 * B0 = 0, or a loaded adapter) is perturbed per weight sample by i.i.d. noise of scale sigma:
 *
 *   a-and-b (the reference):  A = A0 + E_A,  B = B0 + E_B
 *   b:                        A = A0,        B = B0 + E_B
 *
 * and each site adds delta(x) = s · B · A · x with s = alpha / r. With B0 = 0 the weight update is
 *
 *   a-and-b:  delta W = s E_B (A0 + E_A) = s E_B A0 + s E_B E_A,
 *             E||delta W||_F^2 = s^2 v out (||A0||_F^2 + r in v)
 *   b:        delta W = s E_B A0,     E||delta W||_F^2 = s^2 v out ||A0||_F^2
 *
 * where v is the noise variance (sigma^2 Gaussian, 2 sigma^2 Laplace). Kaiming-uniform A0 has
 * ||A0||_F^2 ≈ r / 3, so a-and-b is second order in sigma (halving sigma quarters ||delta W||)
 * once in · v >> 1/3, which the reference's sigma 0.05 meets on any real model (in = 4096: the
 * first-order part is 3% of E||delta W||^2), and first order on tiny ones. `b` is first order
 * everywhere: a rank-r Gaussian perturbation of W along A0's rows.
 *
 * Noise on A alone would do nothing while B0 = 0; drawing B too (per sample) is a-and-b, and a B
 * drawn once for the run would move the mean model away from the base model (not a posterior
 * around it), so there is no third mode.
 */
import { tf } from '@bayes-peft/tensor';
import type { Rng } from '@bayes-peft/core';
import type { ZeroShotOptions } from './options';

export type NoiseKind = ZeroShotOptions['noise'];
export type PerturbMode = ZeroShotOptions['perturb'];

/** What a site needs to draw its noise. */
export interface NoiseSpec {
  readonly kind: NoiseKind;
  readonly sigma: number;
  readonly perturb: PerturbMode;
}

/** One weight sample's noise at one site: E_A [r, in] (null with perturb 'b') and E_B [out, r]. */
export interface SiteNoise {
  readonly eA: tf.Tensor2D | null;
  readonly eB: tf.Tensor2D;
}

/** |u| closer to 1/2 than this is clamped in the Laplace inverse CDF: |x| <= 16.6 sigma, not infinity. */
const LAPLACE_TAIL_FLOOR = 2 ** -24;

/**
 * i.i.d. noise of `shape` at scale sigma, seeded from `rng`: gaussian N(0, sigma^2); laplace
 * Laplace(0, b = sigma) by the inverse CDF of one uniform u in [-1/2, 1/2),
 * x = -sigma sign(u) log(1 - 2|u|) (the reference's Exp(rate 1/sigma) · sign(N(0, 1)) has the same law).
 */
export function drawNoise(shape: [number, number], spec: Pick<NoiseSpec, 'kind' | 'sigma'>, rng: Rng): tf.Tensor2D {
  // tfjs treats seed 0 as "unseeded", so it is avoided.
  const seed = rng.nextSeed() || 1;
  return tf.tidy(() => {
    if (spec.kind === 'gaussian') return tf.randomNormal(shape, 0, spec.sigma, 'float32', seed);
    const u = tf.randomUniform(shape, -0.5, 0.5, 'float32', seed);
    const tail = tf.maximum(tf.sub(1, tf.mul(2, tf.abs(u))), LAPLACE_TAIL_FLOOR);
    return tf.mul(tf.mul(tf.sign(u), tf.log(tail)), -spec.sigma);
  });
}

/**
 * One weight sample's noise at a site with A [r, in] and B [out, r], from the sample's stream at
 * that site: E_A from its child 'A', E_B from its child 'B' (independent of the order of calls).
 */
export function drawSiteNoise(r: number, inF: number, outF: number, spec: NoiseSpec, rng: Rng): SiteNoise {
  return {
    eA: spec.perturb === 'a-and-b' ? drawNoise([r, inF], spec, rng.child('A')) : null,
    eB: drawNoise([outF, r], spec, rng.child('B')),
  };
}

/** The perturbed factors: A0 + E_A (or A0) and B0 + E_B ([r, in] and [out, r]). */
export function perturbedFactors(A0: tf.Tensor, B0: tf.Tensor, noise: SiteNoise): { A: tf.Tensor; B: tf.Tensor } {
  return { A: noise.eA ? tf.add(A0, noise.eA) : A0, B: tf.add(B0, noise.eB) };
}

/** delta W = s (B A - B0 A0), [out, in]: what one weight sample adds to the frozen W. */
export function weightDelta(A0: tf.Tensor2D, B0: tf.Tensor2D, noise: SiteNoise, scaling: number): tf.Tensor2D {
  return tf.tidy(() => {
    const { A, B } = perturbedFactors(A0, B0, noise);
    return tf.mul(tf.sub(tf.matMul(B as tf.Tensor2D, A as tf.Tensor2D), tf.matMul(B0, A0)), scaling);
  });
}

/** Variance of one noise entry at scale sigma: sigma^2 (Gaussian), 2 sigma^2 (Laplace, b = sigma). */
export function noiseVariance(spec: Pick<NoiseSpec, 'kind' | 'sigma'>): number {
  return spec.kind === 'gaussian' ? spec.sigma ** 2 : 2 * spec.sigma ** 2;
}

/** E||delta W||_F^2 for B0 = 0 (see the header): s^2 v out (||A0||_F^2 + [a-and-b] r in v). */
export function expectedDeltaNormSquared(a0NormSquared: number, r: number, inF: number, outF: number, scaling: number, spec: NoiseSpec): number {
  const v = noiseVariance(spec);
  return scaling ** 2 * v * outF * (a0NormSquared + (spec.perturb === 'a-and-b' ? r * inF * v : 0));
}
