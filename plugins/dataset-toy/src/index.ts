import { defineDataset } from '@bayes-peft/core';
import { ToyOptions } from './options';
import { ToyDataset } from './toy-dataset';

export * from './generate';
export { ToyOptions } from './options';
export { ToyDataset } from './toy-dataset';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineDataset({
  name: 'toy',
  task: 'mcq',
  version,
  packageName: pkg.name,
  description: 'Offline four-choice "which box" task generated from a seed, with seeded label noise; behind the quickstart',
  options: ToyOptions,
  create: (_ctx, options) => new ToyDataset(options),
});
