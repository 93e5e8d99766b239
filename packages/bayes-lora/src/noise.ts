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
  return tf.tensor(randomSignValues(n, rng), shape, 'float32');
}

/** randomSigns' values on the host: n signs ±1 as float32. */
export function randomSignValues(n: number, rng: Rng): Float32Array {
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
  return out;
}

/**
 * The same signs as int8, from the same bits in the same order (the onnxruntime path feeds
 * them as int8: a quarter of the memory of float32 for BLoB's largest inputs). Each byte of
 * random bits becomes its 8 signs through a table, written as two little-endian int32 words:
 * BLoB draws ~45M signs per random-40M evaluation batch.
 */
export function randomSignBytes(n: number, rng: Rng): Int8Array {
  const chunks = Math.ceil(n / 24);
  const words = new Int32Array(chunks * 6); // 24 signs = 6 words per 32-bit draw
  for (let c = 0, at = 0; c < chunks; c++, at += 6) {
    const bits = rng.uint32() >>> 8;
    const b0 = bits & 255;
    const b1 = (bits >>> 8) & 255;
    const b2 = bits >>> 16;
    words[at] = SIGN_LO[b0];
    words[at + 1] = SIGN_HI[b0];
    words[at + 2] = SIGN_LO[b1];
    words[at + 3] = SIGN_HI[b1];
    words[at + 4] = SIGN_LO[b2];
    words[at + 5] = SIGN_HI[b2];
  }
  return new Int8Array(words.buffer, 0, n);
}

/** For each byte b: its signs (bit t set -> +1, else -1) for bits 0-3 (LO) and 4-7 (HI), as int8 lanes of a little-endian int32. */
const [SIGN_LO, SIGN_HI] = (() => {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('randomSignBytes assumes a little-endian machine');
  const lo = new Int32Array(256);
  const hi = new Int32Array(256);
  const lanes = new Int8Array(4);
  const word = new Int32Array(lanes.buffer);
  for (let b = 0; b < 256; b++) {
    for (let t = 0; t < 4; t++) lanes[t] = (b >> t) & 1 ? 1 : -1;
    lo[b] = word[0];
    for (let t = 0; t < 4; t++) lanes[t] = (b >> (t + 4)) & 1 ? 1 : -1;
    hi[b] = word[0];
  }
  return [lo, hi];
})();

/**
 * x unchanged in value, with no gradient flowing back through it: the reference's
 * non-reparameterised `Distribution.sample()` (tfjs has no stop-gradient op).
 */
export const detachGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;
