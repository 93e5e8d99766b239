import { LoraWrapper, type PointLoraTrainingState } from '@bayes-peft/lora';
import type { MleOptions } from './options';

/** Optimizer state of a wrapper, for resuming a run (not part of the PEFT adapter). */
export type MleTrainingState = PointLoraTrainingState;

/**
 * Maximum-likelihood LoRA (docs/methods.md, 'MLE and MAP'). One deterministic pass: trainStep minimises the
 * NLL of log_softmax over the class tokens' logits at the last position, averaged over the batch,
 * with the plan's optimizer (AdamW by default) under the linear warmup/decay schedule. All of it
 * is @bayes-peft/lora's LoraWrapper; MLE adds nothing to it.
 */
export class MleWrapper extends LoraWrapper<MleOptions> {
  readonly name = 'mle';
}

/** The saved adapter must match the run's rank, alpha and targets (kept for callers of 0.1.0; it lives in @bayes-peft/lora). */
export { checkAdapterCompatible as checkCompatible } from '@bayes-peft/lora';
