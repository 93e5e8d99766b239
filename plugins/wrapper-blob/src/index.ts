import { defineWrapper } from '@bayes-peft/core';
import { BlobWrapper } from './blob-wrapper';
import { BlobOptions } from './options';

export * from './blob-wrapper';
export * from './blob-math';
export * from './options';
export { FlipoutAdapter, randomSigns, standardNormal } from '@bayes-peft/bayes-lora';

const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineWrapper({
  name: 'blob',
  version,
  packageName: pkg.name,
  description: 'BLoB: Bayesian Low-Rank Adaptation by Backpropagation (Gaussian LoRA A, flipout sampling, KL to N(0, beta^2))',
  options: BlobOptions,
  create: ({ run, lora, options }) => new BlobWrapper(run, lora, options),
});
