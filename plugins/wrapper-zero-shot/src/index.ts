import { defineWrapper } from '@bayes-peft/core';
import { ZeroShotWrapper } from './zero-shot-wrapper';
import { ZeroShotOptions } from './options';

export * from './zero-shot-wrapper';
export * from './zero-shot-adapter';
export * from './zero-shot-math';
export * from './options';

const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineWrapper({
  name: 'zero-shot-bayes',
  version,
  packageName: pkg.name,
  description: 'Zero-shot Bayesian evaluation: no training; an untrained LoRA (A kaiming, B = 0) perturbed by i.i.d. Gaussian or Laplace noise of scale sigma per weight sample',
  options: ZeroShotOptions,
  create: ({ run, lora, options }) => new ZeroShotWrapper(run, lora, options),
});
