import type { McqDefinition } from '@bayes-peft/mcq';
import { formatObqaRow, OBQA_LABELS } from './format';
import { OBQA_HUB_REPO, type OpenBookQaOptions } from './options';

/** OpenBookQA as the reference's mcdataset `obqa` formats it (docs/reference-differences.md row 55). */
export function openBookQaDefinition(options: OpenBookQaOptions): McqDefinition {
  return {
    name: 'obqa',
    labels: OBQA_LABELS,
    repo: OBQA_HUB_REPO,
    config: options.config,
    subsetKey: 'openbookqa',
    format: (row, at) => formatObqaRow(row, at, { referencePrompt: options.compat.referencePrompt }),
  };
}
