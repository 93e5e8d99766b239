/**
 * KL(q || p) between BLoB's Gaussian posterior q(A) = N(M, sigma^2) (elementwise) and the prior
 * p(A) = N(0, beta^2), with the reference's 1e-6 guards (docs/methods.md, 'BLoB', KL). BLoB trains with
 * it; BLoB-Laplace's compat mode reuses it as the reference does.
 */
import { tf } from '@bayes-peft/tensor';

/** The reference's guard in the KL (both logs and the denominator). */
export const KL_GUARD = 1e-6;

/** One layer's mean and posterior std, the KL's input. */
export interface PosteriorLayer {
  readonly mean: tf.Tensor;
  readonly sigma: tf.Tensor;
}

/**
 * KL(q || p) of one layer's A, summed over all its elements:
 *
 *   sum [ log(beta + 1e-6) - log(sigma + 1e-6) + (sigma^2 + M^2) / (2 beta^2 + 1e-6) - 1/2 ]
 *
 * (the closed form of KL(N(M, sigma^2) || N(0, beta^2)) with the reference's guards).
 * Elementwise first, then summed, so the near-cancelling terms stay accurate in float32.
 */
export function gaussianKlLayer(mean: tf.Tensor, sigma: tf.Tensor, beta: number): tf.Scalar {
  return tf.tidy(() => {
    const logRatio = tf.sub(Math.log(beta + KL_GUARD), tf.log(tf.add(sigma, KL_GUARD)));
    const quad = tf.div(tf.add(tf.square(sigma), tf.square(mean)), 2 * beta * beta + KL_GUARD);
    return tf.sum(tf.sub(tf.add(logRatio, quad), 0.5)) as tf.Scalar;
  });
}

/** The KL of the whole adapter: summed over every LoRA layer (lm_head included). */
export function gaussianKl(layers: readonly PosteriorLayer[], beta: number): tf.Scalar {
  return tf.tidy(() => tf.addN(layers.map((l) => gaussianKlLayer(l.mean, l.sigma, beta))) as tf.Scalar);
}

/** Host version of one KL element, for tests and docs. */
export function gaussianKlElement(mean: number, sigma: number, beta: number): number {
  return Math.log(beta + KL_GUARD) - Math.log(sigma + KL_GUARD) + (sigma * sigma + mean * mean) / (2 * beta * beta + KL_GUARD) - 0.5;
}
