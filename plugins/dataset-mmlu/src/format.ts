import type { McqExample } from '@bayes-peft/core';
import { getString, getStringArray, RowError, type DataRow } from '@bayes-peft/data';
import { fillTemplate, indexAnswer, letterLabels, renderChoices, RETURN_LABEL_TEMPLATE, rowId, type RowPosition } from '@bayes-peft/mcq';

/** Four labels A-D. */
export const MMLU_LABELS = ['A', 'B', 'C', 'D'] as const;

/** The reference's MMLU template: its ARC template, choices `A) c0` .. `D) c3` (docs/methods.md, 'Multiple-choice prompts and targets'). */
export const MMLU_TEMPLATE = RETURN_LABEL_TEMPLATE;

/** One MMLU row (hub schema: question, subject, choices[4], answer 0-3) as an MCQ example; the id is `<split>-<index in the whole split>`. */
export function formatMmluRow(row: DataRow, at: RowPosition): McqExample {
  const question = getString(row, 'question');
  const texts = getStringArray(row, 'choices', { minLength: 2 });
  if (texts.length > MMLU_LABELS.length) throw new RowError(row.source, 'choices', `expected at most ${MMLU_LABELS.length} choices (labels A-D), got ${texts.length}`);
  const label = indexAnswer(row, 'answer', { count: texts.length });
  const choices = renderChoices(texts, letterLabels(texts.length));
  return { id: rowId(row, at), prompt: fillTemplate(MMLU_TEMPLATE, { question, choices }), label };
}
