import type { McqDefinition } from '@bayes-peft/mcq';
import { formatPiqaRow, PIQA_LABELS } from './format';
import { PIQA_HUB_REPO, type PiqaOptions } from './options';

/** PIQA: goal plus two solutions, labels A/B. */
export function piqaDefinition(_options: PiqaOptions): McqDefinition {
  return { name: 'piqa', labels: PIQA_LABELS, repo: PIQA_HUB_REPO, subsetKey: 'piqa', format: formatPiqaRow };
}
