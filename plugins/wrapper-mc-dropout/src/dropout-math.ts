/**
 * MC dropout (docs/methods.md, 'MC dropout'; Gal and Ghahramani 2016), the maths. Each LoRA site computes
 *
 *     delta(x) = s · B · A · (m ⊙ x) / (1 - p),      m_i ~ Bernoulli(1 - p)
 *
 * (inverted dropout on the adapter's input, the LoRA dropout of PEFT), and unlike ordinary dropout
 * the masks stay random at evaluation: each of S forward passes is a draw of the thinned weights,
 * and the predictive distribution is the mean of the passes' softmax probabilities,
 *
 *     p(y | x) ≈ (1/S) Σ_s softmax(z_s(x)).
 *
 * Training and evaluation (MCQ scoring) draw an independent mask per element of x (per token and
 * feature), as torch's nn.Dropout does. Generation fixes one mask per sequence per sample
 * (`sequenceKeepMask`, shared by every position and decoding step of that sequence), so a
 * generated text is the output of one thinned network, as a BLoB generation is of one weight
 * sample.
 */
import { tf } from '@bayes-peft/tensor';
import type { Rng } from '@bayes-peft/core';

/** A seed for TensorFlow.js random ops; tfjs treats 0 as "unseeded", so it is avoided. */
function seedOf(rng: Rng): number {
  return rng.nextSeed() || 1;
}

/** m ⊙ x / (1 - p) with an independent m_i ~ Bernoulli(1 - p) per element. rate 0 returns x. */
export function invertedDropout(x: tf.Tensor, rate: number, rng: Rng): tf.Tensor {
  checkRate(rate);
  if (rate === 0) return x;
  return tf.tidy(() => {
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seedOf(rng)), rate), 'float32');
    return tf.mul(x, tf.mul(keep, 1 / (1 - rate)));
  });
}

/**
 * invertedDropout's keep mask m (1 = kept) for an input of `shape`, as int8 on the host: the same
 * uniform draws from the same seed, compared with p as float32 (as tf.greaterEqual compares).
 */
export function keepMaskBytes(shape: readonly number[], rate: number, rng: Rng): Int8Array {
  checkRate(rate);
  const u = tf.tidy(() => tf.randomUniform([...shape], 0, 1, 'float32', seedOf(rng)));
  const values = u.dataSync();
  u.dispose();
  const p = Math.fround(rate);
  const out = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] >= p ? 1 : 0;
  return out;
}

/** One scaled keep-mask per sequence, [batch, features]: entries 0 or 1 / (1 - p). */
export function sequenceKeepMask(batch: number, features: number, rate: number, rng: Rng): tf.Tensor2D {
  checkRate(rate);
  return tf.tidy(() => {
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform([batch, features], 0, 1, 'float32', seedOf(rng)), rate), 'float32');
    return tf.mul(keep, 1 / (1 - rate)) as tf.Tensor2D;
  });
}

/** x [B, ..., in] times a per-sequence mask [B, in], broadcast over the positions in between. */
export function applySequenceMask(x: tf.Tensor, mask: tf.Tensor2D): tf.Tensor {
  const [B, inF] = mask.shape;
  if (x.shape[0] !== B || x.shape[x.rank - 1] !== inF) {
    throw new Error(`mc-dropout: a per-sequence mask [${mask.shape}] does not fit an input of shape [${x.shape}]`);
  }
  const shape = [B, ...new Array<number>(Math.max(0, x.rank - 2)).fill(1), inF];
  return tf.tidy(() => tf.mul(x, tf.reshape(mask, shape)));
}

function checkRate(rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new Error(`mc-dropout: the dropout rate must be in [0, 1), got ${rate}`);
}
