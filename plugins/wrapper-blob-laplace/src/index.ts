import { defineWrapper } from '@bayes-peft/core';
import { BlobLaplaceWrapper } from './blob-laplace-wrapper';
import { BlobLaplaceOptions } from './options';

export * from './blob-laplace-wrapper';
export * from './laplace-math';
export * from './options';

const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineWrapper({
  name: 'blob-laplace',
  version,
  packageName: pkg.name,
  description: 'BLoB-Laplace: BLoB with a Laplace posterior on LoRA A (reparameterised sampling, Laplace KL to N(0, beta^2))',
  options: BlobLaplaceOptions,
  create: ({ run, lora, options }) => new BlobLaplaceWrapper(run, lora, options),
});
