import type { tf } from '@bayes-peft/tensor';
import { Adam, AdamW } from './adam';
import type { Optimizer, OptimizerKind, ParamGroup } from './optimizer';
import { Sgd } from './sgd';

export * from './schedule';
export * from './optimizer';
export * from './adam';
export * from './sgd';

export interface CreateOptimizerOptions {
  readonly lr: number;
  readonly weightDecay?: number;
  /** Adam/AdamW only. */
  readonly eps?: number;
  /** Adam/AdamW only. */
  readonly betas?: readonly [number, number];
}

/** The optimizer the reference builds for `--opt` (docs/methods.md, 'MLE and MAP'). */
export function createOptimizer(
  kind: OptimizerKind,
  params: readonly tf.Variable[] | readonly ParamGroup[],
  options: CreateOptimizerOptions,
): Optimizer {
  switch (kind) {
    case 'adamw':
      return new AdamW(params, options);
    case 'adam':
      return new Adam(params, options);
    case 'sgd':
      return new Sgd(params, { lr: options.lr, weightDecay: options.weightDecay });
    default:
      throw new Error(`unknown optimizer '${String(kind)}' (adamw, adam or sgd)`);
  }
}

/**
 * The reference's two parameter groups (docs/reference-differences.md row 31): names containing 'bias' or
 * 'LayerNorm.weight' get no weight decay, all others `weightDecay`. For LoRA A/B (and BLoB's rho)
 * that is every parameter.
 */
export function referenceParamGroups(params: readonly tf.Variable[], weightDecay: number): ParamGroup[] {
  const noDecay = (v: tf.Variable) => v.name.includes('bias') || v.name.includes('LayerNorm.weight');
  return [
    { params: params.filter((v) => !noDecay(v)), weightDecay },
    { params: params.filter(noDecay), weightDecay: 0 },
  ];
}
