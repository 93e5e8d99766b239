import { TOKENS, definePlugin } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { McDropoutWrapper } from './mc-dropout-wrapper';
import { MC_DROPOUT_OPTIONS, McDropoutOptions } from './options';

export * from './mc-dropout-wrapper';
export * from './mc-dropout-adapter';
export * from './dropout-math';
export * from './options';

export const version = '0.1.0';

export default definePlugin({
  kind: 'wrapper',
  name: 'mc-dropout',
  version,
  packageName: '@bayes-peft/wrapper-mc-dropout',
  description: 'MC dropout: LoRA trained with dropout on its input, kept on at evaluation; probabilities averaged over S dropout passes',
  options: McDropoutOptions,
  register(container, options) {
    container.register(MC_DROPOUT_OPTIONS, { useValue: options });
    container.register(TOKENS.Wrapper, { useClass: McDropoutWrapper }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
