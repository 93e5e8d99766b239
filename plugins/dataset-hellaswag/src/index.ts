import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { hellaswagDefinition } from './definition';
import { HellaswagOptions } from './options';

export { hellaswagDefinition } from './definition';
export { HellaswagOptions, HELLASWAG_HUB_REPO } from './options';
export { HELLASWAG_LABELS, HELLASWAG_TEMPLATE, formatHellaswagRow } from './format';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineMcqDatasetPlugin({
  name: 'hellaswag',
  version,
  packageName: pkg.name,
  description: "HellaSwag (Rowan/hellaswag) sentence endings, four choices A-D, in a prompt designed after the reference's ARC template",
  options: HellaswagOptions,
  define: hellaswagDefinition,
});
