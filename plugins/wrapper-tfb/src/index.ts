import { defineWrapper } from '@bayes-peft/core';
import { TfbWrapper } from './tfb-wrapper';
import { TfbOptions } from './options';

export * from './tfb-wrapper';
export * from './tfb-math';
export * from './beta-search';
export * from './svd';
export * from './options';

const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineWrapper({
  name: 'tfb',
  version,
  packageName: pkg.name,
  description: 'TFB: training-free Bayesianization of a trained LoRA adapter (SVD of B, sigma_i = beta / d_i, beta searched on the anchor split)',
  options: TfbOptions,
  create: ({ run, lora, options }) => new TfbWrapper(run, lora, options),
});
