import { classNll, tf } from '@bayes-peft/lora';

/**
 * The training loss: the class NLL of the answer tokens' logits (what every bayes-peft LoRA
 * wrapper minimises), mixed with the cross-entropy to the uniform distribution when
 * `smoothing` > 0. logits [B, C] (one column per class), labels int32 [B]; a scalar.
 */
export function smoothedNll(logits: tf.Tensor, labels: tf.Tensor1D, smoothing: number): tf.Scalar {
  return tf.tidy(() => {
    const nll = classNll(logits, labels);
    if (smoothing === 0) return nll;
    const uniform = tf.neg(tf.mean(tf.logSoftmax(logits)));
    return tf.add(tf.mul(nll, 1 - smoothing), tf.mul(uniform, smoothing)) as tf.Scalar;
  });
}
