import { tf } from '@bayes-peft/tensor';

/**
 * Llama's RMSNorm: weight * x / sqrt(mean(x^2) + eps) over the last axis, in float32 like
 * transformers' LlamaRMSNorm (which upcasts to float32 for exactly this computation).
 */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor {
  const variance = tf.mean(tf.square(x), -1, true);
  return tf.mul(weight, tf.mul(x, tf.rsqrt(tf.add(variance, eps))));
}
