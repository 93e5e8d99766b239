/**
 * All of BLoB-Laplace's own maths (docs/methods.md, 'BLoB-Laplace'; docs/reference-differences.md rows 64-66): the Laplace
 * posterior's noise and its KL to BLoB's Gaussian prior. Everything else (sigma(rho), the
 * flipout sampler, pi and M, the training step) is BLoB's, from @bayes-peft/bayes-lora.
 *
 * Posterior: q(A) = Laplace(M, b) elementwise, M = lora_A, with scale
 *
 *     b = sigma * laplaceScaleFactor / sqrt 2,        Var = 2 b^2 = (laplaceScaleFactor * sigma)^2,
 *
 * so at factor 1 it has BLoB's variance sigma^2. Prior: p(A) = N(0, beta^2).
 *
 * Sampling (reparameterised): u ~ U(-1/2, 1/2), z = -sign(u) log(1 - 2|u|) ~ Laplace(0, 1),
 * E = b ⊙ z. The reference draws `Laplace(0, b).sample()`, which carries no gradient to b, so the
 * likelihood never trains rho; `detach` reproduces that (E's value is the same, its gradient
 * with respect to sigma is 0).
 *
 * KL, closed form, per element (exact; verified against a Monte Carlo estimate in the tests):
 *
 *     E_q[log q] = -log(2b) - 1                               (minus the Laplace entropy)
 *     E_q[log p] = -log(beta sqrt(2 pi)) - (M^2 + 2 b^2) / (2 beta^2)
 *     KL = log(beta) + log(2 pi)/2 - log(2b + 1e-6) - 1 + (M^2 + 2 b^2) / (2 beta^2)
 *
 * (the 1e-6 keeps log(2b) finite at sigma = 0, as the reference guards log sigma). At factor 1 it
 * exceeds the Gaussian KL of the same variance by (log pi - 1) / 2 ≈ 0.0724 per element: the
 * Gaussian has the largest entropy for a given variance.
 */
import { tf } from '@bayes-peft/tensor';
import { KL_GUARD, detachGradient, type NoiseFamily, type PosteriorLayer } from '@bayes-peft/bayes-lora';
import type { Rng } from '@bayes-peft/core';

/**
 * 1 - 2|u| is at least this (the float32 spacing just below 1), so |z| <= 24 log 2 ≈ 16.6: a
 * float32 u can round to exactly ±1/2 (log 0); the cut removes probability ~6e-8 of the tail.
 */
export const LAPLACE_TAIL_FLOOR = 2 ** -24;

/** b = sigma * factor / sqrt 2: the Laplace scale whose variance 2 b^2 is (factor sigma)^2. */
export function laplaceScale(sigma: tf.Tensor, factor: number): tf.Tensor {
  return tf.mul(sigma, factor / Math.SQRT2);
}

/** z ~ Laplace(0, 1) of `shape` by the inverse CDF: u ~ U(-1/2, 1/2), z = -sign(u) log(1 - 2|u|). */
export function standardLaplace(shape: number[], rng: Rng): tf.Tensor {
  return tf.tidy(() => {
    const u = tf.randomUniform(shape, -0.5, 0.5, 'float32', rng.nextSeed() || 1);
    const tail = tf.maximum(tf.sub(1, tf.mul(tf.abs(u), 2)), LAPLACE_TAIL_FLOOR);
    return tf.neg(tf.mul(tf.sign(u), tf.log(tail)));
  });
}

/**
 * The Laplace posterior's noise for the flipout sampler: E = b(sigma) ⊙ z. With `detach`, the
 * reference's non-reparameterised sample: same values, no gradient from E to sigma (rho).
 */
export function laplaceNoise(factor: number, detach = false): NoiseFamily {
  return {
    name: detach ? 'laplace (not reparameterised)' : 'laplace',
    draw: (shape, rng) => standardLaplace(shape, rng),
    perturbation: (sigma, z) => tf.mul(laplaceScale(detach ? detachGradient(sigma) : sigma, factor), z),
  };
}

/** KL(Laplace(M, b) || N(0, beta^2)) of one layer, summed over its elements; b = sigma factor / sqrt 2. */
export function laplaceKlLayer(mean: tf.Tensor, sigma: tf.Tensor, beta: number, factor: number): tf.Scalar {
  return tf.tidy(() => {
    const b = laplaceScale(sigma, factor);
    const negEntropy = tf.sub(tf.neg(tf.log(tf.add(tf.mul(b, 2), KL_GUARD))), 1); // E_q[log q]
    const quad = tf.div(tf.add(tf.square(mean), tf.mul(tf.square(b), 2)), 2 * beta * beta);
    const crossEntropy = tf.add(quad, Math.log(beta) + 0.5 * Math.log(2 * Math.PI)); // -E_q[log p]
    return tf.sum(tf.add(negEntropy, crossEntropy)) as tf.Scalar;
  });
}

/** The KL of the whole adapter: summed over every LoRA layer (lm_head included). */
export function laplaceKl(layers: readonly PosteriorLayer[], beta: number, factor: number): tf.Scalar {
  return tf.tidy(() => tf.addN(layers.map((l) => laplaceKlLayer(l.mean, l.sigma, beta, factor))) as tf.Scalar);
}

/** Host version of one KL element (b given directly), for tests and docs. */
export function laplaceKlElement(mean: number, b: number, beta: number): number {
  return Math.log(beta) + 0.5 * Math.log(2 * Math.PI) - Math.log(2 * b + KL_GUARD) - 1 + (mean * mean + 2 * b * b) / (2 * beta * beta);
}
