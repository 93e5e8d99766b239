import type { LoraConfig, RunContext } from '@bayes-peft/core';
import { VariationalLoraWrapper, type VariationalTrainingState } from '@bayes-peft/bayes-lora';
import { blobFamily } from './blob-math';
import type { BlobOptions } from './options';

/** Optimizer state of a BLoB run, for resuming (not part of the PEFT adapter). */
export type BlobTrainingState = VariationalTrainingState;

/**
 * BLoB, Bayesian Low-Rank Adaptation by Backpropagation (docs/methods.md, 'BLoB'): LoRA whose A is
 * Gaussian, q(A) = N(M, sigma^2), trained by flipout sampling with a KL to N(0, beta^2)
 * weighted by pi. blob-math.ts names the maths; the shared machinery (sampler, training step,
 * prediction, generation, the PEFT layout with rho) is @bayes-peft/bayes-lora's.
 */
export class BlobWrapper extends VariationalLoraWrapper<BlobOptions> {
  constructor(run: RunContext, lora: LoraConfig, options: BlobOptions) {
    super(run, lora, options, 'blob', blobFamily);
  }
}

export { checkCompatible } from '@bayes-peft/bayes-lora';
