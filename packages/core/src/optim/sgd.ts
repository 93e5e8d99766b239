import { tf } from '@bayes-peft/tensor';
import { Optimizer } from './optimizer';

/** torch.optim.SGD without momentum: g <- g + wd p (if wd); p <- p - lr g. No state besides the step count. */
export class Sgd extends Optimizer {
  readonly kind = 'sgd' as const;

  protected slotNames(): readonly string[] {
    return [];
  }

  protected update(
    param: tf.Tensor,
    grad: tf.Tensor,
    _slots: Readonly<Record<string, tf.Tensor>>,
    { lr, weightDecay }: { lr: number; weightDecay: number; step: number },
  ): { param: tf.Tensor; slots: Record<string, tf.Tensor> } {
    const g = weightDecay !== 0 ? tf.add(grad, tf.mul(param, weightDecay)) : grad;
    return { param: tf.sub(param, tf.mul(g, lr)), slots: {} };
  }
}
