import type { McqDefinition } from '@bayes-peft/mcq';
import { formatHellaswagRow, HELLASWAG_LABELS } from './format';
import { HELLASWAG_HUB_REPO, type HellaswagOptions } from './options';

/** HellaSwag: a context and four endings, labels A-D. */
export function hellaswagDefinition(_options: HellaswagOptions): McqDefinition {
  return { name: 'hellaswag', labels: HELLASWAG_LABELS, repo: HELLASWAG_HUB_REPO, subsetKey: 'hellaswag', format: formatHellaswagRow };
}
