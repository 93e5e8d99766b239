import { TOKENS, definePlugin } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { BlobWrapper } from './blob-wrapper';
import { BLOB_OPTIONS, BlobOptions } from './options';

export * from './blob-wrapper';
export * from './blob-math';
export * from './options';
export { FlipoutAdapter, randomSigns, standardNormal } from '@bayes-peft/bayes-lora';

export const version = '0.1.0';

export default definePlugin({
  kind: 'wrapper',
  name: 'blob',
  version,
  packageName: '@bayes-peft/wrapper-blob',
  description: 'BLoB: Bayesian Low-Rank Adaptation by Backpropagation (Gaussian LoRA A, flipout sampling, KL to N(0, beta^2))',
  options: BlobOptions,
  register(container, options) {
    container.register(BLOB_OPTIONS, { useValue: options });
    container.register(TOKENS.Wrapper, { useClass: BlobWrapper }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
