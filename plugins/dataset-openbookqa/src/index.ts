import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { openBookQaDefinition } from './definition';
import { OpenBookQaOptions } from './options';

export { openBookQaDefinition } from './definition';
export { OpenBookQaOptions, OBQA_HUB_REPO } from './options';
export { OBQA_LABELS, OBQA_TEMPLATE, OBQA_FIXED_TEMPLATE, formatObqaRow, type ObqaFormatOptions } from './format';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineMcqDatasetPlugin({
  name: 'openbookqa',
  version,
  packageName: pkg.name,
  description: "OpenBookQA (allenai/openbookqa, main) four-choice science QA with the reference's prompt template, its 'Chioces' typo and swapped choices by default",
  options: OpenBookQaOptions,
  define: openBookQaDefinition,
});
