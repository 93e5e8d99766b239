import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { boolqDefinition } from './definition';
import { BoolqOptions } from './options';

export { boolqDefinition } from './definition';
export { BoolqOptions, BOOLQ_HUB_REPO } from './options';
export { BOOLQ_REFERENCE_LABELS, BOOLQ_FIXED_LABELS, BOOLQ_TEMPLATE, BOOLQ_PASSAGE_MAX_CHARS, cutCodePoints, formatBoolqRow, type BoolqFormatOptions } from './format';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineMcqDatasetPlugin({
  name: 'boolq',
  version,
  packageName: pkg.name,
  description: "BoolQ (google/boolq) yes/no questions over a passage with the reference's template, passage cut to 1024 characters and its inverted True/False targets by default",
  options: BoolqOptions,
  define: boolqDefinition,
});
