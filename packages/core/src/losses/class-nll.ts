import { tf } from '@bayes-peft/tensor';

/**
 * The multiple-choice training loss every LoRA wrapper uses: mean over the batch of
 * -log softmax(logits)[label], i.e. torch's `nll_loss(log_softmax(logits), labels)`
 * (docs/methods.md, 'MLE and MAP'). logits [B, C] (the class tokens' logits), labels int32 [B].
 */
export function classNll(logits: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(labels, logits.shape[logits.shape.length - 1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), -1))) as tf.Scalar;
  });
}

/**
 * Top-1 accuracy of a batch of class logits, in [0, 1] (the reference logs train accuracy in
 * percent; every accuracy here is a fraction). Reads one number back to the host.
 */
export function classAccuracy(logits: tf.Tensor, labels: tf.Tensor1D): number {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), labels), 'float32')).dataSync()[0]);
}
