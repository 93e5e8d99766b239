import { TOKENS, definePlugin } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { DeepEnsembleWrapper } from './deep-ensemble-wrapper';
import { DEEP_ENSEMBLE_OPTIONS, DeepEnsembleOptions } from './options';

export * from './deep-ensemble-wrapper';
export * from './ensemble-adapter';
export * from './ensemble-math';
export * from './options';

export const version = '0.1.0';

export default definePlugin({
  kind: 'wrapper',
  name: 'deep-ensemble',
  version,
  packageName: '@bayes-peft/wrapper-deep-ensemble',
  description: 'Deep ensemble: n independently initialised LoRA adapters trained on the same batches; predictions combined over members (probs, or logits as the reference)',
  options: DeepEnsembleOptions,
  register(container, options) {
    container.register(DEEP_ENSEMBLE_OPTIONS, { useValue: options });
    container.register(TOKENS.Wrapper, { useClass: DeepEnsembleWrapper }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
