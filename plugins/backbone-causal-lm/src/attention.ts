import { tf } from '@bayes-peft/tensor';

/**
 * Added to the score of a key a query must not see. Finite on purpose: a query row with no
 * visible key (a padding position) then gets a harmless uniform softmax instead of the NaN
 * that -Infinity would give, and NaN would spread into gradients through the masked rows.
 */
export const MASK_VALUE = -1e9;

/**
 * Grouped-query scaled dot-product attention.
 *
 * q [B, Tq, H, D] has RoPE applied and is already scaled by 1/sqrt(D); k, v are [B, KV, Tk, D];
 * bias [B, 1, Tq, Tk] is 0 where a key is visible and MASK_VALUE elsewhere. Returns [B, Tq, H*D].
 *
 * Instead of repeating each KV head for its H/KV query heads (transformers' repeat_kv, a copy
 * of the cache per step), the query heads of one group are folded into the row axis: query
 * head h = kv * G + g becomes rows [g*Tq, (g+1)*Tq) of group kv, so one batched matmul per
 * group reads the shared K and V in place.
 */
export function attend(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor4D): tf.Tensor3D {
  const [b, tq, h, d] = q.shape;
  const kvHeads = k.shape[1];
  const tk = k.shape[2];
  const g = h / kvHeads;
  const qh = tf.reshape(tf.transpose(q, [0, 2, 1, 3]), [b, kvHeads, g * tq, d]);
  const scores = tf.matMul(qh, k, false, true); // [B, KV, G*Tq, Tk]
  const masked = tf.add(tf.reshape(scores, [b, kvHeads, g, tq, tk]), tf.reshape(bias, [b, 1, 1, tq, tk]));
  const probs = tf.reshape(tf.softmax(masked, -1), [b, kvHeads, g * tq, tk]);
  const out = tf.matMul(probs, v); // [B, KV, G*Tq, D] = [B, H, Tq, D]
  return tf.reshape(tf.transpose(tf.reshape(out, [b, h, tq, d]), [0, 2, 1, 3]), [b, tq, h * d]);
}

/**
 * Causal + padding bias for a full forward: [B, 1, T, T] from the int32 attention mask [B, T]
 * without reading it back to the host. Query i sees key j when j <= i, the key is a real
 * token, and (with a sliding window W) i - j < W.
 */
export function causalBias(mask: tf.Tensor2D, slidingWindow: number | null): tf.Tensor4D {
  const [b, t] = mask.shape;
  const causal = new Float32Array(t * t);
  for (let i = 0; i < t; i++) {
    const from = slidingWindow === null ? 0 : Math.max(0, i - slidingWindow + 1);
    for (let j = from; j <= i; j++) causal[i * t + j] = 1;
  }
  const allowed = tf.mul(tf.tensor4d(causal, [1, 1, t, t]), tf.reshape(tf.cast(mask, 'float32'), [b, 1, 1, t]));
  return tf.mul(tf.sub(1, allowed), MASK_VALUE) as tf.Tensor4D;
}

/**
 * The same bias built on the host for incremental decoding, where the mask is known there:
 * queries are the `tq` positions ending at the last key of `mask` ([B][Tk] of 0/1).
 */
export function hostBias(mask: readonly (readonly number[])[], tq: number, slidingWindow: number | null): tf.Tensor4D {
  return tf.tensor4d(hostBiasValues(mask, tq, slidingWindow), [mask.length, 1, tq, mask[0].length]);
}

/** hostBias' values, [B, 1, tq, Tk] row-major, on the host. */
export function hostBiasValues(mask: readonly (ArrayLike<number>)[], tq: number, slidingWindow: number | null): Float32Array {
  const b = mask.length;
  const tk = mask[0].length;
  const out = new Float32Array(b * tq * tk).fill(MASK_VALUE);
  for (let r = 0; r < b; r++) {
    for (let i = 0; i < tq; i++) {
      const qi = tk - tq + i; // absolute index of the query among the keys
      const from = slidingWindow === null ? 0 : Math.max(0, qi - slidingWindow + 1);
      const base = (r * tq + i) * tk;
      for (let j = from; j <= qi; j++) if (mask[r][j]) out[base + j] = 0;
    }
  }
  return out;
}
