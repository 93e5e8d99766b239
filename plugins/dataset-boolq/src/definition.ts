import type { McqDefinition } from '@bayes-peft/mcq';
import { BOOLQ_FIXED_LABELS, BOOLQ_REFERENCE_LABELS, formatBoolqRow } from './format';
import { BOOLQ_HUB_REPO, type BoolqOptions } from './options';

/** BoolQ as the reference's mcdataset `boolq` formats it (docs/reference-differences.md rows 56-58). */
export function boolqDefinition(options: BoolqOptions): McqDefinition {
  return {
    name: 'boolq',
    labels: options.compat.invertTargets ? BOOLQ_REFERENCE_LABELS : BOOLQ_FIXED_LABELS,
    repo: BOOLQ_HUB_REPO,
    subsetKey: 'boolq',
    format: (row, at) => formatBoolqRow(row, at, { passageMaxChars: options.passageMaxChars }),
  };
}
