import { TOKENS, definePlugin } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { MleWrapper } from './mle-wrapper';
import { MLE_OPTIONS, MleOptions } from './options';

export * from './mle-wrapper';
export * from './options';
/** The MCQ loss and batch accuracy now live in @bayes-peft/core; re-exported for callers of 0.1.0. */
export { classNll, classAccuracy as accuracy } from '@bayes-peft/core';

export const version = '0.1.0';

export default definePlugin({
  kind: 'wrapper',
  name: 'mle',
  version,
  packageName: '@bayes-peft/wrapper-mle',
  description: 'Maximum-likelihood LoRA fine-tuning (MAP with training.weightDecay 1e-5): one deterministic pass, the non-Bayesian baseline',
  options: MleOptions,
  register(container, options) {
    container.register(MLE_OPTIONS, { useValue: options });
    container.register(TOKENS.Wrapper, { useClass: MleWrapper }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
