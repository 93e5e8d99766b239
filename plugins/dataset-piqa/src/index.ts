import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { piqaDefinition } from './definition';
import { PiqaOptions } from './options';

export { piqaDefinition } from './definition';
export { PiqaOptions, PIQA_HUB_REPO } from './options';
export { PIQA_LABELS, PIQA_TEMPLATE, formatPiqaRow } from './format';

export const version = '0.1.0';

export default defineMcqDatasetPlugin({
  name: 'piqa',
  version,
  packageName: '@bayes-peft/dataset-piqa',
  description: "PIQA (ybisk/piqa) physical commonsense, two solutions A/B, in a prompt designed after the reference's ARC template",
  options: PiqaOptions,
  define: piqaDefinition,
});
