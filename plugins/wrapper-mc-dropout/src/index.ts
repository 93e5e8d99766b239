import { defineWrapper } from '@bayes-peft/core';
import { McDropoutWrapper } from './mc-dropout-wrapper';
import { McDropoutOptions } from './options';

export * from './mc-dropout-wrapper';
export * from './mc-dropout-adapter';
export * from './dropout-math';
export * from './options';

const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineWrapper({
  name: 'mc-dropout',
  version,
  packageName: pkg.name,
  description: 'MC dropout: LoRA trained with dropout on its input, kept on at evaluation; probabilities averaged over S dropout passes',
  options: McDropoutOptions,
  create: ({ run, lora, options }) => new McDropoutWrapper(run, lora, options),
});
