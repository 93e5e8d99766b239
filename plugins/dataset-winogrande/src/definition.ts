import type { McqDefinition } from '@bayes-peft/mcq';
import { formatWinograndeRow, WINOGRANDE_LABELS } from './format';
import { WINOGRANDE_HUB_REPO, type WinograndeOptions } from './options';

/** WinoGrande of one training size, as the reference's `winogrande_<size>` formats it (docs/reference-differences.md row 59). */
export function winograndeDefinition(options: WinograndeOptions): McqDefinition {
  const config = `winogrande_${options.size}`;
  return {
    name: config,
    labels: WINOGRANDE_LABELS,
    repo: WINOGRANDE_HUB_REPO,
    config,
    subsetKey: 'winogrande',
    format: formatWinograndeRow,
    // The hub names every size's training split `train`; folders laid out like shared/data/winogrande hold train_<size>.jsonl.
    splitFallbacks: (split) => (split === 'train' ? [`train_${options.size}`] : []),
  };
}
