import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { arcDefinition } from './arc-dataset';
import { ArcOptions } from './options';

export { ArcDataset, arcDefinition } from './arc-dataset';
export { ArcOptions, ARC_HUB_REPO } from './options';
export { ARC_LABELS, ARC_TEMPLATE, arcClass, formatArcRow, type ArcFormatOptions } from './format';

export const version = '0.1.0';

export default defineMcqDatasetPlugin({
  name: 'arc',
  version,
  packageName: '@bayes-peft/dataset-arc',
  description: "ARC-Challenge and ARC-Easy (allenai/ai2_arc) multiple-choice QA with the reference's prompt template and 5 labels A-E",
  options: ArcOptions,
  define: arcDefinition,
});
