import { TOKENS, definePlugin } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { TfbWrapper } from './tfb-wrapper';
import { TFB_OPTIONS, TfbOptions } from './options';

export * from './tfb-wrapper';
export * from './tfb-math';
export * from './beta-search';
export * from './svd';
export * from './options';

export const version = '0.1.0';

export default definePlugin({
  kind: 'wrapper',
  name: 'tfb',
  version,
  packageName: '@bayes-peft/wrapper-tfb',
  description: 'TFB: training-free Bayesianization of a trained LoRA adapter (SVD of B, sigma_i = beta / d_i, beta searched on the anchor split)',
  options: TfbOptions,
  register(container, options) {
    container.register(TFB_OPTIONS, { useValue: options });
    container.register(TOKENS.Wrapper, { useClass: TfbWrapper }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
