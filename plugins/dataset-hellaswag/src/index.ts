import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { hellaswagDefinition } from './definition';
import { HellaswagOptions } from './options';

export { hellaswagDefinition } from './definition';
export { HellaswagOptions, HELLASWAG_HUB_REPO } from './options';
export { HELLASWAG_LABELS, HELLASWAG_TEMPLATE, formatHellaswagRow } from './format';

export const version = '0.1.0';

export default defineMcqDatasetPlugin({
  name: 'hellaswag',
  version,
  packageName: '@bayes-peft/dataset-hellaswag',
  description: "HellaSwag (Rowan/hellaswag) sentence endings, four choices A-D, in a prompt designed after the reference's ARC template",
  options: HellaswagOptions,
  define: hellaswagDefinition,
});
