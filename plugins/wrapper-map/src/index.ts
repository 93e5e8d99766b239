import { TOKENS, definePlugin } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { MapWrapper } from './map-wrapper';
import { MAP_OPTIONS, MapOptions } from './options';

export * from './map-wrapper';
export * from './map-math';
export * from './options';

export const version = '0.1.0';

export default definePlugin({
  kind: 'wrapper',
  name: 'map',
  version,
  packageName: '@bayes-peft/wrapper-map',
  description: 'MAP LoRA: maximum likelihood with decoupled weight decay (1e-5, the reference) and an optional Gaussian prior N(0, priorStd^2) on the adapter',
  options: MapOptions,
  register(container, options) {
    container.register(MAP_OPTIONS, { useValue: options });
    container.register(TOKENS.Wrapper, { useClass: MapWrapper }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
