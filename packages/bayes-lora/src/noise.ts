/**
 * The random numbers of the flipout sampler: a family of weight noise (how a standardized draw
 * z and sigma make the perturbation E of A), the Gaussian family BLoB and TFB use, and the
 * per-token sign vectors. Every draw is seeded from a context Rng.
 */
import { tf } from '@bayes-peft/tensor';
import type { Rng } from '@bayes-peft/core';

/**
 * How a posterior family perturbs A: `E = perturbation(sigma, z)` with `z = draw(shape, rng)`, so
 * A + E is a draw from q(A) = family(M = A, sigma). Splitting the draw from the perturbation
 * lets a sampler fix z (one weight sample per generated sequence) while sigma stays live.
 */
export interface NoiseFamily {
  /** Short name, for messages and adapter metadata. */
  readonly name: string;
  /** A standardized draw of `shape`, seeded from `rng`. */
  draw(shape: number[], rng: Rng): tf.Tensor;
  /** E, the perturbation of A, from sigma ([r, in]) and a draw z of the same shape. */
  perturbation(sigma: tf.Tensor, z: tf.Tensor): tf.Tensor;
}

/** BLoB's family: z ~ N(0, 1), E = sigma ⊙ z, so A + E ~ N(A, sigma^2) (reparameterised: gradients reach sigma). */
export const gaussianNoise: NoiseFamily = {
  name: 'gaussian',
  draw: (shape, rng) => standardNormal(shape, rng),
  perturbation: (sigma, z) => tf.mul(sigma, z),
};

/** eps ~ N(0, 1) of `shape`, seeded from `rng` (tfjs treats seed 0 as "unseeded", so it is avoided). */
export function standardNormal(shape: number[], rng: Rng): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', rng.nextSeed() || 1);
}

/**
 * ±1 with probability 1/2 each (the reference: uniform(-1, 1).sign()), 24 signs per 32-bit draw
 * of `rng` (its top 24 bits): per-token sign vectors are the bulk of BLoB's random numbers.
 */
export function randomSigns(shape: number[], rng: Rng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  // Written as float32 bit patterns, branch-free: the bits are coin flips, so `bits & 1 ? 1 : -1`
  // mispredicts half the time (that loop was 6% of a random-40M evaluation). Bit 1 flips the
  // sign bit of -1.0f (0xbf800000) into +1.0f: the same values as before.
  const words = new Int32Array(out.buffer);
  for (let i = 0; i < n; i += 24) {
    let bits = rng.uint32() >>> 8;
    const m = Math.min(24, n - i);
    for (let k = 0; k < m; k++) {
      words[i + k] = 0xbf800000 ^ ((bits & 1) << 31);
      bits >>>= 1;
    }
  }
  return tf.tensor(out, shape, 'float32');
}

/**
 * x unchanged in value, with no gradient flowing back through it: the reference's
 * non-reparameterised `Distribution.sample()` (tfjs has no stop-gradient op).
 */
export const detachGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;
