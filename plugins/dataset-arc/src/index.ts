import { definePlugin, TOKENS } from '@bayes-peft/core';
import { Lifecycle } from 'tsyringe';
import { ArcDataset } from './arc-dataset';
import { ArcOptions, ARC_OPTIONS } from './options';

export { ArcDataset } from './arc-dataset';
export { ArcOptions, ARC_OPTIONS, ARC_HUB_REPO } from './options';
export { ARC_LABELS, ARC_TEMPLATE, arcClass, formatArcRow, type ArcFormatOptions } from './format';

export const version = '0.1.0';

export default definePlugin({
  kind: 'dataset',
  name: 'arc',
  version,
  packageName: '@bayes-peft/dataset-arc',
  description: "ARC-Challenge and ARC-Easy (allenai/ai2_arc) multiple-choice QA with the reference's prompt template and 5 labels A-E",
  options: ArcOptions,
  register(container, options) {
    container.register(ARC_OPTIONS, { useValue: options });
    container.register(TOKENS.Dataset, { useClass: ArcDataset }, { lifecycle: Lifecycle.ContainerScoped });
  },
});
