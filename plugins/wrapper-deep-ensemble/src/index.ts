import { defineWrapper } from '@bayes-peft/core';
import { DeepEnsembleWrapper } from './deep-ensemble-wrapper';
import { DeepEnsembleOptions } from './options';

export * from './deep-ensemble-wrapper';
export * from './ensemble-adapter';
export * from './ensemble-math';
export * from './options';

const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineWrapper({
  name: 'deep-ensemble',
  version,
  packageName: pkg.name,
  description: 'Deep ensemble: n independently initialised LoRA adapters trained on the same batches; predictions combined over members (probs, or logits as the reference)',
  options: DeepEnsembleOptions,
  create: ({ run, lora, options }) => new DeepEnsembleWrapper(run, lora, options),
});
