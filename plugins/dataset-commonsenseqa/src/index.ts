import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { commonsenseQaDefinition } from './definition';
import { CommonsenseQaOptions } from './options';

export { commonsenseQaDefinition } from './definition';
export { CommonsenseQaOptions, CSQA_HUB_REPO } from './options';
export { CSQA_LABELS, CSQA_TEMPLATE, formatCsqaRow } from './format';

// Read at run time: package.json sits outside the compiled sources (changesets bumps it).
const pkg = require('../package.json') as { name: string; version: string };
export const version: string = pkg.version;

export default defineMcqDatasetPlugin({
  name: 'commonsenseqa',
  version,
  packageName: pkg.name,
  description: "CommonsenseQA (tau/commonsense_qa) five-choice QA A-E with the zero-shot template of the reference's cqa class",
  options: CommonsenseQaOptions,
  define: commonsenseQaDefinition,
});
