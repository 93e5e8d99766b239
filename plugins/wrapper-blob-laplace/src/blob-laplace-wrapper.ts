import type { LoraConfig, RunContext } from '@bayes-peft/core';
import { VariationalLoraWrapper, gaussianKl, type PosteriorFamily } from '@bayes-peft/bayes-lora';
import { laplaceKl, laplaceNoise } from './laplace-math';
import type { BlobLaplaceOptions } from './options';

/**
 * The posterior family of BLoB-Laplace under its options: reparameterised (or, compat, detached)
 * Laplace noise with scale b = sigma factor / sqrt 2, and the Laplace KL (or, compat, BLoB's
 * Gaussian KL, as the reference).
 */
export function blobLaplaceFamily(options: Pick<BlobLaplaceOptions, 'laplaceScaleFactor' | 'compat'>): PosteriorFamily {
  const factor = options.laplaceScaleFactor;
  return {
    noise: laplaceNoise(factor, options.compat.detachNoise),
    kl: options.compat.gaussianKl ? gaussianKl : (layers, beta) => laplaceKl(layers, beta, factor),
  };
}

/**
 * BLoB-Laplace (docs/methods.md, 'BLoB-Laplace'): BLoB with a Laplace posterior on LoRA's A. Training
 * (flipout sampling, pi/M KL weighting, the AdamW + SGD(klLr) split), prediction (including
 * the posterior-mean "N=0" evaluation, `inferenceNotSample`) and the PEFT layout with rho are
 * BLoB's, from @bayes-peft/bayes-lora; the Laplace maths is in laplace-math.ts.
 */
export class BlobLaplaceWrapper extends VariationalLoraWrapper<BlobLaplaceOptions> {
  constructor(run: RunContext, lora: LoraConfig, options: BlobLaplaceOptions) {
    super(run, lora, options, 'blob-laplace', blobLaplaceFamily(options));
  }
}
