import { TOKENS, definePlugin } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { BlobLaplaceWrapper } from './blob-laplace-wrapper';
import { BLOB_LAPLACE_OPTIONS, BlobLaplaceOptions } from './options';

export * from './blob-laplace-wrapper';
export * from './laplace-math';
export * from './options';

export const version = '0.1.0';

export default definePlugin({
  kind: 'wrapper',
  name: 'blob-laplace',
  version,
  packageName: '@bayes-peft/wrapper-blob-laplace',
  description: 'BLoB-Laplace: BLoB with a Laplace posterior on LoRA A (reparameterised sampling, Laplace KL to N(0, beta^2))',
  options: BlobLaplaceOptions,
  register(container, options) {
    container.register(BLOB_LAPLACE_OPTIONS, { useValue: options });
    container.register(TOKENS.Wrapper, { useClass: BlobLaplaceWrapper }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
