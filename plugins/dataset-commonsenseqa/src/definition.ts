import type { McqDefinition } from '@bayes-peft/mcq';
import { CSQA_LABELS, formatCsqaRow } from './format';
import { CSQA_HUB_REPO, type CommonsenseQaOptions } from './options';

/** CommonsenseQA with the reference's `cqa` zero-shot template. */
export function commonsenseQaDefinition(_options: CommonsenseQaOptions): McqDefinition {
  return { name: 'commonsenseqa', labels: CSQA_LABELS, repo: CSQA_HUB_REPO, subsetKey: 'commonsenseqa', format: formatCsqaRow };
}
