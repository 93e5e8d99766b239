import { defineMcqDatasetPlugin } from '@bayes-peft/mcq';
import { commonsenseQaDefinition } from './definition';
import { CommonsenseQaOptions } from './options';

export { commonsenseQaDefinition } from './definition';
export { CommonsenseQaOptions, CSQA_HUB_REPO } from './options';
export { CSQA_LABELS, CSQA_TEMPLATE, formatCsqaRow } from './format';

export const version = '0.1.0';

export default defineMcqDatasetPlugin({
  name: 'commonsenseqa',
  version,
  packageName: '@bayes-peft/dataset-commonsenseqa',
  description: "CommonsenseQA (tau/commonsense_qa) five-choice QA A-E with the zero-shot template of the reference's cqa class",
  options: CommonsenseQaOptions,
  define: commonsenseQaDefinition,
});
