import { tf } from '@bayes-peft/tensor';
import { Optimizer, type OptimizerOptions, type ParamGroup } from './optimizer';

export interface AdamOptions extends OptimizerOptions {
  /** torch default (0.9, 0.999). */
  readonly betas?: readonly [number, number];
  /** Added to sqrt(v_hat); torch's default is 1e-8, the reference passes --adam-epsilon (1e-6). */
  readonly eps?: number;
}

/**
 * torch.optim.Adam / AdamW (amsgrad off, maximize off), single-tensor algorithm. Per step t of a
 * parameter with gradient g, at learning rate lr and weight decay wd:
 *
 *   AdamW: p <- p * (1 - lr * wd)                 (decoupled decay, applied first)
 *   Adam:  g <- g + wd * p                        (L2 folded into the gradient; wd 0 = plain Adam)
 *   m <- m + (1 - b1) (g - m)                     (torch's lerp_)
 *   v <- b2 v + (1 - b2) g^2
 *   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 */
abstract class AdamBase extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  protected abstract readonly decoupled: boolean;

  constructor(params: readonly tf.Variable[] | readonly ParamGroup[], options: AdamOptions) {
    super(params, options);
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
  }

  protected slotNames(): readonly string[] {
    return ['exp_avg', 'exp_avg_sq'];
  }

  protected update(
    param: tf.Tensor,
    grad: tf.Tensor,
    slots: Readonly<Record<string, tf.Tensor>>,
    { lr, weightDecay, step }: { lr: number; weightDecay: number; step: number },
  ): { param: tf.Tensor; slots: Record<string, tf.Tensor> } {
    let p = param;
    let g = grad;
    if (weightDecay !== 0) {
      if (this.decoupled) p = tf.mul(p, 1 - lr * weightDecay);
      else g = tf.add(g, tf.mul(p, weightDecay));
    }
    const m = tf.add(slots.exp_avg, tf.mul(tf.sub(g, slots.exp_avg), 1 - this.beta1));
    const v = tf.add(tf.mul(slots.exp_avg_sq, this.beta2), tf.mul(tf.mul(g, g), 1 - this.beta2));
    const stepSize = lr / (1 - this.beta1 ** step);
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** step);
    const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps);
    const next = tf.sub(p, tf.mul(tf.div(m, denom), stepSize));
    return { param: next, slots: { exp_avg: m, exp_avg_sq: v } };
  }
}

/** torch.optim.AdamW: decoupled weight decay. */
export class AdamW extends AdamBase {
  readonly kind = 'adamw' as const;
  protected readonly decoupled = true;
}

/** torch.optim.Adam: weight decay (if any) is L2 added to the gradient; with wd 0 it is plain Adam. */
export class Adam extends AdamBase {
  readonly kind = 'adam' as const;
  protected readonly decoupled = false;
}
