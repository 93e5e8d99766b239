import { getString } from '@bayes-peft/data';
import type { McqDefinition } from '@bayes-peft/mcq';
import { formatMmluRow, MMLU_LABELS } from './format';
import { MMLU_HUB_REPO, selectedSubjects, type MmluOptions } from './options';

/** MMLU-<group> (or a subject list): the config's rows of those subjects, as the reference filters `cais/mmlu` 'all'. */
export function mmluDefinition(options: MmluOptions): McqDefinition {
  const subjects = selectedSubjects(options);
  const wanted = new Set(subjects);
  return {
    name: options.group ? `MMLU-${options.group}` : `MMLU-${subjects.join('+')}`,
    labels: MMLU_LABELS,
    repo: MMLU_HUB_REPO,
    config: options.config,
    subsetKey: 'mmlu',
    format: formatMmluRow,
    keep: { test: (row) => wanted.has(getString(row, 'subject', { allowEmpty: true })), what: `rows of subjects ${subjects.join(', ')}` },
  };
}
