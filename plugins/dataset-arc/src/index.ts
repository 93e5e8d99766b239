import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { arcDefinition } from './arc-dataset';
import { ArcOptions } from './options';

export { ArcDataset, arcDefinition } from './arc-dataset';
export { ArcOptions, ARC_HUB_REPO } from './options';
export { ARC_LABELS, ARC_TEMPLATE, arcClass, formatArcRow, type ArcFormatOptions } from './format';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineMcqDatasetPlugin({
  name: 'arc',
  version,
  packageName: pkg.name,
  description: "ARC-Challenge and ARC-Easy (allenai/ai2_arc) multiple-choice QA with the reference's prompt template and 5 labels A-E",
  options: ArcOptions,
  define: arcDefinition,
});
