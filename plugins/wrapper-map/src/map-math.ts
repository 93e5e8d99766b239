/**
 * MAP for LoRA (docs/methods.md, 'MAP'), the maths. Two independent ways to pull the adapter
 * theta = {A, B of every site} towards 0:
 *
 * 1. Weight decay (the reference's MAP: `mle` with `--opt-wd 1e-5`). With AdamW it is decoupled:
 *    before the Adam update, p <- p (1 - lr_t wd), lr_t the scheduled rate of the step. It is not
 *    a gradient of any loss (Loshchilov and Hutter), so it does not show in the logged loss.
 *    With `optimizer: adam` or `sgd` the same number is torch's weight_decay: g <- g + wd p.
 *
 * 2. A Gaussian prior p(theta) = N(0, sigma_p^2 I) (`priorStd`). The MAP estimate maximises
 *    log p(D | theta) + log p(theta); divided by the N training examples, the per-example
 *    objective minimised by the optimizer is
 *
 *        L(theta) = mean_batch[-log softmax(z)_y] + sum(theta^2) / (2 sigma_p^2 N)
 *
 *    (the batch mean is an unbiased estimate of the per-example NLL), so the prior adds exactly
 *    theta / (sigma_p^2 N) to each gradient and goes through the optimizer's moments like the NLL.
 */
import { tf } from '@bayes-peft/tensor';

/** sum(theta^2) / (2 sigma_p^2 N) over every element of every tensor in `params`. */
export function gaussianPriorPenalty(params: readonly tf.Tensor[], priorStd: number, numExamples: number): tf.Scalar {
  if (!(priorStd > 0)) throw new Error(`map: priorStd must be > 0, got ${priorStd}`);
  if (!(numExamples > 0)) throw new Error(`map: the prior needs the number of training examples N > 0, got ${numExamples}`);
  return tf.tidy(() => {
    const sq = params.map((p) => tf.sum(tf.square(p)));
    const total = sq.length === 0 ? tf.scalar(0) : tf.addN(sq);
    return tf.div(total, 2 * priorStd * priorStd * numExamples) as tf.Scalar;
  });
}

/** The factor decoupled weight decay multiplies a parameter by in one AdamW step. */
export function decoupledDecayFactor(lr: number, weightDecay: number): number {
  return 1 - lr * weightDecay;
}
