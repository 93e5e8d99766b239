import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { boolqDefinition } from './definition';
import { BoolqOptions } from './options';

export { boolqDefinition } from './definition';
export { BoolqOptions, BOOLQ_HUB_REPO } from './options';
export { BOOLQ_REFERENCE_LABELS, BOOLQ_FIXED_LABELS, BOOLQ_TEMPLATE, BOOLQ_PASSAGE_MAX_CHARS, cutCodePoints, formatBoolqRow, type BoolqFormatOptions } from './format';

export const version = '0.1.0';

export default defineMcqDatasetPlugin({
  name: 'boolq',
  version,
  packageName: '@bayes-peft/dataset-boolq',
  description: "BoolQ (google/boolq) yes/no questions over a passage with the reference's template, passage cut to 1024 characters and its inverted True/False targets by default",
  options: BoolqOptions,
  define: boolqDefinition,
});
