import { classNll, tf } from '@bayes-peft/lora';

/**
 * The training loss: the NLL of the scored rows (what every bayes-peft LoRA wrapper minimises),
 * mixed with the cross-entropy to the uniform distribution when `smoothing` > 0. logits [N, K]:
 * one row per multiple-choice example over its K classes, or one per answer token over the
 * vocabulary; labels int32 [N]; a scalar.
 */
export function smoothedNll(logits: tf.Tensor, labels: tf.Tensor1D, smoothing: number): tf.Scalar {
  return tf.tidy(() => {
    const nll = classNll(logits, labels);
    if (smoothing === 0) return nll;
    const uniform = tf.neg(tf.mean(tf.logSoftmax(logits)));
    return tf.add(tf.mul(nll, 1 - smoothing), tf.mul(uniform, smoothing)) as tf.Scalar;
  });
}
