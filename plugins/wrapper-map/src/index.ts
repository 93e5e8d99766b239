import { defineWrapper } from '@bayes-peft/core';
import { MapWrapper } from './map-wrapper';
import { MapOptions } from './options';

export * from './map-wrapper';
export * from './map-math';
export * from './options';

const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineWrapper({
  name: 'map',
  version,
  packageName: pkg.name,
  description: 'MAP LoRA: maximum likelihood with decoupled weight decay (1e-5, the reference) and an optional Gaussian prior N(0, priorStd^2) on the adapter',
  options: MapOptions,
  create: ({ run, lora, options }) => new MapWrapper(run, lora, options),
});
