import { definePlugin, TOKENS } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { ToyOptions, TOY_OPTIONS } from './options';
import { ToyDataset } from './toy-dataset';

export * from './generate';
export { ToyOptions, TOY_OPTIONS } from './options';
export { ToyDataset } from './toy-dataset';

export const version = '0.1.0';

export default definePlugin({
  kind: 'dataset',
  name: 'toy',
  version,
  packageName: '@bayes-peft/dataset-toy',
  description: 'Offline four-choice "which box" task generated from a seed, with seeded label noise; behind the quickstart',
  options: ToyOptions,
  register(container, options) {
    container.register(TOY_OPTIONS, { useValue: options });
    container.register(TOKENS.Dataset, { useClass: ToyDataset }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
