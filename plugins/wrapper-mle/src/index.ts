import { defineWrapper } from '@bayes-peft/core';
import { MleWrapper } from './mle-wrapper';
import { MleOptions } from './options';

export * from './mle-wrapper';
export * from './options';
/** The MCQ loss and batch accuracy now live in @bayes-peft/core; re-exported for callers of 0.1.0. */
export { classNll, classAccuracy as accuracy } from '@bayes-peft/core';

const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineWrapper({
  name: 'mle',
  version,
  packageName: pkg.name,
  description: 'Maximum-likelihood LoRA fine-tuning (MAP with training.weightDecay 1e-5): one deterministic pass, the non-Bayesian baseline',
  options: MleOptions,
  create: ({ run, lora, options }) => new MleWrapper(run, lora, options),
});
