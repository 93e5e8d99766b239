import { definePlugin, TOKENS } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { ToyOptions, TOY_OPTIONS } from './options';
import { ToyDataset } from './toy-dataset';

export * from './generate';
export { ToyOptions, TOY_OPTIONS } from './options';
export { ToyDataset } from './toy-dataset';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default definePlugin({
  kind: 'dataset',
  name: 'toy',
  version,
  packageName: pkg.name,
  description: 'Offline four-choice "which box" task generated from a seed, with seeded label noise; behind the quickstart',
  options: ToyOptions,
  register(container, options) {
    container.register(TOY_OPTIONS, { useValue: options });
    container.register(TOKENS.Dataset, { useClass: ToyDataset }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
